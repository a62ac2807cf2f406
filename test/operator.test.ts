import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configErrorLine, loadConfig } from '../src/config.ts';

// What the operator reads when the service or a tool cannot start: one line naming the setting,
// in BOT_LOCALE's language (zh-CN unless en), and a non-zero exit.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(env)}`);
}

describe('configuration errors', () => {
  const bad: [setting: string, env: Record<string, string>][] = [
    ['PORT', { PORT: 'eighty' }],
    ['HOST', { HOST: 'http://x' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['BOT_TIMEZONE', { BOT_TIMEZONE: 'Mars/Base' }],
    ['BOT_LOCALE', { BOT_LOCALE: 'fr' }],
    ['BOT_LEASE_SECONDS', { BOT_LEASE_SECONDS: '1' }],
    ['CALLBACK_MAX_SKEW', { CALLBACK_MAX_SKEW: '-1' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['LOG_FORMAT', { LOG_FORMAT: 'xml' }],
    ['METRICS', { METRICS: 'maybe' }],
    ['METRICS_TOKEN', { METRICS_TOKEN: 'short' }],
    ['READY_MAX_DOWN_SECONDS', { READY_MAX_DOWN_SECONDS: 'soon' }],
    ['WECOM_VERIFY_FILE', { WECOM_VERIFY_FILE: 'verify.txt' }],
    ['HTTPS_PROXY', { HTTPS_PROXY: 'proxy:3128' }],
    ['HTTP_PROXY', { HTTP_PROXY: 'ftp://proxy' }],
    ['WECOM_API_BASE', { WECOM_API_BASE: 'qyapi' }],
    ['WECOM_OAUTH_BASE', { WECOM_OAUTH_BASE: 'open' }],
    ['WECOM_AGENT_ID', { WECOM_AGENT_ID: 'one' }],
    ['WECOM_APP_AES_KEY', { WECOM_APP_AES_KEY: 'short' }],
    ['WECOM_BOT_AES_KEY', { WECOM_BOT_AES_KEY: 'short' }],
    ['WECOM_BOT_MODE', { WECOM_BOT_MODE: 'stream' }],
    ['WECOM_BOT_WS_URL', { WECOM_BOT_WS_URL: 'https://x' }],
    ['PUBLIC_BASE_URL', { PUBLIC_BASE_URL: 'https://x/?q=1' }],
    ['SESSION_SECRET', { SESSION_SECRET: 'short' }],
  ];
  for (const [setting, env] of bad)
    it(`name ${setting}, in Chinese and in English`, () => {
      const e = configError(env);
      const zh = configErrorLine(e, 'zh-CN');
      const en = configErrorLine(e, 'en');
      expect(zh.startsWith(`配置错误：${setting}：`), zh).toBe(true);
      expect(zh, 'no English left in the Chinese line').not.toMatch(/\b(must|expected|invalid)\b/i);
      expect(en.startsWith(`configuration: ${setting}: must `), en).toBe(true);
      expect(zh).not.toContain('\n');
    });

  it('say what a half-configured channel lacks, and which mode settings are misplaced', () => {
    expect(configErrorLine(configError({ WECOM_BOT_TOKEN: 't' }), 'zh-CN')).toBe(
      '配置错误：智能机器人（回调）只配置了一部分：请设置 WECOM_BOT_AES_KEY（或删去其余几项）',
    );
    expect(configErrorLine(configError({ WECOM_BOT_ID: 'b', WECOM_BOT_SECRET: 's' }), 'zh-CN')).toContain(
      'WECOM_BOT_MODE=websocket',
    );
    const app = {
      WECOM_CORP_ID: 'ww1',
      WECOM_AGENT_ID: '1',
      WECOM_APP_SECRET: 's',
      WECOM_APP_TOKEN: 't',
      WECOM_APP_AES_KEY: KEY,
    };
    expect(configErrorLine(configError(app), 'zh-CN')).toMatch(/^配置错误：SESSION_SECRET：配置自建应用时必须设置/);
  });
});

describe('the service and the tools, as an operator runs them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anze-operator-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (script: string, args: string[], env: Record<string, string>) => {
    try {
      const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: `file:${join(dir, 'anze.db')}`, ...env },
      });
      return { code: 0, ...r };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, stdout: x.stdout, stderr: x.stderr };
    }
  };

  it('a bad setting stops the service with one line in Chinese naming it, exit 1, nothing written', async () => {
    const r = await run('src/main.ts', [], { PORT: 'eighty' });
    expect(r).toEqual({ code: 1, stdout: '', stderr: '配置错误：PORT：应为 1 到 65535 之间的端口号\n' });
    expect(existsSync(join(dir, 'anze.db'))).toBe(false);
  });

  it('the same in English with BOT_LOCALE=en', async () => {
    const r = await run('src/main.ts', [], { PORT: 'eighty', BOT_LOCALE: 'en' });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'configuration: PORT: must be a port number from 1 to 65535\n' });
  });

  it('a tool without its arguments prints its usage in the operator’s language and exits 2', async () => {
    expect(await run('src/cli/backup.ts', [], {})).toEqual({
      code: 2,
      stdout: '',
      stderr: '用法：npm run backup -- <file> [--force]\n',
    });
    expect((await run('src/cli/chat.ts', ['--bogus'], { BOT_LOCALE: 'en' })).stderr).toMatch(
      /Unknown option '--bogus'[\s\S]*\nusage: npm run chat -- --as <userid>/,
    );
    const remind = await run('src/cli/remind.ts', ['--now', 'someday'], {});
    expect(remind).toMatchObject({ code: 1, stderr: '配置错误：--now：“someday”不是时间\n' });
  });
});
