// A write outside any transaction, made while another request's interactive transaction is open,
// must not end up inside that transaction (and be rolled back with it): src/db/serial.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { Inbox } from '../../src/bot/inbox.ts';
import { testBot, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(async () => t?.close());

describe('queries outside a transaction, while one is open', () => {
  it('keep their writes when the open transaction rolls back', async () => {
    // The outside write is made once the transaction has written (so its BEGIN is open), and the
    // transaction stays open until that write is done or has had many turns of the event loop
    // (no clock: SQLite here does no I/O of its own, so a write that may run gets done in a few;
    // one that rightly waits for the transaction would wait for ever).
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    let outsideDone = false;
    const failing = t.db
      .$transaction(async (tx) => {
        await tx.auditEvent.create({ data: { at: t.clock.now(), channel: 'test', action: 'inside', outcome: 'ok' } });
        opened();
        for (let turn = 0; turn < 100 && !outsideDone; turn++) await new Promise((r) => setImmediate(r));
        throw new Error('rolled back');
      })
      .catch((e: Error) => e.message);
    await open;
    const outside = await t.db.auditEvent
      .create({ data: { at: t.clock.now(), channel: 'test', action: 'outside', outcome: 'ok' } })
      .finally(() => (outsideDone = true));
    expect(await failing).toBe('rolled back');
    expect(await t.db.auditEvent.findUnique({ where: { id: outside.id } })).not.toBeNull();
    expect(await t.db.auditEvent.count({ where: { action: 'inside' } })).toBe(0);
  });

  it("an inbox row accepted while another message's command is refused inside its transaction stays", async () => {
    const inbox = new Inbox({ db: t.db, bus, clock: t.clock });
    // A report for a township the liaison does not answer for: refused inside the command's transaction.
    const results = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) =>
        bus.handle({
          channel: 'sandbox',
          userId: 'demo-liaison-dongping',
          chatId: null,
          text: `/上报 危化 3/5 平口 refused-${i}`,
        }),
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        inbox.receive({
          dedupeKey: `serial-${i}`,
          channel: 'sandbox',
          userId: 'demo-leader',
          chatId: null,
          text: '/我是谁',
          replyVia: 'passive',
        }),
      ),
    ]);
    expect(results.slice(0, 5).every((r) => 'outcome' in r && r.outcome === 'invalid')).toBe(true);
    expect(await t.db.inboundMessage.count({ where: { dedupeKey: { startsWith: 'serial-' }, state: 'handled' } })).toBe(
      5,
    );
  });
});
