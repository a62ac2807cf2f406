import { describe, expect, it } from 'vitest';
import { content, obligation, reminderWorlds, runDay, world, KEYS, type World } from '../support/reminders.ts';

// The reminder ladder's rungs by audience (RUNGS in src/schedule/rules/01-obligations.ts): the unit's group with its
// liaisons, then its 责任人, then its 分管领导 (each through the app), then the county's leaders, on
// an injected clock over working days. An item due Tuesday 2026-12-01 is overdue by 1 working day
// on Wednesday, 2 on Thursday, 3 on Friday and 4 on Monday (the defaults escalate after 1, 2, 3).
reminderWorlds();

const TITLE = '阶梯测试：报送交通运输企业参保台账';

/** On each day, which audiences were told the item: the jtj group, its 责任人, its 分管领导, the leaders. */
async function heardOn(w: World, days: string[]) {
  const out: Record<string, string[]> = {};
  for (const day of days) {
    const from = (await w.db.outboxMessage.aggregate({ _max: { id: true } }))._max.id ?? 0;
    const r = await runDay(w, day);
    expect(r.state).toBe('ran');
    const rows = await w.db.outboxMessage.findMany({ where: { id: { gt: from } }, orderBy: { id: 'asc' } });
    out[day] = rows.filter((m) => content(m.payload).includes(TITLE)).map((m) => m.target);
  }
  return out;
}

describe('the ladder', () => {
  it('reaches the 责任人, then the 分管领导, then the leaders, each once per window', async () => {
    const w = await world();
    await obligation(w, 'jtj', TITLE, '2026-12-01');
    const heard = await heardOn(w, [
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-07',
    ]);
    expect(heard).toEqual({
      // Due soon, due today: the unit's group (mentioning its liaisons), once in the ladder's window.
      '2026-11-30': [KEYS.jtj],
      '2026-12-01': [],
      '2026-12-02': [],
      // The unit's second step (3 working days after its first), and the 责任人's first.
      '2026-12-03': [KEYS.jtj, 'demo-responsible-jtj'],
      '2026-12-04': ['demo-incharge-jtj'],
      '2026-12-07': [KEYS.leaders],
    });
    const toResponsible = await w.db.outboxMessage.findFirstOrThrow({ where: { target: 'demo-responsible-jtj' } });
    expect(content(toResponsible.payload)).toMatch(/^🔺 县交通运输局 有 \d+ 项事项逾期，请责任人督办：/);
    expect(toResponsible.channel).toBe('app');
    // Recorded on its rung, step by step.
    const steps = await w.db.reminderLedger.findMany({
      where: {
        rule: { startsWith: 'ladder-' },
        target: { in: (await w.db.obligation.findMany({ where: { title: TITLE } })).map((o) => `obligation:${o.id}`) },
      },
      orderBy: { id: 'asc' },
    });
    expect(steps.map((s) => `${s.rule} ${s.slot}`).sort()).toEqual([
      'ladder-in_charge 0',
      'ladder-leaders 0',
      'ladder-responsible 0',
      'ladder-unit 0',
      'ladder-unit 1',
    ]);
  });

  it('names a rung nobody is on in the run, and still climbs past it', async () => {
    const w = await world();
    await obligation(w, 'jtj', TITLE, '2026-12-01');
    await w.db.member.update({ where: { userId: 'demo-responsible-jtj' }, data: { active: false } });
    for (const day of ['2026-11-30', '2026-12-01', '2026-12-02']) await runDay(w, day);
    const thursday = await runDay(w, '2026-12-03');
    expect(thursday.unheard).toContainEqual({
      rule: 'obligationReminders',
      who: '县交通运输局',
      why: 'no_responsible',
    });
    const heard = await heardOn(w, ['2026-12-04']);
    expect(heard['2026-12-04']).toContain('demo-incharge-jtj');
  });
});
