// Each insurer's service figures (/排名, the dashboard, the export) from grouped reads: claims,
// payments, overdue ones, the median days to payment, open disputes and agencies' findings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insurerService } from '../../src/domain/claims.ts';
import { testDb, type TestDb } from '../support/db.ts';

let t: TestDb;
beforeAll(async () => (t = await testDb()));
afterAll(async () => t?.close());

const TODAY = '2026-11-29';
const at = new Date('2026-11-29T08:00:00+08:00');

describe('insurers’ service', () => {
  it('counts, sums and ranks each insurer’s claims, disputes and findings, withdrawn ones aside', async () => {
    const db = t.db;
    const unit = (code: string) => db.unit.findFirstOrThrow({ where: { code } });
    const [life, pingan, yjj] = [await unit('chinalife-pc'), await unit('pingan-pc'), await unit('yjj')];
    const sector = await db.sector.findFirstOrThrow({ where: { campaignId: t.campaignId, code: 'fireworks' } });
    const township = await db.unit.findFirstOrThrow({ where: { kind: 'township' }, orderBy: { sortOrder: 'asc' } });
    const e = await db.enterprise.create({
      data: {
        countyCode: '430923',
        creditCode: '91430923MA4L000001',
        name: '理赔测试烟花厂',
        sectorId: sector.id,
        townshipId: township.id,
        employees: 20,
      },
    });
    const claim = (
      insurerId: number,
      reportedOn: string,
      claimedFen: number,
      paid?: [string, number],
      withdrawn = false,
    ) =>
      db.claim.create({
        data: {
          countyCode: '430923',
          enterpriseId: e.id,
          insurerId,
          accidentOn: reportedOn,
          reportedOn,
          claimedFen,
          ...(paid ? { paidOn: paid[0], paidFen: paid[1] } : {}),
          recordedBy: 'test',
          recordedAt: at,
          ...(withdrawn ? { withdrawnAt: at, withdrawnBy: 'test' } : {}),
        },
      });
    const dispute = (claimId: number, state: 'open' | 'closed' | 'withdrawn') =>
      db.claimDispute.create({
        data: {
          claimId,
          coordinatorId: yjj.id,
          reason: '金额',
          openedBy: 'test',
          openedAt: at,
          ...(state === 'closed' ? { closedAt: at, closedBy: 'test', outcome: 'upheld' } : {}),
          ...(state === 'withdrawn' ? { withdrawnAt: at, withdrawnBy: 'test' } : {}),
        },
      });
    // 人保 (listed first): paid in 2, 2 and 30 days; one unpaid past its 30 days, one within them; one withdrawn.
    await claim(life.id, '2026-09-01', 100_00, ['2026-09-03', 90_00]);
    await claim(life.id, '2026-09-01', 200_00, ['2026-09-03', 200_00]);
    const closed = await claim(life.id, '2026-10-01', 300_00, ['2026-10-31', 250_00]);
    const overdue = await claim(life.id, '2026-10-01', 400_00);
    const fresh = await claim(life.id, '2026-11-20', 500_00);
    const gone = await claim(life.id, '2026-10-01', 600_00, undefined, true);
    await dispute(closed.id, 'closed');
    await dispute(overdue.id, 'open');
    await dispute(fresh.id, 'withdrawn');
    await dispute(gone.id, 'open');
    // 平安: paid in 4 and 10 days; two open disputes on one claim; a finding, and one withdrawn.
    const p1 = await claim(pingan.id, '2026-11-01', 1_000_00, ['2026-11-05', 1_000_00]);
    await claim(pingan.id, '2026-11-02', 50_00, ['2026-11-12', 40_00]);
    await dispute(p1.id, 'open');
    await dispute(p1.id, 'open');
    const agency = await db.unit.findFirstOrThrow({ where: { code: 'aqw' } });
    for (const withdrawnAt of [null, at])
      await db.agencyFinding.create({
        data: {
          countyCode: '430923',
          agencyId: agency.id,
          insurerId: pingan.id,
          kind: withdrawnAt ? 'other' : 'claim',
          enterpriseId: e.id,
          claimId: p1.id,
          text: '理赔慢',
          recordedBy: 'test',
          recordedAt: at,
          withdrawnAt,
        },
      });

    const ranked = await insurerService(db, '430923', TODAY);
    const none = { visit_late: 0, visit_missing: 0, claim: 0, other: 0 };
    // Fewest overdue first: 平安 (none overdue, though with a finding and two disputes) before 人保.
    expect(ranked).toEqual([
      {
        rank: 1,
        item: {
          insurer: { id: pingan.id, code: 'pingan-pc', name: pingan.name },
          claims: 2,
          paid: 2,
          overdue: 0,
          claimedFen: 1_050_00,
          paidFen: 1_040_00,
          medianDays: 7,
          openDisputes: 2,
          findings: { ...none, claim: 1 },
        },
      },
      {
        rank: 2,
        item: {
          insurer: { id: life.id, code: 'chinalife-pc', name: life.name },
          claims: 5,
          paid: 3,
          overdue: 1,
          claimedFen: 1_500_00,
          paidFen: 540_00,
          medianDays: 2,
          openDisputes: 1,
          findings: none,
        },
      },
    ]);
  });

  it('judges each unpaid claim by the limit in force on its report day', async () => {
    // From 1 November claims are to be paid within 5 days: 人保's claim of 20 November is now overdue, the October one still by 30 days.
    await t.db.ruleSetting.create({
      data: { key: 'claim_payment_days', value: 5, effectiveOn: '2026-11-01', source: '测试' },
    });
    const ranked = await insurerService(t.db, '430923', TODAY);
    expect(ranked.map((r) => [r.item.insurer.code, r.item.overdue])).toEqual([
      ['pingan-pc', 0],
      ['chinalife-pc', 2],
    ]);
    expect(await insurerService(t.db, '430923', '2026-11-25')).toMatchObject([
      { item: { insurer: { code: 'pingan-pc' }, overdue: 0 } },
      { item: { insurer: { code: 'chinalife-pc' }, overdue: 1 } },
    ]);
  });
});
