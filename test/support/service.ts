import type { Clock } from '../../src/clock.ts';
import type { Config } from '../../src/config.ts';
import { startService, type Service } from '../../src/service.ts';
import type { TestDb } from './db.ts';
import { WeComSender } from './fake-wecom.ts';

// The service as WeCom sees it, for the tests that go through real HTTP callbacks.

/** The official sample's self-built app (wecom.md): token, key and corpid. */
export const APP = { token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo', encodingAesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', corpId: 'ww1436e0e65a779aee' };
export const BOT = { token: 'botToken123', encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' };

/** Both channels on, against a WeCom API at `apiBase` (the fake server). */
export function wecomConfig(t: TestDb, apiBase: string): Config {
  return {
    port: 0, databaseUrl: t.url, timezone: 'Asia/Shanghai', locale: 'zh-CN', admins: [], calendarFile: 'prisma/calendar.json', callbackMaxSkewSeconds: 300,
    wecomApiBase: apiBase, sandbox: false, bot: BOT, app: { ...APP, agentId: '1000002', secret: 'app-secret' },
  };
}

/** Starts the service on the test database, with senders that play WeCom's side of both callbacks. */
export async function startWecomService(t: TestDb, apiBase: string, clock: Clock): Promise<{ service: Service; bot: WeComSender; app: WeComSender }> {
  const service = await startService(wecomConfig(t, apiBase), clock, () => {});
  const now = () => clock.now().getTime();
  return {
    service,
    bot: new WeComSender(service.url, '/wecom/bot', { ...BOT, receiveId: '' }, now),
    app: new WeComSender(service.url, '/wecom/app', { ...APP, receiveId: APP.corpId }, now),
  };
}

/** Polls until `probe` gives a value (bounded: 10 s), for what the service does after it answered. */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}
