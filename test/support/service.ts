import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import type { Config } from '../../src/config.ts';
import type { Db } from '../../src/db/client.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { sendersOf, type Channel } from '../../src/channels/channel.ts';
import { openChannels } from '../../src/channels/channels.ts';
import { startService, type Service } from '../../src/service.ts';
import { testConfig, type TestDb } from './db.ts';
import { FakeWeComApi, WeComSender } from './fake-wecom.ts';
import { wecomWire } from '../../src/wecom/messages.ts';

// The service as WeCom sees it, for the tests that go through real HTTP callbacks.

/** The official sample's self-built app (wecom.md): token, key and corpid. */
export const APP = {
  token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
  encodingAesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  corpId: 'ww1436e0e65a779aee',
};
export const BOT = { token: 'botToken123', encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' };

/** Both channels on, against a WeCom API at `apiBase` (the fake server). */
export function wecomConfig(t: TestDb, apiBase: string): Config {
  return {
    ...testConfig(t, apiBase),
    bot: BOT,
    app: { ...APP, agentId: '1000002', secret: 'app-secret' },
  };
}

/** Starts the service on the test database, with senders that play WeCom's side of both callbacks. */
export async function startWecomService(
  t: TestDb,
  apiBase: string,
  clock: Clock,
): Promise<{ service: Service; bot: WeComSender; app: WeComSender }> {
  const service = await startService(wecomConfig(t, apiBase), clock, () => {});
  const now = () => clock.now().getTime();
  return {
    service,
    bot: new WeComSender(service.url, '/wecom/bot', { ...BOT, receiveId: '' }, now),
    app: new WeComSender(service.url, '/wecom/app', { ...APP, receiveId: APP.corpId }, now),
  };
}

/** The channels of a configuration as a dispatcher on its own has them: senders, no routes or connection. */
export const sendingChannels = (config: Config, clock: Clock): Channel[] =>
  openChannels({ config, clock, log: () => () => {} });

/** A dispatcher as the service makes it (its real senders, the app's token on the test clock), against a fake WeCom on loopback. */
export async function fakeWeComDispatcher(
  t: TestDb,
  webhooks: string[],
): Promise<{ api: FakeWeComApi; base: string; dispatcher: Dispatcher }> {
  const api = new FakeWeComApi(APP.corpId, 'app-secret', () => t.clock.now().getTime());
  const base = await api.start();
  for (const key of webhooks) api.webhooks.add(key);
  const config = wecomConfig(t, base);
  return {
    api,
    base,
    dispatcher: new Dispatcher({
      wire: wecomWire,
      db: t.db,
      clock: t.clock,
      senders: sendersOf(sendingChannels(config, t.clock)),
    }),
  };
}

/** The rows every accepted message writes: what a refused callback must leave as it was. */
export async function callbackTrail(db: Db): Promise<{ inbound: number; audit: number; outbox: number }> {
  const [inbound, audit, outbox] = await Promise.all([
    db.inboundMessage.count(),
    db.auditEvent.count(),
    db.outboxMessage.count(),
  ]);
  return { inbound, audit, outbox };
}

/** One test per case: the callback is answered with its HTTP status, and nothing is written. */
export function itRefuses(cases: [name: string, send: () => Promise<Response>, status: number][], db: () => Db): void {
  for (const [name, send, status] of cases) {
    it(`refuses ${name}`, async () => {
      const before = await callbackTrail(db());
      expect((await send()).status).toBe(status);
      expect(await callbackTrail(db())).toEqual(before);
    });
  }
}

/** Polls until `probe` gives a value other than undefined, null or false (bounded: 10 s unless told), for what the service does after it answered. */
export async function until<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  ms = 10_000,
): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A port nothing listens on (PORT must be set, and 0 is not accepted). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export interface ServiceProcess {
  proc: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<void>;
}

/**
 * The service as `npm start` runs it (`node --import tsx src/main.ts`; or `entry`, such as the
 * compiled dist/src/main.js, or a release bundle's bin/anze serve), in its own process (in `cwd`, the checkout unless told), on the test database, with the AI bot's callback channel (BOT) against a WeCom API at `apiBase`; resolves
 * once it listens.
 */
export async function startServiceProcess(
  t: Pick<TestDb, 'url'>,
  apiBase: string,
  env: Record<string, string> = {},
  entry = ['--import', 'tsx', 'src/main.ts'],
  cwd = ROOT,
): Promise<ServiceProcess> {
  const proc = spawn(process.execPath, entry, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: t.url,
      PORT: String(await freePort()),
      WECOM_API_BASE: apiBase,
      WECOM_BOT_TOKEN: BOT.token,
      WECOM_BOT_AES_KEY: BOT.encodingAesKey,
      BOT_CALENDAR_FILE: `${ROOT}prisma/calendar.json`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${out}`)), 45_000);
    const read = (d: Buffer) => {
      out += d;
      // The start-up line, in English or Chinese (BOT_LOCALE).
      const m = /(?:listening on|正在监听) (http:\/\/[^\s（("]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', read);
    proc.stderr!.on('data', read);
    void exited.then(() => reject(new Error(`the service exited (${proc.exitCode ?? proc.signalCode}):\n${out}`)));
  });
  return { proc, url, output: () => out, exited };
}

/** Kills a service process (SIGKILL unless told) and waits for it to be gone. */
export async function kill(s: ServiceProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill(signal);
  await s.exited;
}

/** What the service posted to an AI bot response_url (doc 101138): the code it used and the body. */
export interface Answered {
  code: string;
  body: { msgtype: string; markdown: { content: string } };
}

/**
 * WeCom's side of the AI bot's response_urls on loopback: each code answers once (a second use gets
 * errcode 40001, as WeCom answers), and every first answer is kept in `answered`.
 */
export async function responseUrls(): Promise<{
  answered: Answered[];
  url(code: string): string;
  close(): Promise<void>;
}> {
  const answered: Answered[] = [];
  const server = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const code = new URL(req.url ?? '/', 'http://x').searchParams.get('response_code') ?? '';
    const used = answered.some((a) => a.code === code);
    if (!used) answered.push({ code, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(used ? { errcode: 40001, errmsg: 'used' } : { errcode: 0, errmsg: 'ok' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    answered,
    url: (code) => `${base}/cgi-bin/aibot/response?response_code=${code}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** An AI bot template_card_event as doc 101027 shows it: event.template_card_event.{card_type, event_key, task_id}. */
export const cardPress = (o: {
  msgid: string;
  userid: string;
  chatid?: string | undefined;
  key: string;
  responseUrl?: string | undefined;
  taskId?: string;
}) => ({
  msgid: o.msgid,
  create_time: 1700000000,
  aibotid: 'AIBOTID',
  chatid: o.chatid,
  chattype: o.chatid ? 'group' : 'single',
  from: { userid: o.userid },
  ...(o.responseUrl ? { response_url: o.responseUrl } : {}),
  msgtype: 'event',
  event: {
    eventtype: 'template_card_event',
    template_card_event: { card_type: 'button_interaction', event_key: o.key, task_id: o.taskId ?? 'cardtask1' },
  },
});
