// The one answer to "which units lead this sector" (src/domain/directory.ts leadUnits), and the
// places that ask it: claims paid late, rectification owners, reports, visits, policies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadUnits } from '../../src/domain/directory.ts';
import { enterpriseSide } from '../../src/domain/visits.ts';
import { reportScope } from '../../src/domain/reports.ts';
import { testDb, type TestDb } from '../support/db.ts';

let t: TestDb;
beforeAll(async () => (t = await testDb({ demo: true })));
afterAll(async () => t?.close());

const sector = (code: string) => t.db.sector.findFirstOrThrow({ where: { campaignId: t.campaignId, code } });
const unit = (code: string) => t.db.unit.findFirstOrThrow({ where: { code } });

describe('the units leading a sector', () => {
  it('are the plan’s lead units only: 交通运输 is led by 交通局, other 规上 by none', async () => {
    expect((await leadUnits(t.db, (await sector('transport')).id)).map((u) => u.code)).toEqual(['jtj']);
    expect(await leadUnits(t.db, (await sector('other')).id)).toEqual([]);
  });

  it('come in the campaign’s order of units, not the order the responsibilities were written in, for everyone who asks', async () => {
    // 金属冶炼: 工信局 leads and 应急局 shares; made a second lead, 应急局 comes first (it is listed first).
    const metal = await sector('metal_smelting');
    const [yjj, kgj] = [await unit('yjj'), await unit('kgj')];
    expect(yjj.sortOrder).toBeLessThan(kgj.sortOrder);
    const rows = await t.db.sectorResponsibility.findMany({ where: { sectorId: metal.id }, orderBy: { id: 'asc' } });
    expect(rows.findIndex((r) => r.unitId === kgj.id)).toBeLessThan(rows.findIndex((r) => r.unitId === yjj.id));
    await t.db.sectorResponsibility.update({
      where: { sectorId_unitId: { sectorId: metal.id, unitId: yjj.id } },
      data: { role: 'lead' },
    });
    const leads = await leadUnits(t.db, metal.id);
    expect(leads).toEqual([
      { id: yjj.id, code: 'yjj', name: yjj.name, kind: 'department' },
      { id: kgj.id, code: 'kgj', name: kgj.name, kind: 'department' },
    ]);
    // Visits are confirmed on behalf of the enterprise by the same units, in the same order.
    const e = await t.db.enterprise.findFirstOrThrow({ where: { sectorId: metal.id }, orderBy: { id: 'asc' } });
    expect((await enterpriseSide(t.db, e.id)).leadUnits).toEqual(leads);
    // A report on the sector is the first lead's: the other is told whose it is.
    const asKgj = { id: kgj.id, code: kgj.code, name: kgj.name, kind: kgj.kind };
    expect(
      await reportScope(t.db, asKgj, { id: metal.id, code: metal.code, name: metal.name, highRisk: true }, null),
    ).toEqual({
      reason: 'not_lead',
      lead: yjj.name,
    });
  });
});
