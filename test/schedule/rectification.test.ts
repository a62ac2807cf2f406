import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/clock.ts';
import { at, KEYS, queued, reminderWorlds, runDay, world } from '../support/reminders.ts';

// A rectification item (整改, #25 item 2) is an obligation of the enterprise's responsible unit:
// the reminder rules count it down before its deadline and climb the ladder after it, as any other.
reminderWorlds();

describe('a rectification item', () => {
  it('is counted down before its deadline and escalated on the ladder after it, until a policy closes it', async () => {
    const w = await world();
    const e = await w.db.enterprise.findFirstOrThrow({
      where: { status: 'operating', sector: { code: 'transport' } },
      orderBy: { id: 'asc' },
    });
    w.clock.set(at('2026-11-30', '08:30'));
    const out = await w.bus.handle({
      channel: 'sandbox',
      userId: 'demo-liaison-jtj',
      chatId: null,
      text: `/检查 ${e.creditCode} 未续保 2026-12-09`,
    });
    expect(out.outcome).toBe('ok');
    const item = await w.db.obligation.findFirstOrThrow({ where: { finding: 'lapsed' }, orderBy: { id: 'desc' } });
    for (let day = '2026-11-30'; day <= '2026-12-18'; day = addDays(day, 1)) await runDay(w, day);
    const told = (await queued(w.db, KEYS.jtj)).filter((m) => m.text.includes(`#${item.id} `));
    // The inspection's own notice, then reminders before the deadline and after it.
    expect(told[0]!.text).toContain('整改事项');
    expect(told.some((m) => m.day > '2026-11-30' && m.day <= '2026-12-09')).toBe(true);
    expect(told.some((m) => m.day > '2026-12-09' && m.text.includes(`🔴 #${item.id} `))).toBe(true);
    expect(await w.db.reminderLedger.count({ where: { target: `obligation:${item.id}` } })).toBeGreaterThan(1);

    // Once closed by a policy covering everyone, nothing more is said of it.
    w.clock.set(at('2026-12-21', '08:30'));
    const insured = await w.bus.handle({
      channel: 'sandbox',
      userId: 'demo-insurer-pingan',
      chatId: null,
      text: `/投保 ${e.creditCode} 平安 RECT-LADDER 2026-12-21 2027-12-20 ${e.employees}`,
    });
    expect(insured.text).toContain(`✅ 整改事项 #${item.id} `);
    const before = (await queued(w.db, KEYS.jtj)).length;
    for (let day = '2026-12-21'; day <= '2027-01-08'; day = addDays(day, 1)) await runDay(w, day);
    expect((await queued(w.db, KEYS.jtj)).slice(before).filter((m) => m.text.includes(`#${item.id} `))).toEqual([]);
  });
});
