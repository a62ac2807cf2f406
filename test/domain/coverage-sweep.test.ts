import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/clock.ts';
import { sweepLedger } from '../../src/domain/coverage-sweep.ts';
import { coverageCells, coverageCellsOver, coverageTrend, combine, type Cell } from '../../src/domain/coverage.ts';
import { generateCounty } from '../support/county.ts';
import { testDb, type TestDb } from '../support/db.ts';

// The trend's one sweep over the ledger (src/domain/coverage-sweep.ts) against counting each day on
// its own (coverageCells, as /覆盖率 counts a day): the same cells, every figure, on every day.

const TODAY = '2026-11-29';

/** Cells in one order, with every field compared. */
const sorted = (cells: Cell[]) =>
  [...cells].sort(
    (a, b) =>
      a.sectorId - b.sectorId ||
      (a.townshipId ?? -1) - (b.townshipId ?? -1) ||
      a.source.localeCompare(b.source) ||
      Number(a.part ?? false) - Number(b.part ?? false),
  );

/** Each day's cells counted on its own, at the same time of that day as the trend asks it. */
async function perDay(t: TestDb, asked: { day: string; now: Date }[]): Promise<Cell[][]> {
  const out: Cell[][] = [];
  for (const a of asked) out.push(await coverageCells(t.db, t.campaignId, a.day, a.now));
  return out;
}

const at = (t: TestDb, day: string) => ({
  day,
  now: new Date(t.clock.now().getTime() - (Date.parse(TODAY) - Date.parse(day))),
});

async function expectSame(t: TestDb, days: string[]) {
  const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
  const asked = days.map((d) => at(t, d));
  const swept = await coverageCellsOver(t.db, campaign, asked);
  const counted = await perDay(t, asked);
  // Not vacuous: ledger figures on the days, and insured enterprises among them.
  expect(counted.flat().filter((c) => c.source === 'ledger' && c.insured > 0).length).toBeGreaterThan(days.length);
  days.forEach((day, i) => expect({ day, cells: sorted(swept[i]!) }).toEqual({ day, cells: sorted(counted[i]!) }));
  return { swept, counted, campaign };
}

const weeks = (from: string, to: string) => {
  const days: string[] = [];
  for (let d = to; d >= from; d = addDays(d, -7)) days.unshift(d);
  return days;
};

describe('the trend swept once against each day counted (the demo county)', { timeout: 120_000 }, () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await testDb({ demo: true });
    // A progress report for a cell without ledger data, made mid-way: before it, the cell has none.
    const sector = await t.db.sector.findFirstOrThrow({ where: { campaignId: t.campaignId, code: 'fireworks' } });
    const unit = await t.db.unit.findFirstOrThrow({ where: { kind: 'township' } });
    await t.db.progressReport.create({
      data: {
        campaignId: t.campaignId,
        unitId: unit.id,
        sectorId: sector.id,
        townshipId: null,
        total: 40,
        insured: 30,
        reportedBy: 'demo-liaison-yjj',
        reportedAt: new Date('2026-10-01T10:00:00+08:00'),
      },
    });
  }, 120_000);
  afterAll(() => t.close());

  it('gives the same cells every week since the campaign took effect, and on days ahead', async () => {
    const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
    const days = [...weeks(addDays(TODAY, -7 * 60), TODAY), addDays(TODAY, 1), addDays(TODAY, 40), addDays(TODAY, 400)];
    if (campaign.effectiveOn < days[0]!) days.unshift(campaign.effectiveOn);
    await expectSame(t, days);
  });

  it('gives the trend the figures summed from each day counted on its own', async () => {
    const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
    const from = addDays(TODAY, -7 * 20);
    const trend = await coverageTrend(t.db, campaign, { by: 'high_risk' }, from, TODAY, t.clock.now());
    const highRisk = new Set(
      (await t.db.sector.findMany({ where: { campaignId: t.campaignId, highRisk: true } })).map((s) => s.id),
    );
    const counted = await perDay(
      t,
      trend.points.map((p) => at(t, p.day)),
    );
    expect(trend.points.map((p) => p.day)).toEqual(weeks(from, TODAY));
    expect(trend.points.map(({ day, earliestRoster, ...f }) => ({ day, ...f }))).toEqual(
      trend.points.map((p, i) => ({
        day: p.day,
        ...combine(counted[i]!.filter((c) => !c.part && highRisk.has(c.sectorId))),
      })),
    );
    expect(trend.points.some((p) => p.rate !== null && p.rate > 0)).toBe(true);
  });
});

// Counting each of a few hundred days on its own takes a while on PostgreSQL.
describe(
  'the trend swept once against each day counted (a generated county with a roster history)',
  { timeout: 180_000 },
  () => {
    let t: TestDb;
    let edges: string[];
    beforeAll(async () => {
      t = await testDb();
      ({ edges } = await generateCounty(t.db, t.campaignId, { n: 400, today: TODAY }));
    }, 180_000);
    afterAll(() => t.close());

    it('has what it is meant to have: lapses, cancellations, closings, additions, moves', async () => {
      const [cancelled, added, changed, lone] = await Promise.all([
        t.db.policy.count({ where: { status: 'cancelled' } }),
        t.db.enterpriseState.count({ where: { added: true } }),
        t.db.enterpriseState.count({ where: { added: false, enterprise: { states: { some: { added: true } } } } }),
        t.db.enterprise.count({ where: { states: { some: {} }, coverFrom: null } }),
      ]);
      expect([cancelled, added, changed, lone].every((n) => n > 5)).toBe(true);
    });

    it('gives the same cells every week over two years', async () => {
      await expectSame(t, weeks(addDays(TODAY, -7 * 110), addDays(TODAY, 60)));
    });

    it('gives the same cells on the days things change and the days before them', async () => {
      // Every 9th edge (a few hundred days): history rows, policy starts and ends, kept stretches.
      const days = edges.filter((_, i) => i % 9 === 0);
      expect(days.length).toBeGreaterThan(100);
      await expectSame(t, days);
    });

    it('reads the county in pages of ids and gives the same rows whatever their size', async () => {
      const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
      const sectors = await t.db.sector.findMany({ where: { campaignId: t.campaignId } });
      const days = weeks(addDays(TODAY, -7 * 60), TODAY);
      const scope = { countyCode: campaign.countyCode, sectors };
      const key = (r: { sectorId: number; townshipId: number }) => `${r.sectorId}:${r.townshipId}`;
      const rows = (d: Awaited<ReturnType<typeof sweepLedger>>) =>
        d.map((x) => [...x.rows].sort((a, b) => key(a).localeCompare(key(b))));
      const whole = await sweepLedger(t.db, scope, days);
      expect(rows(await sweepLedger(t.db, scope, days, 7))).toEqual(rows(whole));
      expect(rows(await sweepLedger(t.db, scope, days, 400))).toEqual(rows(whole));
      // Days asked out of order and twice are answered in the order asked.
      const shuffled = [days[5]!, days[1]!, days[5]!];
      expect(rows(await sweepLedger(t.db, scope, shuffled, 50))).toEqual([5, 1, 5].map((i) => rows(whole)[i]));
    });
  },
);
