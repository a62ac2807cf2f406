// The cover kept on each enterprise (src/domain/cover.ts) must give the same figures as counting
// its policies, on any day, after every kind of write to policies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { addDays } from '../../src/clock.ts';
import { coverageCells } from '../../src/domain/coverage.ts';
import { rebuildCover, refreshStaleCover } from '../../src/domain/cover.ts';
import { expectedCells } from '../support/coverage.ts';
import { testBot, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
const TODAY = '2026-11-29';

beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(async () => t?.close());

/** Ledger cells by the product and by the independent count, on several days around today. */
async function agrees(
  days = [TODAY, addDays(TODAY, -7), addDays(TODAY, 3), addDays(TODAY, 40), addDays(TODAY, -200), addDays(TODAY, 400)],
) {
  for (const day of days) {
    const now = new Date(`${day}T08:00:00+08:00`);
    const ours = (await coverageCells(t.db, t.campaignId, day, now))
      .filter((c) => c.source === 'ledger')
      .map((c) => [c.sectorId, c.townshipId, c.insured, c.enterprises]);
    const theirs = (await expectedCells(t.db, t.campaignId, day, now))
      .filter((c) => c.source === 'ledger')
      .map((c) => [c.sectorId, c.townshipId, c.insured, c.total]);
    const key = (a: unknown[]) => `${a[0]}:${a[1]}`;
    expect(new Map(ours.map((c) => [key(c), c])), day).toEqual(new Map(theirs.map((c) => [key(c), c])));
  }
}

const say = (userId: string, text: string) => bus.handle({ channel: 'sandbox', userId, chatId: null, text });

describe('the kept cover', () => {
  it('is set by the demo seed, and agrees with the policies on days before, around and after today', async () => {
    expect(await t.db.enterprise.count({ where: { coverFrom: null } })).toBe(0);
    await agrees();
    expect(await rebuildCover(t.db, TODAY)).toEqual({ changed: 0, repaired: 0 });
  });

  it('follows /投保 and its /撤销', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({
      where: {
        status: 'operating',
        sector: { highRisk: true },
        policies: { none: { status: 'valid', endOn: { gte: TODAY } } },
      },
    });
    const insured = async () => (await t.db.enterprise.findUniqueOrThrow({ where: { id: e.id } })).coverHeadcount;
    expect(await insured()).toBeNull();
    const out = await say('demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-COVER-1 2026-11-20 2027-11-19 12`);
    expect(out.outcome).toBe('ok');
    expect(await insured()).toBe(12);
    await agrees();
    expect((await say('demo-insurer-pingan', '/撤销')).outcome).toBe('ok');
    expect(await t.db.policy.count({ where: { policyNo: 'PA-COVER-1', status: 'valid' } })).toBe(0);
    expect(await insured()).toBeNull();
    await agrees();
    expect(await rebuildCover(t.db, TODAY)).toEqual({ changed: 0, repaired: 0 });
  });

  it('counts an enterprise whose cover was forgotten (or is old) from its policies, and refreshes it at start', async () => {
    await t.db.enterprise.updateMany({
      where: { id: { lte: 40 } },
      data: { coverFrom: null, coverUntil: null, coverHeadcount: null },
    });
    await t.db.enterprise.updateMany({
      where: { id: { gt: 40, lte: 80 } },
      data: { coverFrom: '2020-01-01', coverUntil: '2020-12-31' },
    });
    await agrees();
    expect(await refreshStaleCover(t.db, TODAY)).toBe(80);
    expect(await refreshStaleCover(t.db, TODAY)).toBe(0);
    await agrees();
  });

  it('is repaired by the nightly rebuild when a writer changed policies without refreshing it', async () => {
    const p = await t.db.policy.findFirstOrThrow({
      where: {
        status: 'valid',
        startOn: { lte: TODAY },
        endOn: { gte: TODAY },
        enterprise: { status: 'operating', sector: { highRisk: true } },
      },
    });
    await t.db.policy.update({ where: { id: p.id }, data: { status: 'cancelled' } });
    const { changed, repaired } = await rebuildCover(t.db, TODAY);
    expect(changed).toBeGreaterThanOrEqual(1);
    expect(repaired).toBeGreaterThanOrEqual(1);
    await agrees();
    // The next night, stretches move to the new day and still agree.
    await rebuildCover(t.db, addDays(TODAY, 45));
    await agrees();
  });
});
