import type { Tx } from '../db/client.ts';
import { providerOfClient } from '../db/dialect.ts';
import { memoised, memoisedEach } from '../db/versions.ts';
import { addDays } from '../clock.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Translate } from '../i18n.ts';
import type { SectorRef } from './directory.ts';
import { historySpan } from './roster.ts';
import { sweepLedger, type LedgerDay, type LedgerRow } from './coverage-sweep.ts';

// Coverage (参保率) of a campaign's scopes on a day. The source rule, used everywhere: a
// sector × township cell that has enterprises in the ledger (台账) is counted from the ledger; a
// cell without is taken from the latest progress report for it; a sector with neither falls back
// to its latest county-wide report. A part never replaces the whole: in a sector without ledger
// data the county figure is its latest county-wide report, and a township's report counts for that
// township only (shown on the county line when newer); only without a county-wide report is the
// county figure the sum of the township reports, and it says so. Every figure carries its source
// and "as of" time.

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
  /**
   * A township's report in a sector whose county-wide report stands for the whole: it counts for
   * its township, never in a figure summed across townships.
   */
  part?: boolean;
  /** A ledger cell of a day before the roster's history starts: counted with the earliest roster known. */
  earliestRoster?: boolean;
}

export interface TargetInForce {
  rateBp: number;
  dueOn: string;
  passed: boolean;
}

type Num = number | bigint | null;
const num = (v: Num) => Number(v ?? 0);
const orNull = (v: Num | undefined) => (v === null || v === undefined ? null : Number(v));
/** Persons counted insured: the policy's headcount, at most the enterprise's employees. */
const capped = (headcount: number | null, employees: number) =>
  headcount === null ? 0 : Math.min(headcount, employees);

/** What counting a campaign's ledger needs to know of it; read once by whoever has it at hand. */
interface LedgerScope {
  id: number;
  countyCode: string;
  sectors: { id: number; highRisk: boolean }[];
}

async function ledgerScope(db: Tx, campaignId: number): Promise<LedgerScope> {
  const [{ countyCode }, sectors] = await Promise.all([
    db.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { countyCode: true } }),
    db.sector.findMany({ where: { campaignId }, select: { id: true, highRisk: true } }),
  ]);
  return { id: campaignId, countyCode, sectors };
}

/** Enterprises of a sector, township, status and scale: how many, and their summed figures. */
interface LedgerGroup {
  sectorId: number;
  townshipId: number;
  status: string;
  aboveScale: boolean | number;
  n: Num;
  employees: Num;
  demo: Num;
  insured: Num;
  persons: Num;
}

/** Enterprises grouped by sector, township, status and scale, summed into cells (known, and in scope). */
function tally(
  groups: LedgerGroup[],
  inScope: (g: LedgerGroup) => boolean,
  highRisk: Map<number, boolean>,
  kept = new Map<string, LedgerRow>(),
  sign = 1,
): Map<string, LedgerRow> {
  const add = (v: Num) => sign * num(v);
  for (const g of groups) {
    if (!highRisk.has(g.sectorId)) continue;
    const key = `${g.sectorId}:${g.townshipId}`;
    let row = kept.get(key);
    if (!row)
      kept.set(
        key,
        (row = {
          sectorId: g.sectorId,
          townshipId: g.townshipId,
          known: 0,
          enterprises: 0,
          insured: 0,
          employees: 0,
          insuredPersons: 0,
          demo: 0,
        }),
      );
    row.known += add(g.n);
    row.demo += add(g.demo);
    if (!inScope(g)) continue;
    row.enterprises += add(g.n);
    row.employees += add(g.employees);
    row.insured += add(g.insured);
    row.insuredPersons += add(g.persons);
  }
  return kept;
}

/**
 * Every sector × township cell that has enterprises in the ledger, counted on each of `days`, with
 * the roster of that day (src/domain/roster.ts). Every day is first counted with the roster as it
 * is, the fast way (currentCells, one pass for all days: today's figures as they always were). A
 * day before the county's last roster change is then corrected for the enterprises that changed
 * (or were added) after it — the only ones whose state on the day differs from their row — and a
 * day before the history starts is counted with the earliest roster known, and says so.
 */
function ledgerCells(db: Tx, scope: LedgerScope, days: string[]): Promise<LedgerDay[]> {
  // Kept while the ledger's tables are not written (src/db/versions.ts): on a large county this
  // pass is most of a reply's work, and chat messages mostly read. Everything else it depends on is
  // in the key; progress reports, written by /上报, are read afresh by every caller.
  // Kept day by day, so that /上报's check against today's ledger finds what /覆盖率 counted.
  const sectors = scope.sectors
    .map((s) => `${s.id}${s.highRisk ? '*' : ''}`)
    .sort()
    .join(',');
  const keys = days.map((day) => `ledger ${scope.countyCode} ${sectors} ${day}`);
  return memoisedEach(db, keys, LEDGER_TABLES, (missing) =>
    countLedger(
      db,
      scope,
      missing.map((i) => days[i]!),
    ),
  );
}

/** What the ledger's figures are read from: the enterprises, their roster history and their policies. */
const LEDGER_TABLES = ['Enterprise', 'EnterpriseState', 'Policy'] as const;

async function countLedger(db: Tx, scope: LedgerScope, days: string[]): Promise<LedgerDay[]> {
  const [span, fast] = await Promise.all([historySpan(db, scope.countyCode), currentCells(db, scope, days)]);
  const highRisk = new Map(scope.sectors.map((s) => [s.id, s.highRisk]));
  const inScope = (g: LedgerGroup) =>
    g.status === 'operating' && (highRisk.get(g.sectorId) === true || Boolean(g.aboveScale));
  return Promise.all(
    days.map(async (day, i) => {
      const rows = fast[i]!;
      if (!span || day >= span.last) return { rows, earliestRoster: false };
      const earliestRoster = day < span.first;
      // Most past days have nothing to correct: asked first, so the two grouped queries run only when needed.
      const changed = await db.$queryRaw<unknown[]>`SELECT 1 FROM (${changedAfter(scope.countyCode, day)}) c LIMIT 1`;
      if (!changed.length) return { rows, earliestRoster };
      const [then, now] = await Promise.all([
        changedSince(db, scope, day, 'then'),
        changedSince(db, scope, day, 'now'),
      ]);
      const kept = new Map(rows.map((r) => [`${r.sectorId}:${r.townshipId}`, r]));
      tally(now, inScope, highRisk, kept, -1);
      tally(then, inScope, highRisk, kept);
      return { rows: [...kept.values()].filter((r) => r.known > 0), earliestRoster };
    }),
  );
}

/**
 * The ids of a county's enterprises whose state on `day` differs from their Enterprise row: those
 * with a history row after the day, but for a lone first row that is no addition (the enterprise as
 * it still is: its history began after the day with nothing changed since).
 */
const changedAfter = (countyCode: string, day: string) => Prisma.sql`
  SELECT c."enterpriseId" FROM "EnterpriseState" c WHERE c."countyCode" = ${countyCode} AND c."validFrom" > ${day}
    AND (c.added OR EXISTS (SELECT 1 FROM "EnterpriseState" d WHERE d."enterpriseId" = c."enterpriseId" AND d."validFrom" < c."validFrom"))`;

/**
 * The enterprises with a roster change after `day`, grouped as currentCells counts them on the day
 * ('now': their Enterprise row) or as they stood on it ('then': their latest EnterpriseState row on
 * or before the day, else their earliest row, the earliest roster known; one whose history starts
 * with its addition after the day was on no roster then). Either way each counts its cover on the
 * day: its kept stretch where that holds the day, else its policies. One statement, grouped in
 * the database; the enterprises are found on the history's (countyCode, validFrom) index.
 */
async function changedSince(
  db: Tx,
  { countyCode }: LedgerScope,
  day: string,
  as: 'then' | 'now',
): Promise<LedgerGroup[]> {
  const state =
    as === 'then'
      ? Prisma.sql`s.id = COALESCE(
        (SELECT s1.id FROM "EnterpriseState" s1 WHERE s1."enterpriseId" = e.id AND s1."validFrom" <= ${day} ORDER BY s1."validFrom" DESC LIMIT 1),
        (SELECT s2.id FROM "EnterpriseState" s2 WHERE s2."enterpriseId" = e.id ORDER BY s2."validFrom" LIMIT 1))`
      : Prisma.sql`1 = 0`;
  const groups = await db.$queryRaw<LedgerGroup[]>`
    SELECT x."sectorId" AS "sectorId", x."townshipId" AS "townshipId", x.status AS status, x."aboveScale" AS "aboveScale",
      COUNT(*) AS n, SUM(x.employees) AS employees, SUM(CASE WHEN x."isDemo" THEN 1 ELSE 0 END) AS demo,
      COUNT(x.h) AS insured, SUM(CASE WHEN x.h IS NULL THEN 0 WHEN x.h < x.employees THEN x.h ELSE x.employees END) AS persons
    FROM (
      SELECT COALESCE(s."sectorId", e."sectorId") AS "sectorId", COALESCE(s."townshipId", e."townshipId") AS "townshipId",
        COALESCE(s.status, e.status) AS status, COALESCE(s."aboveScale", e."aboveScale") AS "aboveScale",
        COALESCE(s.employees, e.employees) AS employees, e."isDemo" AS "isDemo",
        CASE WHEN COALESCE(s.status, e.status) <> 'operating' THEN NULL
          WHEN e."coverFrom" <= ${day} AND e."coverUntil" >= ${day} THEN e."coverHeadcount"
          ELSE (SELECT MAX(p."insuredHeadcount") FROM "Policy" p
            WHERE p."enterpriseId" = e.id AND p.status = 'valid' AND p."startOn" <= ${day} AND p."endOn" >= ${day}) END AS h
      FROM "Enterprise" e
      LEFT JOIN "EnterpriseState" s ON ${state}
      WHERE e."countyCode" = ${countyCode}
        AND e.id IN (${changedAfter(countyCode, day)})
        AND NOT (s.id IS NOT NULL AND s."validFrom" > ${day} AND s.added)
    ) x
    GROUP BY x."sectorId", x."townshipId", x.status, x."aboveScale"`;
  // SQLite gives computed columns as BigInt: the keys are made numbers to match the sectors'.
  return groups.map((g) => ({ ...g, sectorId: Number(g.sectorId), townshipId: Number(g.townshipId) }));
}

/**
 * Every sector × township cell that has enterprises in the ledger, counted on each of `days` with
 * today's roster.
 * The counts come from each enterprise's kept cover (src/domain/cover.ts), read in one pass over
 * an index that holds every column counted; then the few enterprises whose kept stretch does not
 * hold one of the days (a week back, or a refresh pending) are counted from their policies
 * instead, for those days: one query for all days. Same figures as joining every enterprise to
 * its policies valid on the day.
 */
async function currentCells(db: Tx, { countyCode, sectors }: LedgerScope, days: string[]): Promise<LedgerRow[][]> {
  const highRisk = new Map(sectors.map((s) => [s.id, s.highRisk]));
  const inScope = (e: { sectorId: number; status: string; aboveScale: boolean | number }) =>
    e.status === 'operating' && (highRisk.get(e.sectorId) === true || Boolean(e.aboveScale));

  // Grouped by the index's own columns, so no expression is evaluated per enterprise.
  // Not awaited here: on PostgreSQL the three statements run at once, each on a connection of the
  // pool (the counts' and the two below); on SQLite, in turn, as before.
  const grouped = db.$queryRaw<LedgerGroup[]>`
    SELECT e."sectorId" AS "sectorId", e."townshipId" AS "townshipId", e.status AS status, e."aboveScale" AS "aboveScale",
      COUNT(*) AS n, SUM(e.employees) AS employees, SUM(CASE WHEN e."isDemo" THEN 1 ELSE 0 END) AS demo,
      COUNT(e."coverHeadcount") AS insured,
      SUM(CASE WHEN e."coverHeadcount" IS NULL THEN 0 WHEN e."coverHeadcount" < e.employees THEN e."coverHeadcount" ELSE e.employees END) AS persons
    FROM "Enterprise" e
    WHERE e."countyCode" = ${countyCode}
    GROUP BY e."sectorId", e."townshipId", e.status, e."aboveScale"`;

  // Each enterprise the kept counts got wrong for one of the days — its kept stretch misses the
  // day — counted on each day it misses with the largest headcount its valid policies insure then.
  // A stretch misses one of the days from `first` to `last` when it starts after the first or ends
  // before the last: one range on each of two indexes; the county's only (a database shared by ten
  // counties holds ten times as many), checked on each row found (`|| ''` keeps SQLite from trading
  // the two ranges for a scan of the county's index: 40× slower). PostgreSQL is given the county
  // plainly: it ANDs the ranges' bitmaps with the county index's and visits the county's rows only,
  // where the ranges alone visit every county's (10 counties: 20 ms instead of 50). Their valid policies overlapping
  // the days are read once, in a second statement, and placed on the days here: many days (the
  // trend, week by week) cost one read, not one lookup per enterprise and day.
  const misses = (first: string, last = first) =>
    Prisma.sql`(e."coverFrom" IS NULL OR e."coverUntil" IS NULL OR e."coverFrom" > ${first} OR e."coverUntil" < ${last})`;
  const sorted = [...days].sort();
  const [first, last] = [sorted[0]!, sorted.at(-1)!];
  const county =
    providerOfClient(db) === 'postgresql'
      ? Prisma.sql`e."countyCode" = ${countyCode}`
      : Prisma.sql`e."countyCode" || '' = ${countyCode}`;
  const oddOnes = Prisma.sql`${misses(first, last)} AND e.status = 'operating' AND ${county}`;
  const [groups, odd, held] = await Promise.all([
    grouped,
    db.$queryRaw<
      {
        id: number;
        sectorId: number;
        townshipId: number;
        status: string;
        aboveScale: boolean | number;
        employees: number;
        kept: Num;
        from: string | null;
        until: string | null;
      }[]
    >`
    SELECT e.id AS id, e."sectorId" AS "sectorId", e."townshipId" AS "townshipId", e.status AS status,
      e."aboveScale" AS "aboveScale", e.employees AS employees, e."coverHeadcount" AS kept, e."coverFrom" AS "from", e."coverUntil" AS "until"
    FROM "Enterprise" e
    WHERE ${oddOnes}`,
    db.$queryRaw<{ enterpriseId: number; startOn: string; endOn: string; headcount: number }[]>`
    SELECT p."enterpriseId" AS "enterpriseId", p."startOn" AS "startOn", p."endOn" AS "endOn", p."insuredHeadcount" AS headcount
    FROM "Policy" p
    WHERE p."enterpriseId" IN (SELECT e.id FROM "Enterprise" e WHERE ${oddOnes})
      AND p.status = 'valid' AND p."endOn" >= ${first} AND p."startOn" <= ${last}`,
  ]);
  const kept = tally(groups, inScope, highRisk);
  const policies = new Map<number, typeof held>();
  for (const p of held) {
    const id = Number(p.enterpriseId);
    const list = policies.get(id);
    if (list) list.push(p);
    else policies.set(id, [p]);
  }
  /** The largest headcount an enterprise's valid policies insure on a day; null when none does. */
  const insuredOn = (id: number, day: string): number | null => {
    let most: number | null = null;
    for (const p of policies.get(id) ?? [])
      if (p.startOn <= day && p.endOn >= day && (most === null || Number(p.headcount) > most))
        most = Number(p.headcount);
    return most;
  };
  return days.map((day) => {
    const rows = new Map([...kept].map(([k, r]) => [k, { ...r }]));
    for (const e of odd) {
      const row = rows.get(`${e.sectorId}:${e.townshipId}`);
      const missed = e.from === null || e.until === null || e.from > day || e.until < day;
      if (!missed || !row || !inScope(e)) continue;
      const [was, is] = [orNull(e.kept), insuredOn(Number(e.id), day)];
      row.insured += (is === null ? 0 : 1) - (was === null ? 0 : 1);
      row.insuredPersons += capped(is, e.employees) - capped(was, e.employees);
    }
    return [...rows.values()];
  });
}

/** All cells of a campaign on a day, by the source rule. */
export async function coverageCells(db: Tx, campaignId: number, day: string, now: Date): Promise<Cell[]> {
  return (await cellsOn(db, await ledgerScope(db, campaignId), [{ day, now }]))[0]!;
}

interface ReportRow {
  sectorId: number;
  townshipId: number | null;
  total: number;
  insured: number;
  reportedAt: Date;
  isDemo: boolean;
}

/**
 * A campaign's standing progress reports, newest first (each day's cells take those made by its
 * `now`). Reports are few, so they stay in memory, kept while none is written (src/db/versions.ts).
 */
function progressReports(db: Tx, campaignId: number): Promise<ReportRow[]> {
  return memoised(
    db,
    `reports ${campaignId}`,
    ['ProgressReport'],
    () =>
      db.$queryRaw<ReportRow[]>`
      SELECT "sectorId" AS "sectorId", "townshipId" AS "townshipId", total, insured, "reportedAt" AS "reportedAt", "isDemo" AS "isDemo"
      FROM "ProgressReport" WHERE "campaignId" = ${campaignId} AND "withdrawnAt" IS NULL ORDER BY "reportedAt" DESC, id DESC`,
  );
}

/**
 * All cells on several days (today and a week back), with one pass over the ledger: by default
 * each day counted and kept on its own (ledgerCells); the trend's many days in one sweep.
 */
async function cellsOn(
  db: Tx,
  scope: LedgerScope,
  asked: { day: string; now: Date }[],
  ledger: (db: Tx, scope: LedgerScope, days: string[]) => Promise<LedgerDay[]> = ledgerCells,
): Promise<Cell[][]> {
  const [ledgers, allReports] = await Promise.all([
    ledger(
      db,
      scope,
      asked.map((a) => a.day),
    ),
    progressReports(db, scope.id),
  ]);
  return asked.map(({ now }, i) => {
    const { rows: ledger, earliestRoster } = ledgers[i]!;
    const cells: Cell[] = ledger.map((r) => ({
      sectorId: r.sectorId,
      townshipId: r.townshipId,
      source: 'ledger',
      enterprises: r.enterprises,
      insured: r.insured,
      employees: r.employees,
      insuredPersons: r.insuredPersons,
      asOf: now,
      demo: r.demo > 0,
      ...(earliestRoster ? { earliestRoster } : {}),
    }));
    const inLedger = new Set(ledger.map((r) => `${r.sectorId}:${r.townshipId}`));
    const sectorsInLedger = new Set(ledger.map((r) => r.sectorId));

    // Latest report per (sector, township) made by `now`.
    const latest = new Map<string, (typeof allReports)[number]>();
    for (const r of allReports) {
      if (r.reportedAt.getTime() > now.getTime()) continue;
      const key = `${r.sectorId}:${r.townshipId ?? '*'}`;
      if (!latest.has(key)) latest.set(key, r);
    }
    const fromReport = (r: (typeof allReports)[number]): Cell => ({
      sectorId: r.sectorId,
      townshipId: r.townshipId,
      source: 'report',
      enterprises: r.total,
      insured: r.insured,
      employees: 0,
      insuredPersons: 0,
      asOf: r.reportedAt,
      demo: r.isDemo,
    });
    for (const r of latest.values()) {
      if (r.townshipId === null || inLedger.has(`${r.sectorId}:${r.townshipId}`)) continue;
      const whole = !sectorsInLedger.has(r.sectorId) && latest.has(`${r.sectorId}:*`);
      cells.push(whole ? { ...fromReport(r), part: true } : fromReport(r));
    }
    for (const r of latest.values()) {
      if (r.townshipId === null && !sectorsInLedger.has(r.sectorId)) cells.push(fromReport(r));
    }
    return cells;
  });
}

/** The target in force on a day: the next one still ahead, else the last one (past its date, still in force). */
export function targetInForce(
  targets: { scope: string; rateBp: number; dueOn: string }[],
  scopes: string[],
  day: string,
): TargetInForce | null {
  const mine = targets
    .filter((t) => scopes.includes(t.scope))
    .sort((a, b) => a.dueOn.localeCompare(b.dueOn) || b.rateBp - a.rateBp);
  const ahead = mine.find((t) => t.dueOn >= day);
  const t = ahead ?? mine.at(-1);
  return t ? { rateBp: t.rateBp, dueOn: t.dueOn, passed: t.dueOn < day } : null;
}

export function scopesOf(sector: { code: string; highRisk: boolean }): string[] {
  return sector.highRisk
    ? ['high_risk', `sector:${sector.code}`]
    : ['above_scale_other', 'above_scale', `sector:${sector.code}`];
}

export function gapTo(target: TargetInForce | null, enterprises: number, insured: number): number {
  return target ? Math.max(0, Math.ceil((target.rateBp * enterprises) / 10000) - insured) : 0;
}

// ── Aggregation: every view (per sector, per township, per lead department, one sector across
// townships, one township across sectors) is the same sum over cells grouped by a key.

/** Summed figures of some cells, with where they come from. */
export interface Figures {
  enterprises: number;
  insured: number;
  /** Insured ÷ in scope, or null when nothing is in scope. */
  rate: number | null;
  employees: number;
  insuredPersons: number;
  /** Only ledger cells have headcounts; null when none of the cells has one. */
  headcountRate: number | null;
  sources: Source[];
  /** The oldest figure used: now for the ledger, the report's time for a report. */
  asOf: Date | null;
  demo: boolean;
}

type Part = Omit<Figures, 'rate' | 'headcountRate'>;

/** Adds up cells or already summed figures. */
export function combine(parts: (Part | Cell)[]): Figures {
  // One pass: every reply sums a few hundred cells, twice (today and a week back).
  let enterprises = 0,
    insured = 0,
    employees = 0,
    insuredPersons = 0,
    oldest = Infinity,
    demo = false;
  const sources = new Set<Source>();
  for (const p of parts) {
    enterprises += p.enterprises;
    insured += p.insured;
    employees += p.employees;
    insuredPersons += p.insuredPersons;
    if (p.asOf && p.asOf.getTime() < oldest) oldest = p.asOf.getTime();
    if ('source' in p) sources.add(p.source);
    else for (const s of p.sources) sources.add(s);
    demo ||= p.demo;
  }
  return {
    enterprises,
    insured,
    rate: enterprises ? insured / enterprises : null,
    employees,
    insuredPersons,
    headcountRate: employees ? insuredPersons / employees : null,
    sources: [...sources].sort(),
    asOf: oldest === Infinity ? null : new Date(oldest),
    demo,
  };
}

/** Cells grouped by a key and summed; cells whose key is undefined belong to no group. */
export function aggregate<K>(cells: Cell[], keyOf: (c: Cell) => K | undefined): Map<K, Figures> {
  const groups = new Map<K, Cell[]>();
  for (const c of cells) {
    const k = keyOf(c);
    if (k === undefined) continue;
    const list = groups.get(k);
    if (list) list.push(c);
    else groups.set(k, [c]);
  }
  return new Map([...groups].map(([k, list]) => [k, combine(list)]));
}

export interface CoverageRow extends Figures {
  /** A sector id, a unit id (township or department), or null for county-wide reports. */
  key: number | null;
  name: string;
  /** The sectors the row stands for: one for a sector row, all for a township, the led ones for a department. */
  sectors: SectorRef[];
  /** One sector's own target; the high-risk target for a row mixing sectors. */
  target: TargetInForce | null;
  /** Enterprises still to insure to meet the target. */
  gap: number;
  /** Enterprises insured a week earlier, counted with only what was known then; null when there were no figures. */
  lastWeek: number | null;
  /** A sector's county line from township reports alone (no ledger, no county-wide report): how many it sums. */
  summedReports?: number;
  /** A sector's township reports newer than the county-wide report its county line shows (not summed into it). */
  newerReports?: { township: string; insured: number; total: number; asOf: Date }[];
}

export interface SectorCoverage extends CoverageRow {
  sector: SectorRef;
}

export type CoverageViewKind =
  | { by: 'sector' }
  | { by: 'township' }
  | { by: 'department' }
  /** One sector across townships (and its county-wide report, if that is all it has). */
  | { by: 'sector_townships'; sector: SectorRef }
  /** One township across sectors, or in one sector only (one cell). */
  | { by: 'township_sectors'; township: { id: number; name: string }; sector?: SectorRef };

export interface CoverageView {
  rows: CoverageRow[];
  /** The target most rows share: one sector's own in a sector's breakdown, else the high-risk one. */
  target: TargetInForce | null;
  /** Sectors whose only figures are county-wide reports, which a township breakdown cannot place. */
  countyWideOnly: string[];
  /** The week-earlier figures are of a day before the roster's history starts: counted with the earliest roster known. */
  lastWeekEarliestRoster: boolean;
}

/** A row to be: its key in the cells, its name (the command names the county-wide row), and the sectors it stands for. */
interface Group {
  key: number | null;
  name: string;
  sectors: SectorRef[];
}

/** The week-earlier figures: the day a week back, and only reports made by the same instant a week back. */
export const WEEK_MS = 7 * 86_400_000;

/** What every view names and compares against: the campaign's sectors, its county's townships, lead units and targets. */
interface ViewReference {
  sectors: SectorRef[];
  townships: { id: number; name: string }[];
  leads: { sectorId: number; unitId: number; unitName: string }[];
  targets: { scope: string; rateBp: number; dueOn: string }[];
}

/**
 * The few columns the views need, in plain statements (each of Prisma's model reads costs several
 * times as much as the statement itself, and the lead units would take a second one), kept while
 * none of their tables is written (src/db/versions.ts).
 */
function viewReference(db: Tx, campaignId: number, countyCode: string): Promise<ViewReference> {
  return memoised(
    db,
    `view ${campaignId} ${countyCode}`,
    ['Sector', 'Unit', 'SectorResponsibility', 'Target'],
    async () => {
      const [sectors, townships, leads, targets] = await Promise.all([
        db.$queryRaw<SectorRef[]>`
        SELECT id, code, name, "highRisk" AS "highRisk" FROM "Sector" WHERE "campaignId" = ${campaignId} ORDER BY "sortOrder", id`,
        db.$queryRaw<ViewReference['townships']>`
        SELECT id, name FROM "Unit" WHERE "countyCode" = ${countyCode} AND kind = 'township' ORDER BY "sortOrder", id`,
        db.$queryRaw<ViewReference['leads']>`
        SELECT r."sectorId" AS "sectorId", u.id AS "unitId", u.name AS "unitName"
        FROM "SectorResponsibility" r JOIN "Sector" s ON s.id = r."sectorId" JOIN "Unit" u ON u.id = r."unitId"
        WHERE r.role = 'lead' AND s."campaignId" = ${campaignId} ORDER BY u."sortOrder", r.id`,
        db.$queryRaw<ViewReference['targets']>`
        SELECT scope, "rateBp" AS "rateBp", "dueOn" AS "dueOn" FROM "Target" WHERE "campaignId" = ${campaignId}`,
      ]);
      return { sectors, townships, leads, targets };
    },
  );
}

/**
 * Coverage grouped for one view. Rows listing sectors keep the campaign's order; rows listing
 * townships are sorted weakest first (rows with no figures last).
 */
export async function coverageView(
  db: Tx,
  campaign: number | { id: number; countyCode: string },
  view: CoverageViewKind,
  day: string,
  now: Date,
): Promise<CoverageView> {
  // The caller's campaign (a command has it at hand) spares reading it again.
  const { id: campaignId, countyCode } =
    typeof campaign === 'number'
      ? await db.campaign.findUniqueOrThrow({ where: { id: campaign }, select: { id: true, countyCode: true } })
      : campaign;
  const { sectors, townships, leads, targets } = await viewReference(db, campaignId, countyCode);
  const [cells = [], before = []] = await cellsOn(db, { id: campaignId, countyCode, sectors }, [
    { day, now },
    { day: addDays(day, -7), now: new Date(now.getTime() - WEEK_MS) },
  ]);
  const highRisk = targetInForce(targets, ['high_risk'], day);
  const targetOf = (g: Group) =>
    g.sectors.length === 1 ? targetInForce(targets, scopesOf(g.sectors[0]!), day) : highRisk;
  const leadOf = new Map(leads.map((l) => [l.sectorId, l.unitId]));
  const bySector = (s: SectorRef): Group => ({ key: s.id, name: s.name, sectors: [s] });
  const byTownship = (u: { id: number; name: string }, own = sectors): Group => ({
    key: u.id,
    name: u.name,
    sectors: own,
  });

  const plan: {
    groups: Group[];
    keyOf: (c: Cell) => number | null | undefined;
    onlyWithData?: boolean;
    weakestFirst?: boolean;
    /** Rows summed across townships: a township's report under a county-wide one is no part of them. */
    wholes?: boolean;
  } = (() => {
    switch (view.by) {
      case 'sector':
        return { groups: sectors.map(bySector), keyOf: (c) => c.sectorId, wholes: true };
      case 'township':
        return {
          groups: townships.map((u) => byTownship(u)),
          keyOf: (c) => c.townshipId ?? undefined,
          weakestFirst: true,
        };
      case 'department': {
        const units = [...new Map(leads.map((l) => [l.unitId, { id: l.unitId, name: l.unitName }])).values()];
        const groups = units.map((u) => ({
          key: u.id,
          name: u.name,
          sectors: sectors.filter((s) => leadOf.get(s.id) === u.id),
        }));
        return { groups, keyOf: (c) => leadOf.get(c.sectorId), wholes: true };
      }
      case 'sector_townships': {
        const own = [view.sector];
        const groups = [...townships.map((u) => byTownship(u, own)), { key: null, name: '', sectors: own }];
        return {
          groups,
          keyOf: (c) => (c.sectorId === view.sector.id ? c.townshipId : undefined),
          onlyWithData: true,
          weakestFirst: true,
        };
      }
      case 'township_sectors':
        return {
          groups: (view.sector ? sectors.filter((s) => s.id === view.sector!.id) : sectors).map(bySector),
          keyOf: (c) => (c.townshipId === view.township.id ? c.sectorId : undefined),
        };
    }
  })();

  const counted = (list: Cell[]) => (plan.wholes ? list.filter((c) => !c.part) : list);
  const current = aggregate(counted(cells), plan.keyOf);
  const previous = aggregate(counted(before), plan.keyOf);
  const townshipName = new Map(townships.map((u) => [u.id, u.name]));
  let rows: CoverageRow[] = plan.groups
    .filter((g) => !plan.onlyWithData || current.has(g.key))
    .map((g) => {
      const figures = current.get(g.key) ?? combine([]);
      const target = targetOf(g);
      return {
        ...figures,
        key: g.key,
        name: g.name,
        sectors: g.sectors,
        target,
        gap: gapTo(target, figures.enterprises, figures.insured),
        lastWeek: previous.get(g.key)?.insured ?? null,
        ...(view.by === 'sector' ? reportNotes(cells, g.key!, townshipName) : {}),
      };
    });
  if (plan.weakestFirst) rows = sortWeakestFirst(rows);
  const placed = new Set(cells.filter((c) => c.townshipId !== null).map((c) => c.sectorId));
  const countyWideOnly =
    view.by === 'township'
      ? sectors.filter((s) => !placed.has(s.id) && cells.some((c) => c.sectorId === s.id)).map((s) => s.name)
      : [];
  const target = view.by === 'sector_townships' ? targetOf({ key: null, name: '', sectors: [view.sector] }) : highRisk;
  return { rows, target, countyWideOnly, lastWeekEarliestRoster: before.some((c) => c.earliestRoster === true) };
}

/** Where a row's figures come from, in words (`time`: the oldest figure's, as shown): 台账 + 上报 11-29 08:00. */
export function sourcesText(t: Translate, row: Pick<CoverageRow, 'sources' | 'summedReports'>, time: string): string {
  return row.sources
    .map((s) =>
      s === 'ledger'
        ? t('coverage.source_ledger')
        : row.summedReports
          ? t('coverage.source_report_sum', { count: row.summedReports, time })
          : t('coverage.source_report', { time }),
    )
    .join(' + ');
}

/** How a sector's county line stands to its township reports: summed in place of a county-wide one, or newer than it. */
function reportNotes(
  cells: Cell[],
  sectorId: number,
  townshipName: Map<number, string>,
): Pick<CoverageRow, 'summedReports' | 'newerReports'> {
  const own = cells.filter((c) => c.sectorId === sectorId);
  if (own.some((c) => c.source === 'ledger')) return {};
  const whole = own.find((c) => c.townshipId === null);
  const townshipReports = own.filter((c) => c.townshipId !== null);
  if (!whole) return townshipReports.length ? { summedReports: townshipReports.length } : {};
  const newer = townshipReports
    .filter((c) => c.asOf > whole.asOf)
    .map((c) => ({
      township: townshipName.get(c.townshipId!) ?? String(c.townshipId),
      insured: c.insured,
      total: c.enterprises,
      asOf: c.asOf,
    }));
  return newer.length ? { newerReports: newer } : {};
}

/** Lowest rate first; among equal rates the larger gap first; rows without figures last. Stable otherwise. */
export function sortWeakestFirst<R extends Figures & { gap: number }>(rows: R[]): R[] {
  return [...rows].sort((a, b) => {
    if (a.rate === null || b.rate === null) return (a.rate === null ? 1 : 0) - (b.rate === null ? 1 : 0);
    return a.rate - b.rate || b.gap - a.gap;
  });
}

/** The n weakest rows that have figures and have not met their target. */
export function weakest<R extends Figures & { gap: number; target: TargetInForce | null }>(rows: R[], n = 5): R[] {
  return sortWeakestFirst(rows.filter((r) => r.rate !== null && !met(r.rate, r.target))).slice(0, n);
}

/** Several rows summed into one, against a given target. */
export function totalOf(rows: CoverageRow[], name: string, target: TargetInForce | null): CoverageRow {
  const figures = combine(rows);
  const last = rows.filter((r) => r.lastWeek !== null);
  return {
    ...figures,
    key: null,
    name,
    sectors: [...new Map(rows.flatMap((r) => r.sectors).map((s) => [s.id, s])).values()],
    target,
    gap: gapTo(target, figures.enterprises, figures.insured),
    lastWeek: last.length ? last.reduce((n, r) => n + r.lastWeek!, 0) : null,
  };
}

/** Coverage per sector (the eight high-risk ones and other 规上), in the campaign's order. */
export async function coverageBySector(db: Tx, campaignId: number, day: string, now: Date): Promise<SectorCoverage[]> {
  const { rows } = await coverageView(db, campaignId, { by: 'sector' }, day, now);
  return rows.map((r) => ({ ...r, sector: r.sectors[0]! }));
}

/** Decided on the exact ratio, not the shown one: 89.96% does not meet 90%, and 57/100 meets 57% (0.57 × 10000 is 5699.999… in binary). */
function met(rate: number, target: TargetInForce | null): boolean {
  return target !== null && rate * 10000 >= target.rateBp - 1e-9;
}

/** Green when the target is met; red when its date has passed unmet; yellow while there is time. */
export function colour(rate: number | null, target: TargetInForce | null): string {
  if (rate === null || !target) return '⚪';
  if (met(rate, target)) return '🟢';
  return target.passed ? '🔴' : '🟡';
}

export interface CoverageGrid {
  /** Per sector, exactly as /覆盖率 shows them. */
  sectors: SectorCoverage[];
  /** The eight high-risk sectors together, against the shared target. */
  highRisk: CoverageRow;
  /** The target most rows share (the high-risk one). */
  target: TargetInForce | null;
  townships: { id: number; name: string }[];
  /** Figures of a sector × township cell; township null for a sector's county-wide report. */
  cell(sectorId: number, townshipId: number | null): Figures | undefined;
  /** Per township over all sectors, as /覆盖率 乡镇 counts them. */
  byTownship: Map<number, Figures>;
  /** Whether some sector has only a county-wide report (a row of its own in the grid). */
  countyWide: boolean;
}

/** Coverage by sector and by sector × township on a day, from the same cells /覆盖率 adds up. */
export async function coverageGrid(
  db: Tx,
  campaign: { id: number; countyCode: string },
  day: string,
  now: Date,
): Promise<CoverageGrid> {
  const [sectors, cells, townships] = await Promise.all([
    coverageBySector(db, campaign.id, day, now),
    coverageCells(db, campaign.id, day, now),
    db.unit.findMany({
      where: { countyCode: campaign.countyCode, kind: 'township' },
      orderBy: { sortOrder: 'asc' },
      select: { id: true, name: true },
    }),
  ]);
  const target = sectors.find((s) => s.sector.highRisk)?.target ?? null;
  const grid = aggregate(cells, (c) => `${c.sectorId}:${c.townshipId}`);
  return {
    sectors,
    target,
    townships,
    highRisk: totalOf(
      sectors.filter((s) => s.sector.highRisk),
      '',
      target,
    ),
    cell: (sectorId, townshipId) => grid.get(`${sectorId}:${townshipId}`),
    byTownship: aggregate(cells, (c) => c.townshipId ?? undefined),
    countyWide: cells.some((c) => c.townshipId === null),
  };
}

// ── The trend: coverage week by week since the campaign took effect, each week counted as /覆盖率
// counts a day (the ledger and roster of that day, the reports made by then).

/** Whose trend: the eight high-risk sectors together, one sector's county line, or one township. */
export type TrendScope =
  | { by: 'high_risk' }
  | { by: 'sector'; sector: SectorRef }
  | { by: 'township'; township: { id: number; name: string } };

export interface TrendPoint extends Figures {
  day: string;
  /** Counted with the earliest roster known: the day is before the roster's history starts. */
  earliestRoster: boolean;
}

export interface CoverageTrend {
  points: TrendPoint[];
  /** The target in force on the last day, against which the line is drawn. */
  target: TargetInForce | null;
}

/**
 * The ledger's cells on many days in one sweep over it (src/domain/coverage-sweep.ts), the same
 * figures as counting each day; kept while the ledger's tables are not written, as each day is.
 */
function sweptCells(db: Tx, scope: LedgerScope, days: string[]): Promise<LedgerDay[]> {
  const sectors = scope.sectors
    .map((s) => `${s.id}${s.highRisk ? '*' : ''}`)
    .sort()
    .join(',');
  return memoised(db, `sweep ${scope.countyCode} ${sectors} ${days.join(',')}`, LEDGER_TABLES, () =>
    sweepLedger(db, scope, days),
  );
}

/** All cells of a campaign on each day asked (each with the reports made by its `now`), the ledger swept once for all. */
export async function coverageCellsOver(
  db: Tx,
  campaign: { id: number; countyCode: string },
  asked: { day: string; now: Date }[],
): Promise<Cell[][]> {
  const { sectors } = await viewReference(db, campaign.id, campaign.countyCode);
  return cellsOn(db, { ...campaign, sectors }, asked, sweptCells);
}

/**
 * Coverage of a scope on `day` and every 7 days back to `from` (the campaign's start, a point of
 * its own), each day with the reports made by the same time of that day.
 */
export async function coverageTrend(
  db: Tx,
  campaign: { id: number; countyCode: string },
  scope: TrendScope,
  from: string,
  day: string,
  now: Date,
): Promise<CoverageTrend> {
  const { sectors, targets } = await viewReference(db, campaign.id, campaign.countyCode);
  const back = (d: string) => Math.round((Date.parse(day) - Date.parse(d)) / 86_400_000);
  const days: string[] = [];
  for (let d = day; d >= from; d = addDays(d, -7)) days.unshift(d);
  if (days[0] !== from && from < day) days.unshift(from);
  if (!days.length) days.push(day);
  const asked = days.map((d) => ({ day: d, now: new Date(now.getTime() - back(d) * 86_400_000) }));
  const cells = await cellsOn(db, { ...campaign, sectors }, asked, sweptCells);
  const highRisk = new Set(sectors.filter((s) => s.highRisk).map((s) => s.id));
  const counts = (c: Cell) =>
    scope.by === 'township'
      ? c.townshipId === scope.township.id
      : !c.part && (scope.by === 'sector' ? c.sectorId === scope.sector.id : highRisk.has(c.sectorId));
  const points = days.map((d, i) => {
    const own = cells[i]!.filter(counts);
    return { day: d, ...combine(own), earliestRoster: own.some((c) => c.earliestRoster === true) };
  });
  const scopes = scope.by === 'sector' ? scopesOf(scope.sector) : ['high_risk'];
  return { points, target: targetInForce(targets, scopes, day) };
}
