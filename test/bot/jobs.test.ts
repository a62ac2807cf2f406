import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { JobRunner, type JobResult } from '../../src/bot/jobs.ts';
import { Registry } from '../../src/bot/registry.ts';
import { testBot, TZ, type TestDb } from '../support/db.ts';

// Slow commands as stored jobs (src/bot/jobs.ts): answered at once, made a few at a time beside
// the other messages, delivered through the outbox exactly once, across a restart.

let t: TestDb;
let bus: Bus;
let registry: Registry;
const say = (text: string, chatId: string | null = 'demo-chat-leaders') =>
  bus.handle({ channel: 'sandbox', userId: 'demo-leader', chatId, text });

/** A gate a job's work waits at, opened by the test: no timing involved. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}
/** The registry with /导出's work held at a gate (then done as usual). */
function held(g: { opened: Promise<void> }) {
  return new Registry(
    registry.specs.map((s) =>
      s.name === 'export'
        ? {
            ...s,
            background: async (...a: Parameters<NonNullable<typeof s.background>>): Promise<JobResult> => (
              await g.opened,
              s.background!(...a)
            ),
          }
        : s,
    ),
  );
}
const runner = (r: Registry, concurrency = 2) =>
  new JobRunner({ db: t.db, registry: r, clock: t.clock, timeZone: TZ, databaseUrl: t.url, concurrency });
const delivered = async () => ({
  files: await t.db.outboxMessage.count({ where: { payload: { contains: '"msgtype":"file"' } } }),
  texts: await t.db.outboxMessage.count({ where: { payload: { contains: '安化县安责险台账已导出' } } }),
});

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  registry = await Registry.load();
});
afterAll(() => t.close());

describe('jobs', () => {
  it('survive a restart: a job a stopped runner had started is run again and delivered exactly once', async () => {
    expect((await say('/导出')).text).toMatch(/^⏳ 正在生成…，完成后发到这里。/);
    const job = await t.db.job.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(job).toMatchObject({ kind: 'export', state: 'pending', userId: 'demo-leader', chatId: 'demo-chat-leaders' });

    // The first process takes the job, and stops (never to finish) in the middle of its work.
    const g = gate();
    const first = runner(held(g));
    await first.pump(); // resolves once the job is taken, its work started
    expect(await t.db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ state: 'running' });
    expect(await delivered()).toEqual({ files: 0, texts: 0 });

    // The next process finds it unfinished at start, runs it again, and delivers it.
    const next = runner(registry);
    await next.start();
    await next.drain();
    await next.close();
    expect(await t.db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ state: 'done', attempts: 2 });
    expect(await delivered()).toEqual({ files: 1, texts: 1 });

    // The first one's work, should it ever end, delivers nothing more; nor does another start.
    g.open();
    await first.drain();
    const again = runner(registry);
    await again.start();
    await again.drain();
    await again.close();
    expect(await delivered()).toEqual({ files: 1, texts: 1 });
  });

  it('run a few at a time while other messages are answered', async () => {
    const before = await delivered();
    for (let i = 0; i < 3; i++) await say('/导出');
    const g = gate();
    const r = runner(held(g), 2);
    await r.pump();
    const states = async () =>
      (await t.db.job.findMany({ where: { state: { in: ['pending', 'running'] } }, orderBy: { id: 'asc' } })).map(
        (j) => j.state,
      );
    expect(await states()).toEqual(['running', 'running', 'pending']);
    // Meanwhile the chats are answered: the jobs' work is held, and /覆盖率 is not.
    const reply = await say('/覆盖率');
    expect(reply.outcome).toBe('ok');
    expect(reply.text).toContain('参保率');
    expect(await states()).toEqual(['running', 'running', 'pending']);
    g.open();
    await r.drain();
    expect(await states()).toEqual([]);
    expect(await delivered()).toEqual({ files: before.files + 3, texts: before.texts + 3 });
  });
});
