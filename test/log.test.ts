import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { configSecrets, createLogger, levelOfText, redactor, REDACTED } from '../src/log.ts';
import { testDb, type TestDb } from './support/db.ts';
import { appTextXml, botTextMessage, FakeWeComApi, WeComSender } from './support/fake-wecom.ts';
import { APP, BOT, kill, startServiceProcess, until, type ServiceProcess } from './support/service.ts';

const clock = fixedClock('2026-11-29T08:00:00+08:00');

/** A logger writing JSON lines into an array. */
function collecting(secrets: string[] = [], level: 'info' | 'trace' = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ clock, level, secrets, destination: { write: (l: string) => void lines.push(l) } });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the log', () => {
  it('writes JSON lines with the time of the clock, the level, the message and the context', () => {
    const { logger, records } = collecting();
    logger.child({ component: 'bus' }).info({ msgId: 'm1', command: 'coverage', durationMs: 12.5 }, 'command handled');
    logger.debug('not at info');
    expect(records()).toEqual([
      {
        time: '2026-11-29T00:00:00.000Z',
        level: 'info',
        pid: process.pid,
        component: 'bus',
        msgId: 'm1',
        command: 'coverage',
        durationMs: 12.5,
        msg: 'command handled',
      },
    ]);
  });

  it('redacts secret fields by name, at the top and one level down', () => {
    const { logger, lines } = collecting();
    logger.info({ token: 'tok-1', app: { secret: 'sec-1', corpId: 'ww1' }, sessionSecret: 'sess-1' }, 'x');
    expect(lines[0]).not.toMatch(/tok-1|sec-1|sess-1/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ token: REDACTED, app: { secret: REDACTED, corpId: 'ww1' } });
  });

  it("redacts the configuration's secret values anywhere: in messages, nested fields and error stacks, as is, escaped or URL-encoded", () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://anze:pa%24%24word"1@db.example:5432/anze',
      WECOM_CORP_ID: 'ww1',
      WECOM_AGENT_ID: '1000002',
      WECOM_APP_SECRET: 'app/secret+value=1',
      WECOM_APP_TOKEN: 'appTokenValue',
      WECOM_APP_AES_KEY: APP.encodingAesKey,
      SESSION_SECRET: 's'.repeat(40),
      METRICS: 'on',
      METRICS_TOKEN: 'metrics-token-0123456789',
    });
    const secrets = configSecrets(config);
    expect(secrets).toEqual(
      expect.arrayContaining([
        'app/secret+value=1',
        'appTokenValue',
        APP.encodingAesKey,
        's'.repeat(40),
        'pa$$word"1',
        'metrics-token-0123456789',
      ]),
    );
    const { logger, lines } = collecting(secrets);
    logger.info({ config }, 'configuration');
    logger.warn(`gettoken?corpid=ww1&corpsecret=${encodeURIComponent('app/secret+value=1')} failed`);
    logger.error({ err: new Error(`connect to ${config.databaseUrl} failed`) }, 'database');
    logger.info({ deep: { deeper: { value: `Bearer metrics-token-0123456789` } } }, 'nested');
    const all = lines.join('\n');
    for (const s of secrets) {
      expect(all).not.toContain(s);
      expect(all).not.toContain(encodeURIComponent(s));
      expect(all).not.toContain(JSON.stringify(s).slice(1, -1));
    }
    expect(all).toContain(REDACTED);
  });

  it('redacts secrets in URLs it was never told of: access_token, a webhook key, a password', () => {
    const scrub = redactor([]);
    expect(scrub('POST https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=AbC-123_x&debug=1')).toBe(
      `POST https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=${REDACTED}&debug=1`,
    );
    expect(scrub('"url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0a1b2c3d-aaaa"')).toBe(
      `"url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${REDACTED}"`,
    );
    expect(scrub('postgres://anze:secret@db:5432/anze and http://user:pw@proxy:8080')).toBe(
      `postgres://anze:${REDACTED}@db:5432/anze and http://user:${REDACTED}@proxy:8080`,
    );
    expect(scrub('nothing secret: https://example.gov.cn/a?b=c')).toBe('nothing secret: https://example.gov.cn/a?b=c');
  });

  it('formats the same lines for a person at a terminal (pino-pretty), redacted alike', async () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ clock, format: 'pretty', secrets: ['s3cret-value'], destination });
    logger.child({ component: 'bot' }).info({ command: 'coverage', durationMs: 3 }, 'handled with s3cret-value');
    await until(() => chunks.length > 0, 'the pretty line');
    expect(chunks.join('')).toMatch(
      /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] INFO: bot: handled with \[REDACTED\] \{"command":"coverage","durationMs":3\}\n$/,
    );
  });

  it("reads the level of the plain-text modules' lines from their wording", () => {
    expect(levelOfText('reminders for anhua on 2026-11-30: 3 queued')).toBe('info');
    expect(levelOfText('outbox #3 (webhook) failed: WeCom errcode 93000')).toBe('warn');
    expect(levelOfText('long connection: connect ECONNREFUSED 127.0.0.1:443')).toBe('warn');
    expect(levelOfText('long connection: connection closed (1006); reconnecting in 106 ms (attempt 1)')).toBe('warn');
    expect(levelOfText('long connection: subscribed as bot aibot-anhua')).toBe('info');
    expect(levelOfText('loaded 23 enterprises and 12 elements')).toBe('info');
    expect(levelOfText('command x failed: Error: boom\n    at run (file.ts:1:1)')).toBe('error');
  });
});

describe("a run's logs", () => {
  const APP_SECRET = 'app-secret-7f3a9c2e51';
  const SESSION_SECRET = 'session-secret-d41d8cd98f00b204e9800998ecf8427e';
  const METRICS_TOKEN = 'metrics-token-5e884898da28047151d0e56f8dc62927';
  const WEBHOOK_KEY = '9c1185a5-c5e9-4b07-8a3e-5d1f7c2a6b90';
  let t: TestDb;
  let api: FakeWeComApi;
  let proc: ServiceProcess;
  let output = '';

  beforeAll(async () => {
    t = await testDb({ demo: true });
    api = new FakeWeComApi(APP.corpId, APP_SECRET);
    api.webhooks.add(WEBHOOK_KEY);
    proc = await startServiceProcess(t, await api.start(), {
      LOG_LEVEL: 'trace',
      METRICS: 'on',
      METRICS_TOKEN,
      SESSION_SECRET,
      WECOM_CORP_ID: APP.corpId,
      WECOM_AGENT_ID: '1000002',
      WECOM_APP_SECRET: APP_SECRET,
      WECOM_APP_TOKEN: APP.token,
      WECOM_APP_AES_KEY: APP.encodingAesKey,
    });
    const bot = new WeComSender(proc.url, '/wecom/bot', { ...BOT, receiveId: '' }, Date.now);
    const app = new WeComSender(proc.url, '/wecom/app', { ...APP, receiveId: APP.corpId }, Date.now);
    const say = (msgid: string, userid: string, text: string, chatid?: string) =>
      bot.postBot(botTextMessage({ msgid, userid, text: `@安责险助手 ${text}`, ...(chatid ? { chatid } : {}) }));
    // A command, a robot's key given in chat and then used, a message to the app answered through
    // its API (a token fetched and used), a forged callback, /metrics with its token.
    expect((await say('log-1', 'demo-leader', '/覆盖率')).status).toBe(200);
    const url = `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WEBHOOK_KEY}`;
    expect((await say('log-2', 'demo-admin', `/群 东坪 ${url}`, 'chat-log-1')).status).toBe(200);
    expect((await say('log-3', 'demo-admin', '/交办 东坪 检查值班记录 2026-12-31', 'chat-log-1')).status).toBe(200);
    await until(() => api.calls.some((c) => c.path === '/cgi-bin/webhook/send' && c.target === WEBHOOK_KEY), 'a send');
    const xml = appTextXml({
      corpId: APP.corpId,
      from: 'demo-leader',
      text: '/我是谁',
      msgId: '9001',
      createTime: Math.floor(Date.now() / 1000),
    });
    expect((await app.postApp(xml)).status).toBe(200);
    await until(() => api.delivered.some((d) => d.kind === 'app'), 'the app reply');
    expect(
      (await bot.postBot(botTextMessage({ msgid: 'log-4', userid: 'x', text: 'x' }), { msg_signature: 'bad' })).status,
    ).toBe(403);
    const metrics = await fetch(`${proc.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).toBe(200);
    await kill(proc, 'SIGTERM');
    output = proc.output();
    if (process.env.SHOW_LOG) process.stdout.write(output);
  });

  afterAll(async () => {
    if (proc) await kill(proc);
    await api?.stop();
    await t?.close();
  });

  it('is JSON lines with time, level and message, the commands with their context', () => {
    const records = output
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records) expect(r).toMatchObject({ time: expect.any(String), level: expect.any(String) });
    expect(records.find((r) => r.command === 'coverage')).toMatchObject({
      level: 'info',
      msg: 'command handled',
      msgId: 'bot:log-1',
      channel: 'bot',
      user: 'demo-leader',
      outcome: 'ok',
      durationMs: expect.any(Number),
    });
    expect(records.find((r) => r.msg === 'configuration')).toMatchObject({
      level: 'debug',
      config: { app: { secret: REDACTED, token: REDACTED }, sessionSecret: REDACTED },
    });
    expect(records.some((r) => String(r.msg).startsWith('安责险助手正在监听 http://'))).toBe(true);
    expect(records.some((r) => r.level === 'warn' && /bot callback refused \(403\)/.test(String(r.msg)))).toBe(true);
    expect(records.find((r) => r.signal === 'SIGTERM')).toMatchObject({ level: 'info', msg: '收到 SIGTERM，正在停止' });
  });

  it('holds none of the secrets', () => {
    const secrets = {
      WECOM_BOT_TOKEN: BOT.token,
      WECOM_BOT_AES_KEY: BOT.encodingAesKey,
      WECOM_APP_SECRET: APP_SECRET,
      WECOM_APP_TOKEN: APP.token,
      WECOM_APP_AES_KEY: APP.encodingAesKey,
      SESSION_SECRET,
      METRICS_TOKEN,
      'the webhook key': WEBHOOK_KEY,
      ...Object.fromEntries(api.tokensIssued.map((tok, i) => [`access token ${i + 1}`, tok])),
    };
    expect(api.tokensIssued.length).toBeGreaterThan(0);
    for (const [name, secret] of Object.entries(secrets))
      expect(output.includes(secret) ? name : null, `${name} is in the log`).toBeNull();
  });
});
