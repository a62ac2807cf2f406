// Replicas: two or more instances on one PostgreSQL database behind one callback URL. In the
// "postgres" project only (SQLite deployments run one instance; test/db/lease.test.ts covers the
// lease on both databases).
//
// The failover test starts two service processes as `npm start` runs them, with the default lease,
// sends them the same callbacks (as a load balancer and WeCom's retries would) while a burst of
// reminders goes out, freezes the leader (SIGSTOP) and wakes it after a takeover, then kills the new
// leader (SIGKILL), and counts at the fake WeCom server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Inbox, type Accepted } from '../../src/bot/inbox.ts';
import { Registry } from '../../src/bot/registry.ts';
import { fixedClock, systemClock } from '../../src/clock.ts';
import { connectDatabase, type Db } from '../../src/db/client.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { webhookMarkdown } from '../../src/wecom/messages.ts';
import { WorkCalendar } from '../../src/domain/calendar.ts';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';
import { botTextMessage, FakeWeComApi, WeComSender } from '../support/fake-wecom.ts';
import { BOT, kill, startServiceProcess, until, type ServiceProcess } from '../support/service.ts';

let t: TestDb;
let other: Db; // a second instance's own connection
const children: ServiceProcess[] = [];

beforeAll(async () => {
  t = await testDb({ demo: true, provider: 'postgresql' });
  other = await connectDatabase(t.url);
});
afterAll(async () => {
  for (const c of children) await kill(c);
  await other?.$disconnect();
  await t?.close();
});

describe('two instances doing the same work at once', () => {
  it('run the daily reminders once: one runs, the other finds the run done', async () => {
    const clock = fixedClock('2026-11-30T09:00:00+08:00'); // a Monday
    const calendar = new WorkCalendar();
    const scheduler = (db: Db) =>
      new Scheduler({ db, clock, timeZone: TZ, locale: 'zh-CN', calendar, random: () => 0.5 });
    const runs = (await Promise.all([scheduler(t.db).runAt(clock.now()), scheduler(other).runAt(clock.now())])).map(
      (r) => r[0]!,
    );
    expect(runs.map((r) => r.state).sort()).toEqual(['already', 'ran']);
    const queued = runs.find((r) => r.state === 'ran')!.reminders.length;
    expect(queued).toBeGreaterThan(0);
    expect(await t.db.reminderLedger.count({ where: { rule: 'run' } })).toBe(1);
    expect(await t.db.reminderLedger.count({ where: { rule: { not: 'run' }, outboxId: { not: null } } })).toBe(queued);
    await t.db.outboxMessage.deleteMany();
  });

  it('handle a message that reaches both (a retry to another replica) once, and both answer it alike', async () => {
    const registry = await Registry.load();
    const inbox = (db: Db) =>
      new Inbox({ db, clock: t.clock, bus: new Bus({ db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry }) });
    const m: Accepted = {
      dedupeKey: 'bot:replica-msg',
      channel: 'bot',
      userId: 'demo-liaison-yjj',
      chatId: 'demo-chat-yjj',
      text: '/上报 危化 12/40 东坪 replica-race',
      replyVia: 'passive',
    };
    const audited = await t.db.auditEvent.count();
    const [p, q] = await Promise.all([inbox(t.db).receive(m), inbox(other).receive(m)]);
    expect(p.reply).toBe(q.reply);
    expect(p.reply).toContain('12');
    expect(await t.db.progressReport.count({ where: { note: 'replica-race' } })).toBe(1);
    expect(await t.db.inboundMessage.count({ where: { dedupeKey: 'bot:replica-msg', state: 'handled' } })).toBe(1);
    expect(await t.db.auditEvent.count()).toBe(audited + 1);
  });
});

describe('failover', () => {
  const HOOKS = Array.from({ length: 10 }, (_, i) => `replica-hook-${i}`);
  const PER_HOOK = 14; // one every 6 s per robot: well under 20 a minute, even with a resend
  const MESSAGES = 45;

  it('a paused leader is replaced within 30 s and sends nothing when it wakes; a killed one too; nothing lost, no repeats beyond one in flight', async () => {
    const api = new FakeWeComApi('wwreplica', 'secret');
    for (const h of HOOKS) api.webhooks.add(h);
    const apiBase = await api.start();
    try {
      const a = await startServiceProcess(t, apiBase);
      const b = await startServiceProcess(t, apiBase);
      children.push(a, b);
      const lease = () => t.db.lease.findUniqueOrThrow({ where: { name: 'leader' } });
      const pidOf = (holder: string) => Number(holder.split(':')[1]);
      const first = await lease();
      const [leader, follower] = pidOf(first.holder) === a.proc.pid ? [a, b] : [b, a];
      expect([a.proc.pid, b.proc.pid]).toContain(pidOf(first.holder));
      const role = async (s: ServiceProcess) =>
        ((await (await fetch(`${s.url}/healthz`)).json()) as { role: string }).role;
      expect([await role(leader), await role(follower)]).toEqual(['leader', 'follower']);
      const takeOver = async (by: ServiceProcess, since: number, token: number) => {
        const l = await until(
          async () => {
            const l = await lease();
            return pidOf(l.holder) === by.proc.pid ? l : undefined;
          },
          'a successor to take the lease',
          40_000,
        );
        const ms = Date.now() - since;
        expect(ms, `took over after ${ms} ms`).toBeLessThan(30_000);
        expect(l.token).toBe(token + 1);
        return l.token;
      };

      // The burst, spread as the scheduler spreads one: each robot's reminders 6 s apart. Its last
      // round comes later, due at once (see 2.).
      const start = Date.now();
      const burst = (from: number, to: number, due = (n: number) => new Date(start + n * 6_000)) =>
        t.db.$transaction(async (tx) => {
          for (let n = from; n < to; n++) {
            for (const h of HOOKS) await enqueue(tx, webhookMarkdown(h, `burst ${h} #${n}`), systemClock, due(n));
          }
        });
      await burst(0, PER_HOOK - 1);
      const delivered = () => api.delivered.filter((d) => d.target.startsWith('replica-hook-')).length;
      const sentUnder = (token: number) =>
        t.db.outboxMessage.count({ where: { target: { in: HOOKS }, fence: token, state: 'sent' } });

      // Callbacks meanwhile: each message to both instances at once (a retry that reached the other replica).
      const message = (i: number) =>
        botTextMessage({
          msgid: `replica-${i}`,
          userid: 'demo-liaison-yjj',
          chatid: 'demo-chat-yjj',
          text: `@安责险助手 /上报 危化 ${i % 40}/40 东坪 replica-${i}`,
        });
      const answers = new Map<number, string[]>();
      const post = async (s: ServiceProcess, i: number) => {
        const out = new WeComSender(s.url, '/wecom/bot', { ...BOT, receiveId: '' }, Date.now);
        const res = await out.postBot(message(i));
        expect(res.status).toBe(200);
        answers.set(i, [
          ...(answers.get(i) ?? []),
          (out.openBotReply(await res.json()) as { stream: { content: string } }).stream.content,
        ]);
      };
      for (let i = 0; i < 15; i++) await Promise.all([post(a, i), post(b, i)]);

      // 1. The leader freezes (SIGSTOP: a long GC pause, a suspended VM) once some reminders are out.
      await until(() => delivered() >= HOOKS.length * 2, 'the first reminders', 30_000);
      leader.proc.kill('SIGSTOP');
      const pausedAt = Date.now();
      for (let i = 15; i < 30; i++) await post(follower, i); // WeCom reaches the other replica meanwhile
      const second = await takeOver(follower, pausedAt, first.token);
      const beforeWake = await sentUnder(first.token);
      leader.proc.kill('SIGCONT');
      await until(() => leader.output().includes('no longer leading'), 'the woken leader to step down', 20_000);
      // It may finish the one send it was in when it froze, and claims nothing after.
      expect((await sentUnder(first.token)) - beforeWake).toBeLessThanOrEqual(1);

      // 2. The new leader dies (SIGKILL); the old one, now a follower, takes over.
      // It dies with a reminder in flight and the rest of the burst unsent, whatever the machine's
      // speed: the last round is queued now, WeCom holds back its answer to the first of it sent,
      // and the kill comes once it was.
      await until(async () => (await sentUnder(second)) >= HOOKS.length, 'reminders under the new leader', 30_000);
      let inFlight: string | undefined;
      let answer!: () => void;
      const answered = new Promise<void>((r) => (answer = r));
      api.holdAnswer = (d) => {
        const content = (d.body.markdown as { content?: string } | undefined)?.content ?? '';
        if (inFlight || !content.startsWith('burst ') || !content.endsWith(`#${PER_HOOK - 1}`)) return undefined;
        inFlight = content;
        return answered;
      };
      await burst(PER_HOOK - 1, PER_HOOK, () => new Date()); // due now
      await until(() => inFlight, 'a reminder of the last round in flight', 30_000);
      await kill(follower);
      const killedAt = Date.now();
      answer();
      api.holdAnswer = undefined;
      expect(delivered(), 'killed in the middle of the burst').toBeLessThan(HOOKS.length * PER_HOOK);
      for (let i = 30; i < MESSAGES; i++) await post(leader, i);
      await takeOver(leader, killedAt, second);
      expect(await role(leader)).toBe('leader');

      await until(
        async () =>
          (await t.db.outboxMessage.count({ where: { target: { in: HOOKS }, state: { not: 'sent' } } })) === 0,
        'the burst to be sent',
        90_000,
      );

      // Every reminder reached WeCom; a repeat only for one in flight at a failover, per robot.
      const times = api.timesDelivered('burst ');
      expect(times.size).toBe(HOOKS.length * PER_HOOK);
      expect(times.get(inFlight!), 'the reminder in flight at the kill, sent again').toBe(2);
      const repeats = [...times].filter(([, n]) => n > 1);
      expect(repeats.every(([, n]) => n === 2)).toBe(true);
      expect(repeats.length).toBeLessThanOrEqual(2);
      expect(api.calls.filter((c) => c.errcode === 45009)).toEqual([]);

      // Every message: answered alike by whoever got it, handled and reported once.
      for (let i = 0; i < MESSAGES; i++) {
        const said = answers.get(i) ?? [];
        expect(said.length, `answers to ${i}`).toBe(i < 15 ? 2 : 1);
        expect(new Set(said).size, `one answer to ${i}`).toBe(1);
        expect(said[0]).toContain('已记录');
        expect(await t.db.progressReport.count({ where: { note: `replica-${i}` } }), `report ${i}`).toBe(1);
        expect(
          await t.db.auditEvent.count({ where: { command: 'report', detail: { contains: `replica-${i}"` } } }),
          `audit of ${i}`,
        ).toBe(1);
      }
      expect(
        await t.db.inboundMessage.count({
          where: { dedupeKey: { startsWith: 'bot:replica-' }, state: { not: 'handled' } },
        }),
      ).toBe(0);
    } finally {
      await api.stop();
    }
  }, 240_000);
});
