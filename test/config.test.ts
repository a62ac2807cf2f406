import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

describe('configuration', () => {
  it('runs in sandbox mode with no WeCom settings, on the defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      databaseUrl: 'file:./data/anze.db',
      timezone: 'Asia/Shanghai',
      locale: 'zh-CN',
      sandbox: true,
      wecomApiBase: 'https://qyapi.weixin.qq.com',
    });
  });

  it('turns a channel on when its settings are complete', () => {
    const c = loadConfig({ WECOM_BOT_TOKEN: 't', WECOM_BOT_AES_KEY: KEY, BOT_ADMINS: 'a, b，c' });
    expect(c.sandbox).toBe(false);
    expect(c.bot).toEqual({ token: 't', encodingAesKey: KEY });
    expect(c.app).toBeUndefined();
    expect(c.admins).toEqual(['a', 'b', 'c']);
  });

  it('stops on a half-configured channel, naming what is missing', () => {
    expect(() => loadConfig({ WECOM_CORP_ID: 'ww1', WECOM_APP_TOKEN: 't' })).toThrow(
      /WECOM_AGENT_ID, WECOM_APP_SECRET, WECOM_APP_AES_KEY/,
    );
    expect(() => loadConfig({ WECOM_BOT_TOKEN: 't' })).toThrow(/WECOM_BOT_AES_KEY/);
  });

  it('stops on a bad value, naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^PORT: /);
    expect(() => loadConfig({ BOT_TIMEZONE: 'Mars/Base' })).toThrow(/^BOT_TIMEZONE: /);
    expect(() => loadConfig({ WECOM_BOT_TOKEN: 't', WECOM_BOT_AES_KEY: 'short' })).toThrow(/^WECOM_BOT_AES_KEY: /);
    expect(() => loadConfig({ BOT_LOCALE: 'fr' })).toThrow(/^BOT_LOCALE: /);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/^DATABASE_URL: /);
  });

  it('takes a SQLite file or a PostgreSQL server as the database', () => {
    for (const url of [
      'file:/var/lib/anze/anze.db',
      'postgres://anze:secret@db.example:5432/anze',
      'postgresql://db.example/anze',
    ]) {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    }
    expect(() => loadConfig({ DATABASE_URL: 'postgres://' })).toThrow(/^DATABASE_URL: .*postgres:\/\//);
  });
});
