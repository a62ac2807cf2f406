import Database from 'better-sqlite3';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/clock.ts';
import { sqlitePath } from '../../src/db/client.ts';
import { EXPIRING_WITHIN_DAYS, exportInChild } from '../../src/domain/ledger-export.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

// A county big enough to break any unbounded `IN (…)` the export could build: 40,000 uninsured
// enterprises and 35,000 policies ending within 60 days, each more than SQLite's 32,766 bound values.
const UNINSURED = 40_000;
const EXPIRING = 35_000;
const DAY = '2026-11-29';

let t: TestDb;
let file: string;
let counts: Awaited<ReturnType<typeof exportInChild>>;
let sql: Database.Database;

/** Each sheet's data rows (exceljs' streaming reader can split a character at a chunk's edge: read whole). */
async function readSheets(path: string) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path);
  return (name: string) => {
    const rows = wb.getWorksheet(name)!.getSheetValues().slice(2).filter(Boolean) as ExcelJS.CellValue[][];
    return rows.map((r) => r.slice(1));
  };
}

beforeAll(async () => {
  t = await testDb({ provider: 'sqlite' });
  const sector = await t.db.sector.findFirstOrThrow({ where: { campaignId: t.campaignId, highRisk: true } });
  const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
  const township = await t.db.unit.findFirstOrThrow({ where: { countyCode: campaign.countyCode, kind: 'township' } });
  const insurer = await t.db.unit.findFirstOrThrow({ where: { countyCode: campaign.countyCode, kind: 'insurer' } });
  sql = new Database(sqlitePath(t.url));
  const stamp = t.clock.now().toISOString().replace('Z', '+00:00');
  const enterprise = sql.prepare(`INSERT INTO "Enterprise" ("countyCode", "creditCode", name, "sectorId", "townshipId",
    "aboveScale", employees, status, "isDemo", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, 0, 10, 'operating', 0, ?, ?)`);
  const policy = sql.prepare(`INSERT INTO "Policy" ("policyNo", "insurerId", "enterpriseId", "startOn", "endOn",
    "insuredHeadcount", status, "isDemo", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, 10, 'valid', 0, ?, ?)`);
  sql.transaction(() => {
    for (let i = 0; i < UNINSURED + EXPIRING; i++) {
      const id = Number(
        enterprise.run(campaign.countyCode, `BIG${i}`, `规模企业${i}`, sector.id, township.id, stamp, stamp)
          .lastInsertRowid,
      );
      // A third of the uninsured had a policy that lapsed; every other enterprise holds one ending
      // within 60 days, and every fourth of those has renewed already.
      if (i < UNINSURED) {
        if (i % 3 === 0) policy.run(`L${i}`, insurer.id, id, addDays(DAY, -400), addDays(DAY, -35), stamp, stamp);
        continue;
      }
      const endOn = addDays(DAY, i % (EXPIRING_WITHIN_DAYS + 1));
      policy.run(`E${i}`, insurer.id, id, addDays(endOn, -364), endOn, stamp, stamp);
      if (i % 4 === 0) policy.run(`R${i}`, insurer.id, id, addDays(endOn, 1), addDays(endOn, 365), stamp, stamp);
    }
  })();
  file = join(t.dir, 'scale.xlsx');
  counts = await exportInChild({
    databaseUrl: t.url,
    campaignId: t.campaignId,
    day: DAY,
    now: t.clock.now().toISOString(),
    locale: 'zh-CN',
    timeZone: TZ,
    file,
  });
}, 300_000);
afterAll(async () => {
  sql?.close();
  await t?.close();
});

describe('the export at a county’s real size', () => {
  it('is big enough that the old read (an include of every uninsured enterprise’s policies) fails', async () => {
    const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
    await expect(
      t.db.enterprise.findMany({
        where: {
          countyCode: campaign.countyCode,
          status: 'operating',
          NOT: { policies: { some: { status: 'valid', startOn: { lte: DAY }, endOn: { gte: DAY } } } },
        },
        include: { policies: { where: { status: 'valid' }, orderBy: { endOn: 'desc' }, take: 1 } },
      }),
    ).rejects.toThrow(/too many SQL variables|parameter/i);
  });

  it('writes, in a child process, every uninsured enterprise and expiring policy the database holds', async () => {
    const { uninsured } = sql
      .prepare(
        `SELECT count(*) AS uninsured FROM "Enterprise" e JOIN "Sector" s ON s.id = e."sectorId"
         WHERE e.status = 'operating' AND s."campaignId" = ? AND (s."highRisk" = 1 OR e."aboveScale" = 1)
         AND NOT EXISTS (SELECT 1 FROM "Policy" p WHERE p."enterpriseId" = e.id AND p.status = 'valid'
                         AND p."startOn" <= ? AND p."endOn" >= ?)`,
      )
      .get(t.campaignId, DAY, DAY) as { uninsured: number };
    const expiring = sql
      .prepare(
        `SELECT count(*) AS n, sum(EXISTS (SELECT 1 FROM "Policy" q WHERE q."enterpriseId" = p."enterpriseId"
           AND q.status = 'valid' AND q."endOn" > p."endOn")) AS renewed
         FROM "Policy" p WHERE p.status = 'valid' AND p."startOn" <= ? AND p."endOn" BETWEEN ? AND ?`,
      )
      .get(DAY, DAY, addDays(DAY, EXPIRING_WITHIN_DAYS)) as { n: number; renewed: number };
    expect(uninsured).toBe(UNINSURED);
    expect(expiring.n).toBe(EXPIRING);

    const sheet = await readSheets(file);
    const [unlisted, listed] = [sheet('未参保企业'), sheet('60天内到期保单')];
    expect(counts).toMatchObject({ uninsured, expiring: expiring.n });
    expect(unlisted).toHaveLength(uninsured);
    expect(listed).toHaveLength(expiring.n);
    // Lapsed ones show the end of their last policy; renewed ones are marked as such; soonest first.
    expect(unlisted.filter((r) => r[6] === addDays(DAY, -35))).toHaveLength(Math.ceil(UNINSURED / 3));
    expect(listed.filter((r) => r[9] === '已有后续保单')).toHaveLength(expiring.renewed);
    expect(listed.map((r) => r[0])).toEqual(listed.map((r) => r[0] as string).sort());
  });
});
