import type { Tx } from '../db/client.ts';
import { historySpan } from './roster.ts';

// The ledger's cells on many days at once (the trend: every week since the campaign took effect),
// in one pass over the ledger instead of one count per day. Each enterprise is read once, with its
// roster history and its valid policies, in keyset pages of ids (no list of ids is ever bound);
// what it counts is constant between the days on which its roster state or its cover can change
// (a history row's day, its kept stretch's ends, a policy's start and the day after its end), so
// it adds its figures to a difference array over the days asked, once per such stretch; a running
// sum over the days then gives every cell on every day. The rules are exactly those of counting
// one day (src/domain/coverage.ts countLedger): the roster of the day, and the cover of the day.

/** A sector × township cell of the ledger on a day: known enterprises, and the figures of those in scope. */
export interface LedgerRow {
  sectorId: number;
  townshipId: number;
  known: number;
  enterprises: number;
  insured: number;
  employees: number;
  insuredPersons: number;
  demo: number;
}

/** A day's ledger cells, and whether they were counted with the earliest roster known. */
export interface LedgerDay {
  rows: LedgerRow[];
  earliestRoster: boolean;
}

/** Enterprises read per page (and so the id range each page's history and policies are read for). */
export const SWEEP_PAGE = 5000;

type Num = number | bigint;

interface EnterpriseRow {
  id: Num;
  sectorId: Num;
  townshipId: Num;
  status: string;
  aboveScale: boolean | Num;
  employees: Num;
  isDemo: boolean | Num;
  coverFrom: string | null;
  coverUntil: string | null;
  coverHeadcount: Num | null;
}

interface StateRow {
  enterpriseId: Num;
  countyCode: string;
  validFrom: string;
  status: string;
  sectorId: Num;
  townshipId: Num;
  aboveScale: boolean | Num;
  employees: Num;
  added: boolean | Num;
}

interface PolicyRow {
  enterpriseId: Num;
  startOn: string;
  endOn: string;
  headcount: Num;
}

/** What an enterprise counts as on a day: its roster columns. */
interface State {
  status: string;
  sectorId: number;
  townshipId: number;
  aboveScale: boolean;
  employees: number;
}
interface History extends State {
  validFrom: string;
  added: boolean;
  /** The row is of the county counted (only those make a later change a change: countLedger's changedAfter). */
  ofCounty: boolean;
}

/** The figures an enterprise adds to its cell: known, demo, in scope, employees, insured, persons. */
const FIELDS = 6;

/**
 * The ledger's cells of a county on each of `days`, as countLedger counts each day: the roster of
 * the day (the latest history row on or before it where the enterprise changed after it, else
 * its Enterprise row; before the history, the earliest row known; not at all before the row that
 * added it), the cover of the day (its kept stretch where that holds the day, else the largest
 * headcount of its valid policies then), counted where the state is operating and in scope.
 */
export async function sweepLedger(
  db: Tx,
  scope: { countyCode: string; sectors: { id: number; highRisk: boolean }[] },
  days: string[],
  pageSize = SWEEP_PAGE,
): Promise<LedgerDay[]> {
  if (!days.length) return [];
  const { countyCode } = scope;
  const sorted = [...new Set(days)].sort();
  const n = sorted.length;
  const [first, last] = [sorted[0]!, sorted[n - 1]!];
  const highRisk = new Map(scope.sectors.map((s) => [s.id, s.highRisk]));
  /** The first day index on or after `day` (lower bound) and the first after it (upper bound). */
  const from = (day: string) => {
    let [lo, hi] = [0, n];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < day) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const after = (day: string) => {
    let [lo, hi] = [0, n];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= day) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  // Per cell, the change of each figure on each day (index i × FIELDS + field), summed at the end.
  const cells = new Map<string, { sectorId: number; townshipId: number; diff: Float64Array }>();
  const add = (s: State, demo: boolean, h: number | null, a: number, b: number) => {
    if (!highRisk.has(s.sectorId)) return;
    const key = `${s.sectorId}:${s.townshipId}`;
    let cell = cells.get(key);
    if (!cell)
      cells.set(
        key,
        (cell = { sectorId: s.sectorId, townshipId: s.townshipId, diff: new Float64Array((n + 1) * FIELDS) }),
      );
    const inScope = s.status === 'operating' && (highRisk.get(s.sectorId) === true || s.aboveScale);
    const v = [
      1,
      demo ? 1 : 0,
      inScope ? 1 : 0,
      inScope ? s.employees : 0,
      inScope && h !== null ? 1 : 0,
      inScope && h !== null ? Math.min(h, s.employees) : 0,
    ];
    for (let f = 0; f < FIELDS; f++) {
      cell.diff[a * FIELDS + f]! += v[f]!;
      cell.diff[b * FIELDS + f]! -= v[f]!;
    }
  };

  const span = await historySpan(db, countyCode);
  for (let lastId = 0; ;) {
    // The county's enterprises by id; `|| ''` keeps SQLite on the primary key (in id order) rather than the county's index.
    const page = await db.$queryRaw<EnterpriseRow[]>`
      SELECT e.id AS id, e."sectorId" AS "sectorId", e."townshipId" AS "townshipId", e.status AS status,
        e."aboveScale" AS "aboveScale", e.employees AS employees, e."isDemo" AS "isDemo",
        e."coverFrom" AS "coverFrom", e."coverUntil" AS "coverUntil", e."coverHeadcount" AS "coverHeadcount"
      FROM "Enterprise" e
      WHERE e.id > ${lastId} AND e."countyCode" || '' = ${countyCode}
      ORDER BY e.id LIMIT ${pageSize}`;
    if (!page.length) break;
    const [lo, hi] = [Number(page[0]!.id), Number(page.at(-1)!.id)];
    lastId = hi;
    // The page's history and valid policies, each on its enterprise-id index (`|| ''` keeps SQLite
    // from the policies' (status, endOn) index, which would read every valid policy of the
    // county for each page).
    const [states, policies] = await Promise.all([
      db.$queryRaw<StateRow[]>`
        SELECT s."enterpriseId" AS "enterpriseId", s."countyCode" AS "countyCode", s."validFrom" AS "validFrom",
          s.status AS status, s."sectorId" AS "sectorId", s."townshipId" AS "townshipId", s."aboveScale" AS "aboveScale",
          s.employees AS employees, s.added AS added
        FROM "EnterpriseState" s
        WHERE s."enterpriseId" >= ${lo} AND s."enterpriseId" <= ${hi}
        ORDER BY s."enterpriseId", s."validFrom"`,
      db.$queryRaw<PolicyRow[]>`
        SELECT p."enterpriseId" AS "enterpriseId", p."startOn" AS "startOn", p."endOn" AS "endOn", p."insuredHeadcount" AS headcount
        FROM "Policy" p
        WHERE p."enterpriseId" >= ${lo} AND p."enterpriseId" <= ${hi}
          AND p.status || '' = 'valid' AND p."endOn" >= ${first} AND p."startOn" <= ${last}`,
    ]);
    const historyOf = new Map<number, History[]>();
    for (const s of states) {
      const id = Number(s.enterpriseId);
      const h: History = {
        validFrom: s.validFrom,
        status: s.status,
        sectorId: Number(s.sectorId),
        townshipId: Number(s.townshipId),
        aboveScale: Boolean(s.aboveScale),
        employees: Number(s.employees),
        added: Boolean(s.added),
        ofCounty: s.countyCode === countyCode,
      };
      const list = historyOf.get(id);
      if (list) list.push(h);
      else historyOf.set(id, [h]);
    }
    const policiesOf = new Map<number, { startOn: string; endOn: string; headcount: number }[]>();
    for (const p of policies) {
      const id = Number(p.enterpriseId);
      const q = { startOn: p.startOn, endOn: p.endOn, headcount: Number(p.headcount) };
      const list = policiesOf.get(id);
      if (list) list.push(q);
      else policiesOf.set(id, [q]);
    }

    for (const e of page) {
      const id = Number(e.id);
      const row: State = {
        status: e.status,
        sectorId: Number(e.sectorId),
        townshipId: Number(e.townshipId),
        aboveScale: Boolean(e.aboveScale),
        employees: Number(e.employees),
      };
      const demo = Boolean(e.isDemo);
      const history = historyOf.get(id) ?? [];
      const held = policiesOf.get(id) ?? [];
      const kept = e.coverHeadcount === null ? null : Number(e.coverHeadcount);
      const stretch = e.coverFrom !== null && e.coverUntil !== null ? { from: e.coverFrom, until: e.coverUntil } : null;
      // The enterprise's row stands for it on the days from its last change on (countLedger's
      // changedAfter): the latest history row of the county that added it or follows another.
      let changedBefore: string | null = null;
      for (let i = 0; i < history.length; i++)
        if (history[i]!.ofCounty && (history[i]!.added || i > 0)) changedBefore = history[i]!.validFrom;

      /** The enterprise's roster state on a day; null when it was on no roster then. */
      const stateOn = (day: string): State | null => {
        if (changedBefore === null || day >= changedBefore) return row;
        let s = history[0]!;
        for (const h of history) if (h.validFrom <= day) s = h;
        return s.validFrom > day && s.added ? null : s;
      };
      /** The persons insured on a day (null: none), whatever the status. */
      const coverOn = (day: string): number | null => {
        if (stretch && stretch.from <= day && day <= stretch.until) return kept;
        let most: number | null = null;
        for (const p of held)
          if (p.startOn <= day && day <= p.endOn && (most === null || p.headcount > most)) most = p.headcount;
        return most;
      };

      // The day indexes at which what it counts can change, then each stretch between two counted once.
      const cuts = [0, n];
      for (const h of history) cuts.push(from(h.validFrom));
      if (changedBefore !== null) cuts.push(from(changedBefore));
      if (stretch) cuts.push(from(stretch.from), after(stretch.until));
      for (const p of held) cuts.push(from(p.startOn), after(p.endOn));
      cuts.sort((x, y) => x - y);
      for (let i = 0; i < cuts.length - 1; i++) {
        const [a, b] = [cuts[i]!, cuts[i + 1]!];
        if (a >= b) continue;
        const day = sorted[a]!;
        const s = stateOn(day);
        if (!s) continue;
        add(s, demo, s.status === 'operating' ? coverOn(day) : null, a, b);
      }
    }
    if (page.length < pageSize) break;
  }

  // Running sums over the days: each cell's figures on each day; a cell counts on a day it knows an enterprise.
  const byDay: LedgerRow[][] = sorted.map(() => []);
  for (const { sectorId, townshipId, diff } of cells.values()) {
    const sum = new Float64Array(FIELDS);
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < FIELDS; f++) sum[f]! += diff[i * FIELDS + f]!;
      if (sum[0]! > 0)
        byDay[i]!.push({
          sectorId,
          townshipId,
          known: sum[0]!,
          demo: sum[1]!,
          enterprises: sum[2]!,
          employees: sum[3]!,
          insured: sum[4]!,
          insuredPersons: sum[5]!,
        });
    }
  }
  const index = new Map(sorted.map((d, i) => [d, i]));
  return days.map((day) => ({
    rows: byDay[index.get(day)!]!,
    // As countLedger says it: a day before the county's history starts (and so before its last change).
    earliestRoster: span !== null && day < span.first,
  }));
}
