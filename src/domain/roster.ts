import type { Tx } from '../db/client.ts';

// The roster's history (EnterpriseState): what each enterprise's status, sector, township, scale
// and headcount were from a day on. Every path that adds or changes an enterprise keeps it here
// (the roster import, the demo roster); coverage for a past day counts the roster of that day
// (src/domain/coverage.ts). History starts with the first import after this table was added: an
// enterprise with no row counts as its Enterprise row, and a day before a county's first row is
// counted with the earliest roster known.

/** The columns of an enterprise that coverage counts and the history keeps. */
export interface RosterState {
  status: string;
  sectorId: number;
  townshipId: number;
  aboveScale: boolean;
  employees: number;
}

/** Whether two states of an enterprise are the same. */
export const sameState = (a: RosterState, b: RosterState) =>
  a.status === b.status &&
  a.sectorId === b.sectorId &&
  a.townshipId === b.townshipId &&
  a.aboveScale === b.aboveScale &&
  a.employees === b.employees;

/**
 * Keeps an enterprise's state as true from `day` on: nothing when its latest row before the day
 * already says so, else that day's row (a same-day change replaces it). `added` marks the day the
 * enterprise entered the roster (it was on none before); false for one already there whose history
 * starts now.
 */
export async function keepState(
  db: Tx,
  e: RosterState & { id: number; countyCode: string },
  day: string,
  added = false,
): Promise<void> {
  const state: RosterState = {
    status: e.status,
    sectorId: e.sectorId,
    townshipId: e.townshipId,
    aboveScale: e.aboveScale,
    employees: e.employees,
  };
  const last = await db.enterpriseState.findFirst({
    where: { enterpriseId: e.id, validFrom: { lte: day } },
    orderBy: { validFrom: 'desc' },
  });
  if (last && sameState(last, state) && (!added || last.added)) return;
  await db.enterpriseState.upsert({
    where: { enterpriseId_validFrom: { enterpriseId: e.id, validFrom: day } },
    create: { enterpriseId: e.id, countyCode: e.countyCode, validFrom: day, added, ...state },
    // A change on the day it was added keeps it added.
    update: { ...state, ...(added ? { added } : {}) },
  });
}

/** The first and last days of a county's roster history, or null before its first row. */
export async function historySpan(db: Tx, countyCode: string): Promise<{ first: string; last: string } | null> {
  const [span] = await db.$queryRaw<{ first: string | null; last: string | null }[]>`
    SELECT MIN("validFrom") AS first, MAX("validFrom") AS last FROM "EnterpriseState" WHERE "countyCode" = ${countyCode}`;
  return span?.first && span.last ? { first: span.first, last: span.last } : null;
}
