import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { authorizeUrl } from '../src/wecom/oauth.ts';

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
    expect(c.cjkFont).toBeUndefined();
  });

  it('reads the charts’ font file from BOT_CJK_FONT', () => {
    expect(loadConfig({ BOT_CJK_FONT: '/srv/fonts/NotoSansCJK-Regular.ttc' }).cjkFont).toBe(
      '/srv/fonts/NotoSansCJK-Regular.ttc',
    );
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

  it('takes the operations settings: HOST, LOG_LEVEL, LOG_FORMAT, METRICS, READY_MAX_DOWN_SECONDS', () => {
    expect(loadConfig({})).toMatchObject({ logLevel: 'info', metrics: { enabled: false }, readyMaxDownSeconds: 300 });
    expect(loadConfig({}).host).toBeUndefined();
    expect(
      loadConfig({
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        METRICS: 'on',
        METRICS_TOKEN: 'a-token-of-32-characters-or-so-0',
        READY_MAX_DOWN_SECONDS: '60',
      }),
    ).toMatchObject({
      host: '127.0.0.1',
      logLevel: 'debug',
      logFormat: 'json',
      metrics: { enabled: true, token: 'a-token-of-32-characters-or-so-0' },
      readyMaxDownSeconds: 60,
    });
    expect(loadConfig({ HOST: '::' }).host).toBe('::');
    expect(() => loadConfig({ HOST: 'http://x' })).toThrow(/^HOST: /);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/^LOG_LEVEL: /);
    expect(() => loadConfig({ METRICS: 'maybe' })).toThrow(/^METRICS: /);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/^METRICS_TOKEN: /);
  });

  it("takes WeCom's sign-in host beside its API host (政务微信, private deployments)", () => {
    expect(loadConfig({}).wecomOauthBase).toBe('https://open.weixin.qq.com');
    const c = loadConfig({
      WECOM_API_BASE: 'https://api.zwwx.example.gov.cn',
      WECOM_OAUTH_BASE: 'https://open.zwwx.example.gov.cn/',
    });
    expect(c.wecomApiBase).toBe('https://api.zwwx.example.gov.cn');
    expect(c.wecomOauthBase).toBe('https://open.zwwx.example.gov.cn');
    const to = new URL(
      authorizeUrl({
        corpId: 'ww1',
        agentId: '1000002',
        redirectUri: 'https://a/cb',
        state: 's',
        oauthBase: c.wecomOauthBase,
      }),
    );
    expect(`${to.origin}${to.pathname}`).toBe('https://open.zwwx.example.gov.cn/connect/oauth2/authorize');
    expect(() => loadConfig({ WECOM_OAUTH_BASE: 'open.weixin.qq.com' })).toThrow(/^WECOM_OAUTH_BASE: /);
  });

  it("reads WeCom's domain verification file, and stops naming the setting when it cannot", () => {
    const dir = mkdtempSync(join(tmpdir(), 'anze-verify-'));
    try {
      const file = join(dir, 'WW_verify_Ab12Cd34.txt');
      writeFileSync(file, 'Ab12Cd34\n');
      expect(loadConfig({ WECOM_VERIFY_FILE: file }).verifyFile).toEqual({
        name: 'WW_verify_Ab12Cd34.txt',
        content: 'Ab12Cd34',
      });
      expect(() => loadConfig({ WECOM_VERIFY_FILE: join(dir, 'WW_verify_missing.txt') })).toThrow(
        /^WECOM_VERIFY_FILE: cannot read/,
      );
      expect(() => loadConfig({ WECOM_VERIFY_FILE: join(dir, 'other.txt') })).toThrow(/^WECOM_VERIFY_FILE: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
