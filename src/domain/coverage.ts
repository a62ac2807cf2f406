import type { Tx } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';

// Coverage (参保率) of a campaign's scopes on a day. The source rule, used everywhere: a
// sector × township cell that has enterprises in the ledger (台账) is counted from the ledger; a
// cell without is taken from the latest progress report for it; a sector with neither falls back
// to its latest county-wide report. Every figure carries its source and "as of" time.

export type Source = 'ledger' | 'report';

export interface Cell {
  sectorId: number;
  townshipId: number | null;
  source: Source;
  /** In-scope enterprises: operating, and 规模以上 where the sector is not high-risk. */
  enterprises: number;
  insured: number;
  /** Headcount figures exist only for ledger cells: reports give enterprise counts. */
  employees: number;
  insuredPersons: number;
  asOf: Date;
  demo: boolean;
}

export interface TargetInForce { rateBp: number; dueOn: string; passed: boolean }

export interface SectorCoverage {
  sector: { id: number; code: string; name: string; highRisk: boolean };
  enterprises: number;
  insured: number;
  /** Insured ÷ in scope, or null when nothing is in scope. */
  rate: number | null;
  employees: number;
  insuredPersons: number;
  headcountRate: number | null;
  target: TargetInForce | null;
  /** Enterprises still to insure to meet the target. */
  gap: number;
  sources: Source[];
  /** The oldest figure used: now for the ledger, the report's time for a report. */
  asOf: Date | null;
  demo: boolean;
}

interface LedgerRow {
  sectorId: number; townshipId: number; known: number; enterprises: number; insured: number;
  employees: number; insuredPersons: number; demo: number;
}

const inScope = Prisma.sql`e.status = 'operating' AND (s."highRisk" = TRUE OR e."aboveScale" = TRUE)`;

/** One pass over the ledger: every sector × township cell that has enterprises, counted on `day`. */
async function ledgerCells(db: Tx, campaignId: number, day: string): Promise<LedgerRow[]> {
  const rows = await db.$queryRaw<Record<keyof LedgerRow, number | bigint | null>[]>`
    SELECT e."sectorId" AS "sectorId", e."townshipId" AS "townshipId",
      COUNT(*) AS "known",
      SUM(CASE WHEN ${inScope} THEN 1 ELSE 0 END) AS "enterprises",
      SUM(CASE WHEN ${inScope} AND p.headcount IS NOT NULL THEN 1 ELSE 0 END) AS "insured",
      SUM(CASE WHEN ${inScope} THEN e.employees ELSE 0 END) AS "employees",
      SUM(CASE WHEN ${inScope} AND p.headcount IS NOT NULL
          THEN (CASE WHEN p.headcount < e.employees THEN p.headcount ELSE e.employees END) ELSE 0 END) AS "insuredPersons",
      SUM(CASE WHEN e."isDemo" THEN 1 ELSE 0 END) AS "demo"
    FROM "Enterprise" e
    JOIN "Sector" s ON s.id = e."sectorId"
    JOIN "Campaign" c ON c.id = s."campaignId" AND c."countyCode" = e."countyCode"
    LEFT JOIN (
      SELECT "enterpriseId", MAX("insuredHeadcount") AS headcount FROM "Policy"
      WHERE status = 'valid' AND "startOn" <= ${day} AND "endOn" >= ${day}
      GROUP BY "enterpriseId"
    ) p ON p."enterpriseId" = e.id
    WHERE s."campaignId" = ${campaignId}
    GROUP BY e."sectorId", e."townshipId"`;
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v ?? 0)])) as unknown as LedgerRow);
}


/** All cells of a campaign on a day, by the source rule. */
export async function coverageCells(db: Tx, campaignId: number, day: string, now: Date): Promise<Cell[]> {
  const ledger = await ledgerCells(db, campaignId, day);
  const cells: Cell[] = ledger.map((r) => ({
    sectorId: r.sectorId, townshipId: r.townshipId, source: 'ledger', enterprises: r.enterprises, insured: r.insured,
    employees: r.employees, insuredPersons: r.insuredPersons, asOf: now, demo: r.demo > 0,
  }));
  const inLedger = new Set(ledger.map((r) => `${r.sectorId}:${r.townshipId}`));
  const sectorsInLedger = new Set(ledger.map((r) => r.sectorId));

  // Latest report per (sector, township), newest first; reports are few, so this stays in memory.
  const reports = await db.progressReport.findMany({
    where: { campaignId, reportedAt: { lte: now } },
    orderBy: [{ reportedAt: 'desc' }, { id: 'desc' }],
  });
  const latest = new Map<string, (typeof reports)[number]>();
  for (const r of reports) {
    const key = `${r.sectorId}:${r.townshipId ?? '*'}`;
    if (!latest.has(key)) latest.set(key, r);
  }
  const fromReport = (r: (typeof reports)[number]): Cell => ({
    sectorId: r.sectorId, townshipId: r.townshipId, source: 'report', enterprises: r.total, insured: r.insured,
    employees: 0, insuredPersons: 0, asOf: r.reportedAt, demo: r.isDemo,
  });
  const sectorsWithCells = new Set(sectorsInLedger);
  for (const r of latest.values()) {
    if (r.townshipId === null || inLedger.has(`${r.sectorId}:${r.townshipId}`)) continue;
    cells.push(fromReport(r));
    sectorsWithCells.add(r.sectorId);
  }
  for (const r of latest.values()) {
    if (r.townshipId === null && !sectorsWithCells.has(r.sectorId)) cells.push(fromReport(r));
  }
  return cells;
}

/** The target in force on a day: the next one still ahead, else the last one (past its date, still in force). */
export function targetInForce(targets: { scope: string; rateBp: number; dueOn: string }[], scopes: string[], day: string): TargetInForce | null {
  const mine = targets.filter((t) => scopes.includes(t.scope)).sort((a, b) => a.dueOn.localeCompare(b.dueOn) || b.rateBp - a.rateBp);
  const ahead = mine.find((t) => t.dueOn >= day);
  const t = ahead ?? mine.at(-1);
  return t ? { rateBp: t.rateBp, dueOn: t.dueOn, passed: t.dueOn < day } : null;
}

export function scopesOf(sector: { code: string; highRisk: boolean }): string[] {
  return sector.highRisk ? ['high_risk', `sector:${sector.code}`] : ['above_scale_other', 'above_scale', `sector:${sector.code}`];
}

export function gapTo(target: TargetInForce | null, enterprises: number, insured: number): number {
  return target ? Math.max(0, Math.ceil((target.rateBp * enterprises) / 10000) - insured) : 0;
}

/** Coverage per sector (the eight high-risk ones and other 规上), in the campaign's order. */
export async function coverageBySector(db: Tx, campaignId: number, day: string, now: Date): Promise<SectorCoverage[]> {
  const [sectors, targets, cells] = await Promise.all([
    db.sector.findMany({ where: { campaignId }, orderBy: { sortOrder: 'asc' } }),
    db.target.findMany({ where: { campaignId } }),
    coverageCells(db, campaignId, day, now),
  ]);
  return sectors.map((s) => {
    const mine = cells.filter((c) => c.sectorId === s.id);
    const sum = (f: (c: Cell) => number) => mine.reduce((n, c) => n + f(c), 0);
    const enterprises = sum((c) => c.enterprises);
    const insured = sum((c) => c.insured);
    const employees = sum((c) => c.employees);
    const insuredPersons = sum((c) => c.insuredPersons);
    const target = targetInForce(targets, scopesOf(s), day);
    const asOf = mine.length ? new Date(Math.min(...mine.map((c) => c.asOf.getTime()))) : null;
    return {
      sector: { id: s.id, code: s.code, name: s.name, highRisk: s.highRisk },
      enterprises, insured, rate: enterprises ? insured / enterprises : null,
      employees, insuredPersons, headcountRate: employees ? insuredPersons / employees : null,
      target, gap: gapTo(target, enterprises, insured),
      sources: [...new Set(mine.map((c) => c.source))].sort(),
      asOf, demo: mine.some((c) => c.demo),
    };
  });
}
