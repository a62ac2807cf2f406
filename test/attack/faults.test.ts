// WeCom failing at a high rate on the outbox side — 45009 (rate limit), HTTP 5xx, no answer at
// all (timeouts), dropped connections, expired access tokens, a removed robot — on an injected
// clock: everything deliverable is delivered exactly once, the rest is failed and reported, and
// the dispatcher neither spins nor gives up on a message that could still go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { appText, webhookMarkdown, wecomWire } from '../../src/wecom/messages.ts';
import { AppApi, apiTimeout, sendWebhook } from '../../src/wecom/api.ts';
import { testDb, type TestDb } from '../support/db.ts';
import { FakeWeComApi } from '../support/fake-wecom.ts';

const HOOKS = ['fault-hook-a', 'fault-hook-b', 'fault-hook-c', 'fault-hook-d'];
const GONE = 'fault-hook-removed';
const LEADERS = 'demo-webhook-leaders';
const MEMBERS = ['demo-leader', 'demo-liaison-yjj', 'demo-liaison-jtj'];

let t: TestDb;
let api: FakeWeComApi;
const timeout = apiTimeout.ms;

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi('wwfaults', 'fault-secret', () => t.clock.now().getTime());
  for (const h of [...HOOKS, LEADERS]) api.webhooks.add(h);
  apiTimeout.ms = 150;
});

afterAll(async () => {
  apiTimeout.ms = timeout;
  await api?.stop();
  await t?.close();
});

describe('WeCom faults at a high rate', () => {
  it('delivers everything deliverable exactly once, fails and reports the rest, and stops', async () => {
    const base = await api.start();
    const random = prng(Number(process.env.FAULT_SEED ?? 7));
    // Half the calls fail, in every way WeCom and the network fail; some tokens expire early.
    api.fault = (path) => {
      if (path === '/cgi-bin/gettoken') return random() < 0.1 ? { status: 502 } : undefined;
      const r = random();
      if (r < 0.2) return 45009;
      if (r < 0.3) return { status: 500 + Math.floor(random() * 4) };
      if (r < 0.37) return 'hang';
      if (r < 0.42) return 'reset';
      if (r < 0.46) return -1; // 系统繁忙
      if (r < 0.5 && path === '/cgi-bin/message/send') return 42001;
      return undefined;
    };
    const app = new AppApi({ apiBase: base, corpId: 'wwfaults', secret: 'fault-secret', agentId: '1000002' }, () =>
      t.clock.now().getTime(),
    );
    const dispatcher = new Dispatcher({
      wire: wecomWire,
      db: t.db,
      clock: t.clock,
      random,
      senders: {
        webhook: async (row) => (await sendWebhook(base, row.target, JSON.parse(row.payload)), 'sent'),
        app: async (row) => (await app.sendMessage(JSON.parse(row.payload)), 'sent'),
      },
    });
    const expected: string[] = [];
    await t.db.$transaction(async (tx) => {
      for (let n = 0; n < 25; n++) {
        for (const h of HOOKS) {
          await enqueue(tx, webhookMarkdown(h, `fault ${h} ${n}`), t.clock);
          expected.push(`fault ${h} ${n}`);
        }
        if (n < 10)
          for (const m of MEMBERS) {
            await enqueue(tx, appText(m, `fault ${m} ${n}`), t.clock);
            expected.push(`fault ${m} ${n}`);
          }
      }
      for (let n = 0; n < 3; n++) await enqueue(tx, webhookMarkdown(GONE, `fault removed ${n}`), t.clock);
    });

    // The service's loop on the injected clock: 5 s a tick, or straight to the next retry when
    // nothing is due; within the day after which a message is given up.
    const start = t.clock.now().getTime();
    const open = () => t.db.outboxMessage.count({ where: { state: { in: ['pending', 'sending'] } } });
    for (let tick = 0; (await open()) > 0 && t.clock.now().getTime() - start < 20 * 3600_000; tick++) {
      await dispatcher.drain();
      const next = await t.db.outboxMessage.findFirst({
        where: { state: 'pending' },
        orderBy: { nextAttemptAt: 'asc' },
      });
      t.clock.set(new Date(Math.max(t.clock.now().getTime() + 5_000, next?.nextAttemptAt.getTime() ?? 0)));
      if (tick % 97 === 0) api.expireToken();
    }
    expect(await open(), 'everything settled').toBe(0);

    // Delivered exactly once each, whatever failed on the way.
    const content = (d: { body: Record<string, unknown> }) =>
      String(
        (d.body.markdown as { content?: string } | undefined)?.content ??
          (d.body.text as { content?: string } | undefined)?.content ??
          '',
      );
    const delivered = api.delivered.map(content).filter((c) => c.startsWith('fault '));
    expect(delivered.sort()).toEqual([...expected].sort());

    // The removed robot's messages failed at their first answer, and the admins heard of each
    // (the demo has no admins' group: its admin, through the app), never the leaders' group.
    const failed = await t.db.outboxMessage.findMany({ where: { state: 'failed' } });
    expect(failed.map((f) => f.target)).toEqual([GONE, GONE, GONE]);
    expect(failed.every((f) => f.lastError?.includes('93000'))).toBe(true);
    expect(api.delivered.filter((d) => d.target === LEADERS)).toEqual([]);
    const reports = api.delivered.filter((d) => d.kind === 'app' && d.target === 'demo-admin').map(content);
    expect(reports).toHaveLength(3);
    for (const r of reports) expect(r).toContain('93000');

    // No spinning: a bounded number of calls, WeCom's limit kept, and the faults really happened.
    const calls = api.calls.filter((c) => c.path !== '/cgi-bin/gettoken');
    expect(calls.length).toBeLessThan(expected.length * 6);
    expect(calls.filter((c) => c.errcode === 45009).length).toBeGreaterThan(20);
    const sentTimes = new Map<string, number[]>();
    for (const c of api.calls)
      if (c.path === '/cgi-bin/webhook/send' && c.errcode === 0)
        sentTimes.set(c.target, [...(sentTimes.get(c.target) ?? []), c.at]);
    for (const times of sentTimes.values())
      for (let i = 20; i < times.length; i++) expect(times[i]! - times[i - 20]!).toBeGreaterThanOrEqual(60_000);
  }, 120_000);
});
