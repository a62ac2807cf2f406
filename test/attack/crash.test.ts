// The service process (src/main.ts, as `npm start` runs it) is killed with SIGKILL at a random
// point, chosen by the test, while it answers a burst of callbacks (reports being written, coverage
// asked, unknown words) and sends a burst of reminders, then started again on the same database. Every
// acknowledged report exists; every message WeCom sent (and re-sent, for those never answered) is
// handled exactly once, with one audit event; every reminder reaches WeCom at least once, and at
// most once more for the one in flight per robot at the kill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { webhookMarkdown } from '../../src/wecom/messages.ts';
import { testDb, type TestDb } from '../support/db.ts';
import { botTextMessage, FakeWeComApi, WeComSender } from '../support/fake-wecom.ts';
import { BOT, kill, startServiceProcess, until, type ServiceProcess } from '../support/service.ts';

const HOOKS = Array.from({ length: 12 }, (_, i) => `crash-hook-${i}`);
const PER_HOOK = 15; // under WeCom's 20 a minute, even with one resend
const MESSAGES = 96;

let t: TestDb;
let api: FakeWeComApi;
let child: ServiceProcess | null = null;

const startChild = async (apiBase: string) => (child = await startServiceProcess(t, apiBase));

/** Message i: a report (written in a transaction), a coverage question (read only), or an unknown word. */
function message(i: number) {
  const kind = i % 3;
  const text = kind === 0 ? `/上报 危化 ${i % 40}/40 东坪 crash-${i}` : kind === 1 ? '/覆盖率' : `/不是命令-${i}`;
  const userid = kind === 0 ? 'demo-liaison-yjj' : 'demo-leader';
  return {
    kind,
    msg: botTextMessage({ msgid: `crash-msg-${i}`, userid, chatid: 'demo-chat-yjj', text: `@安责险助手 ${text}` }),
  };
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi('wwcrash', 'secret');
  for (const h of HOOKS) api.webhooks.add(h);
});

afterAll(async () => {
  if (child) await kill(child);
  await api?.stop();
  await t?.close();
});

describe('SIGKILL in the middle of a burst, then a restart', () => {
  it('loses no acknowledged report, handles every message once, and repeats at most one reminder per robot', async () => {
    const apiBase = await api.start();
    const first = await startChild(apiBase);
    const sender = (url: string) => new WeComSender(url, '/wecom/bot', { ...BOT, receiveId: '' }, Date.now);
    const delivered = () => api.delivered.filter((d) => d.target.startsWith('crash-hook-')).length;
    const reminders = (from: number, to: number) =>
      t.db.$transaction(async (tx) => {
        for (let n = from; n < to; n++)
          for (const h of HOOKS) await enqueue(tx, webhookMarkdown(h, `burst ${h} #${n}`), systemClock);
      });
    // The moment of the kill is random, but set by the test, not by how fast the machine is: after
    // `killAt` answers, with one reminder taken by WeCom and not yet answered (the `held`-th sent
    // from then on), while the next few callbacks come in. (The service gives up on an unanswered
    // call after 10 s; the kill comes within a poll or two of holding it.)
    const killAt = 10 + Math.floor(Math.random() * 50);
    const held = 1 + Math.floor(Math.random() * 40);
    const WAVE = 6;

    // Half the reminders, for the dispatcher's next tick; the callbacks come in meanwhile.
    await reminders(0, 7);

    // The burst of callbacks, six at a time; they stop before message `upTo` until the test moves it.
    const acknowledged = new Set<number>();
    let next = 0;
    let upTo = killAt;
    let dead = false;
    let gone = 0;
    const parked: (() => void)[] = [];
    const moveTo = (n: number) => {
      upTo = n;
      for (const wake of parked.splice(0)) wake();
    };
    const burst = (async () => {
      const s = sender(first.url);
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          try {
            for (;;) {
              while (next >= upTo && !dead) await new Promise<void>((r) => parked.push(r));
              if (dead || next >= MESSAGES) return;
              const i = next++;
              const res = await s.postBot(message(i).msg);
              if (res.status === 200 && s.openBotReply(await res.json())) acknowledged.add(i);
            }
          } catch {
            return; // the connection died with the process
          } finally {
            gone++;
          }
        }),
      );
    })();
    await until(() => parked.length + gone === 6, `the callbacks to stop at ${killAt}`, 60_000);

    // The other half of the reminders; WeCom keeps back its answer to the `held`-th sent from now.
    let sentSince = 0;
    let inFlight: string | undefined;
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    api.holdAnswer = (d) => {
      if (!d.target.startsWith('crash-hook-') || ++sentSince !== held) return undefined;
      inFlight = (d.body.markdown as { content: string }).content;
      return answered;
    };
    await reminders(7, PER_HOOK);
    await until(() => inFlight, `reminder ${held} to be in flight`, 60_000);

    // A few more callbacks; the kill comes once the service has taken one of them.
    const wave = Array.from({ length: WAVE }, (_, i) => `bot:crash-msg-${killAt + i}`);
    moveTo(killAt + WAVE);
    await until(
      async () => (await t.db.inboundMessage.count({ where: { dedupeKey: { in: wave } } })) > 0,
      'the next callbacks to reach the service',
      60_000,
    );
    await kill(first);
    dead = true;
    moveTo(MESSAGES);
    answer();
    api.holdAnswer = undefined;
    await burst;
    const atKill = { delivered: delivered(), acknowledged: acknowledged.size };
    expect(atKill.delivered, 'killed in the middle of the reminders').toBeLessThan(HOOKS.length * PER_HOOK);
    expect(atKill.acknowledged, 'killed in the middle of the callbacks').toBeLessThan(MESSAGES);

    // Every acknowledged report is there, before anything restarts.
    for (const i of acknowledged)
      if (message(i).kind === 0)
        expect(await t.db.progressReport.count({ where: { note: `crash-${i}` } }), `report ${i}`).toBe(1);

    // Restart; WeCom re-sends what got no answer (and the rest of its queue).
    const second = await startChild(apiBase);
    const s = sender(second.url);
    const unanswered = Array.from({ length: MESSAGES }, (_, i) => i).filter((i) => !acknowledged.has(i));
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let i = unanswered.shift(); i !== undefined; i = unanswered.shift()) {
          const res = await s.postBot(message(i).msg);
          expect(res.status).toBe(200);
          expect(s.openBotReply(await res.json())).toBeTruthy();
        }
      }),
    );
    await until(
      async () => (await t.db.outboxMessage.count({ where: { target: { in: HOOKS }, state: { not: 'sent' } } })) === 0,
      'the reminders to be sent',
      30_000,
    );

    // Each message: one inbound row, handled; one audit event; each report once.
    const inbound = await t.db.inboundMessage.findMany({ where: { dedupeKey: { startsWith: 'bot:crash-msg-' } } });
    expect(inbound).toHaveLength(MESSAGES);
    expect(inbound.filter((m) => m.state !== 'handled')).toEqual([]);
    for (let i = 0; i < MESSAGES; i++) {
      const { kind } = message(i);
      if (kind === 0) {
        expect(await t.db.progressReport.count({ where: { note: `crash-${i}` } }), `report ${i}`).toBe(1);
        expect(
          await t.db.auditEvent.count({ where: { command: 'report', detail: { contains: `crash-${i}"` } } }),
          `audit of ${i}`,
        ).toBe(1);
      }
      if (kind === 2)
        expect(
          await t.db.auditEvent.count({ where: { detail: { contains: `不是命令-${i}"` } } }),
          `audit of ${i}`,
        ).toBe(1);
    }
    expect(await t.db.auditEvent.count({ where: { command: 'coverage', actorUserId: 'demo-leader' } })).toBe(
      MESSAGES / 3,
    );

    // Every reminder reached WeCom; a repeat only for the one in flight at the kill, per robot.
    const times = api.timesDelivered('burst ');
    expect(times.size).toBe(HOOKS.length * PER_HOOK);
    expect(times.get(inFlight!), 'the reminder in flight at the kill, sent again').toBe(2);
    const repeats = [...times].filter(([, n]) => n > 1);
    expect(repeats.every(([, n]) => n === 2)).toBe(true);
    expect(repeats.length).toBeLessThanOrEqual(HOOKS.length);
    expect(new Set(repeats.map(([c]) => c.split(' ')[1])).size).toBe(repeats.length);

    await kill(second, 'SIGTERM');
  }, 120_000);
});
