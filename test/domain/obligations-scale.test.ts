import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/clock.ts';
import { BATCH } from '../../src/db/batches.ts';
import { openObligations, overdueCount } from '../../src/domain/obligations.ts';
import { testDb, type TestDb } from '../support/db.ts';

// More open obligations than SQLite binds values (32,766): Prisma binds every parent's id for an
// `include`, so reading them at once failed with P2029 and took the leader's start-up with it.
const OPEN = 33_000;
const DAY = '2026-11-29';

let t: TestDb;
/** Open obligations the test county starts with (its duties' own). */
let before: number;

beforeAll(async () => {
  t = await testDb({ provider: 'sqlite' });
  before = await t.db.obligation.count({
    where: { campaignId: t.campaignId, status: { not: 'done' }, withdrawnAt: null },
  });
  const units = await t.db.unit.findMany({ where: { kind: 'township' }, take: 3, orderBy: { id: 'asc' } });
  const at = t.clock.now();
  for (let i = 0; i < OPEN + 100; i += BATCH)
    await t.db.obligation.createMany({
      data: Array.from({ length: Math.min(BATCH, OPEN + 100 - i) }, (_, k) => {
        const n = i + k;
        return {
          campaignId: t.campaignId,
          unitId: units[n % 3]!.id,
          title: `任务${n}`,
          period: '2026',
          // Due days run backwards with the id, so the list's order is not the table's.
          dueOn: addDays(DAY, 30 - (n % 61)),
          // The last hundred are done or withdrawn: not open.
          ...(n >= OPEN ? (n % 2 ? { status: 'done', doneAt: at } : { withdrawnAt: at }) : {}),
          updatedAt: at,
        };
      }),
    });
  const extended = await t.db.obligation.findMany({ where: { title: { in: ['任务0', '任务1', '任务2'] } } });
  for (const o of extended)
    await t.db.obligationEvent.createMany({
      data: [
        { obligationId: o.id, toStatus: 'extended', dueOn: addDays(DAY, 5), at: new Date(at.getTime() - 60_000) },
        { obligationId: o.id, toStatus: 'extended', dueOn: addDays(DAY, 9), at },
      ],
    });
}, 120_000);
afterAll(() => t?.close());

describe('open obligations of a campaign with more of them than SQLite binds values', () => {
  it('reads them all, soonest first, each with its unit and its latest extension', async () => {
    const open = await openObligations(t.db, t.campaignId);
    expect(open).toHaveLength(before + OPEN);
    for (let i = 1; i < open.length; i++) {
      const [a, b] = [open[i - 1]!, open[i]!];
      expect(a.dueOn < b.dueOn || (a.dueOn === b.dueOn && a.id < b.id)).toBe(true);
    }
    expect(open.every((o) => o.unit.id === o.unitId)).toBe(true);
    const first = open.find((o) => o.title === '任务0')!;
    expect(first.events.map((e) => e.dueOn)).toEqual([addDays(DAY, 9)]);
    expect(open.filter((o) => o.events.length)).toHaveLength(3);
  });

  it('of one unit, and counts the overdue ones without reading them', async () => {
    const all = await openObligations(t.db, t.campaignId);
    const unitId = all.find((o) => o.title === '任务0')!.unitId;
    const own = await openObligations(t.db, t.campaignId, [unitId]);
    expect(own.length).toBeGreaterThanOrEqual(OPEN / 3);
    expect(own.map((o) => o.id)).toEqual(all.filter((o) => o.unitId === unitId).map((o) => o.id));
    const overdue = all.filter((o) => o.dueOn < DAY).length;
    expect(overdue).toBeGreaterThan(0);
    expect(await overdueCount(t.db, t.campaignId, DAY)).toBe(overdue);
  });
});
