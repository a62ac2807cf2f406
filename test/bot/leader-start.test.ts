import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { startService } from '../../src/service.ts';
import { testBot, testConfig, type TestDb } from '../support/db.ts';

// The leader's start-up recovers what a predecessor left (the outbox, imports, the kept cover,
// missed reminder days) before it starts its work. A step that fails must not leave the work
// unstarted: once, a read that broke on a big county kept every job pending and the outbox idle.

let t: TestDb;
let bus: Bus;

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
});
afterAll(() => t.close());

it('starts the jobs and the outbox even when catching up on reminders fails', async () => {
  expect(
    (await bus.handle({ channel: 'sandbox', userId: 'demo-leader', chatId: 'demo-chat-leaders', text: '/导出' })).text,
  ).toMatch(/正在生成/);
  // Reminder settings no reader can parse (a hand edit): catching up on the missed days throws.
  await t.db.$executeRawUnsafe(`UPDATE "Campaign" SET "reminders" = '{not json'`);
  const lines: string[] = [];
  const service = await startService(testConfig(t), t.clock, (m) => lines.push(m));
  try {
    // The export job is run and delivered by the leader's job runner; wait for it (no timing asserted).
    for (let i = 0; i < 600; i++) {
      const job = await t.db.job.findFirstOrThrow({ orderBy: { id: 'desc' } });
      if (job.state === 'done') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await t.db.job.findFirstOrThrow({ orderBy: { id: 'desc' } })).toMatchObject({
      kind: 'export',
      state: 'done',
    });
    expect(await t.db.outboxMessage.count({ where: { payload: { contains: '"msgtype":"file"' } } })).toBe(1);
    expect(lines.join('\n')).toMatch(/catching up on reminders failed \(the leader's work starts anyway\)/);
    expect(lines.join('\n')).toMatch(/settings unreadable, not scheduled/);
  } finally {
    await service.close();
  }
}, 120_000);
