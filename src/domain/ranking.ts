import type { Tx } from '../db/client.ts';
import { dayIn } from '../clock.ts';
import { coverageView, type CoverageRow } from './coverage.ts';

// The ranking a commission office publishes (通报): units ranked on coverage progress and on
// timely reporting. Coverage comes from the same views as /覆盖率, so both always agree.

export interface Ranked<T> {
  rank: number;
  item: T;
}

/** Competition ranking (1, 2, 2, 4) of a list sorted best first: items that tie share a rank. */
export function rankSorted<T>(sorted: T[], tie: (a: T, b: T) => boolean): Ranked<T>[] {
  const out: Ranked<T>[] = [];
  sorted.forEach((item, i) => out.push({ item, rank: i > 0 && tie(sorted[i - 1]!, item) ? out[i - 1]!.rank : i + 1 }));
  return out;
}

export interface CoverageRanking {
  /** Townships by the insured rate of their in-scope enterprises, best first. */
  townships: Ranked<CoverageRow>[];
  /** Lead departments by the insured rate of the sectors they lead, best first. */
  departments: Ranked<CoverageRow>[];
  /** Townships with no figures at all: they cannot be ranked. */
  unranked: string[];
}

/** Higher rate first; among equal rates more insured first; otherwise the campaign's order. */
function byRate(rows: CoverageRow[]): Ranked<CoverageRow>[] {
  const sorted = rows.filter((r) => r.rate !== null).sort((a, b) => b.rate! - a.rate! || b.insured - a.insured);
  return rankSorted(sorted, (a, b) => a.rate === b.rate);
}

export async function rankCoverage(db: Tx, campaignId: number, day: string, now: Date): Promise<CoverageRanking> {
  const [townships, departments] = await Promise.all([
    coverageView(db, campaignId, { by: 'township' }, day, now),
    coverageView(db, campaignId, { by: 'department' }, day, now),
  ]);
  // The township view comes weakest first; ranking starts again from the campaign's order.
  const order = await db.unit.findMany({
    where: { id: { in: townships.rows.map((r) => r.key!) } },
    select: { id: true, sortOrder: true },
  });
  const sortOrder = new Map(order.map((u) => [u.id, u.sortOrder]));
  const inOrder = [...townships.rows].sort((a, b) => sortOrder.get(a.key!)! - sortOrder.get(b.key!)!);
  return {
    townships: byRate(inOrder),
    departments: byRate(departments.rows),
    unranked: inOrder.filter((r) => r.rate === null).map((r) => r.name),
  };
}

export interface Timeliness {
  unit: { id: number; code: string; name: string; kind: string };
  /** Obligations done by their due day (in the campaign's time zone). */
  onTime: number;
  /** Done after their due day. */
  late: number;
  /** Still open after their due day. */
  overdue: number;
  lastReportAt: Date | null;
}

/**
 * Per unit that owes something already due or done, or that has reported: obligations done on
 * time, done late and overdue open, and its latest progress report. Best first: fewest overdue,
 * fewest late, most on time, latest report most recent.
 */
export async function rankTimeliness(
  db: Tx,
  campaignId: number,
  today: string,
  timeZone: string,
): Promise<Ranked<Timeliness>[]> {
  const [obligations, reports] = await Promise.all([
    db.obligation.findMany({ where: { campaignId, withdrawnAt: null }, include: { unit: true } }),
    db.progressReport.groupBy({ by: ['unitId'], where: { campaignId, withdrawnAt: null }, _max: { reportedAt: true } }),
  ]);
  const reportUnits = await db.unit.findMany({ where: { id: { in: reports.map((r) => r.unitId) } } });
  const rows = new Map<number, Timeliness & { sortOrder: number }>();
  const row = (u: Timeliness['unit'] & { sortOrder: number }) => {
    let r = rows.get(u.id);
    if (!r)
      rows.set(
        u.id,
        (r = {
          unit: { id: u.id, code: u.code, name: u.name, kind: u.kind },
          onTime: 0,
          late: 0,
          overdue: 0,
          lastReportAt: null,
          sortOrder: u.sortOrder,
        }),
      );
    return r;
  };
  for (const o of obligations) {
    if (o.status === 'done') {
      const doneOn = dayIn(o.doneAt ?? o.updatedAt, timeZone);
      row(o.unit)[doneOn <= o.dueOn ? 'onTime' : 'late']++;
    } else if (o.dueOn < today) row(o.unit).overdue++;
  }
  for (const r of reports) {
    const u = reportUnits.find((x) => x.id === r.unitId);
    if (u && r._max.reportedAt) row(u).lastReportAt = r._max.reportedAt;
  }
  const time = (r: Timeliness) => r.lastReportAt?.getTime() ?? -Infinity;
  const sorted = [...rows.values()].sort(
    (a, b) =>
      a.overdue - b.overdue || a.late - b.late || b.onTime - a.onTime || time(b) - time(a) || a.sortOrder - b.sortOrder,
  );
  return rankSorted(
    sorted.map(({ sortOrder: _, ...r }) => r),
    (a, b) => a.overdue === b.overdue && a.late === b.late && a.onTime === b.onTime,
  );
}

/** The units that share the first (or last) rank. */
export function tiedAt<T>(ranked: Ranked<T>[], end: 'first' | 'last'): T[] {
  const rank = (end === 'first' ? ranked[0] : ranked.at(-1))?.rank;
  return ranked.filter((r) => r.rank === rank).map((r) => r.item);
}
