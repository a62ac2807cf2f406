import { addDays } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';

// Each enterprise's cover, kept on the Enterprise row so coverage need not join every policy at
// each /覆盖率 (a county ten times Anhua's size has 150,000 of them). Cover changes with the date
// alone — policies start and end without any write — so what is kept is a stretch of days:
// from coverFrom to coverUntil the enterprise's valid policies insure at most coverHeadcount
// persons (null: none is valid then). Coverage counts it against the day asked and asks the
// policies for a day outside it, or when nothing is kept (all three null). A stretch is correct
// whatever day it was computed around; that day only decides how often coverage must ask.
//
// Whatever writes policies calls refreshCover (or invalidateCover) in the same transaction; the
// nightly rebuildCover moves every stretch to the new day and repairs any a writer left behind.

/** Before and after any real policy: the ends of an open stretch. */
export const FIRST_DAY = '0000-01-01';
export const LAST_DAY = '9999-12-31';

export interface Cover {
  from: string;
  until: string;
  headcount: number | null;
}
export interface PolicySpan {
  startOn: string;
  endOn: string;
  insuredHeadcount: number;
}

/** The largest headcount insured on a day by the policies (valid ones only), or null. */
export function headcountOn(policies: PolicySpan[], day: string): number | null {
  let h: number | null = null;
  for (const p of policies)
    if (p.startOn <= day && day <= p.endOn && (h === null || p.insuredHeadcount > h)) h = p.insuredHeadcount;
  return h;
}

/** The longest stretch of days around `day` over which headcountOn stays what it is that day. */
export function coverAround(policies: PolicySpan[], day: string): Cover {
  const headcount = headcountOn(policies, day);
  // The days on which the set of valid policies can change: starts, and the days after ends.
  const edges = [...new Set(policies.flatMap((p) => [p.startOn, addDays(p.endOn, 1)]))].sort();
  let from = FIRST_DAY;
  for (let i = edges.findLastIndex((e) => e <= day); i >= 0; i--) {
    if (headcountOn(policies, addDays(edges[i]!, -1)) !== headcount) {
      from = edges[i]!;
      break;
    }
  }
  let until = LAST_DAY;
  for (const e of edges) {
    if (e > day && headcountOn(policies, e) !== headcount) {
      until = addDays(e, -1);
      break;
    }
  }
  return { from, until, headcount };
}

type Row = { enterpriseId: number } & PolicySpan;

function coversOf(policies: Row[], ids: Iterable<number>, day: string): Map<number, Cover> {
  const byEnterprise = new Map<number, Row[]>();
  for (const p of policies) {
    const list = byEnterprise.get(p.enterpriseId);
    if (list) list.push(p);
    else byEnterprise.set(p.enterpriseId, [p]);
  }
  return new Map([...ids].map((id) => [id, coverAround(byEnterprise.get(id) ?? [], day)]));
}

/** Valid policies, of some enterprises or of all (raw: a county has 150,000 of them). */
async function validPolicies(db: Tx, ids?: number[]): Promise<Row[]> {
  const rows = await db.$queryRaw<Row[]>`SELECT "enterpriseId", "startOn", "endOn", "insuredHeadcount" FROM "Policy"
    WHERE status = 'valid' ${ids ? Prisma.sql`AND "enterpriseId" IN (${Prisma.join(ids)})` : Prisma.empty}`;
  return rows.map((r) => ({
    ...r,
    enterpriseId: Number(r.enterpriseId),
    insuredHeadcount: Number(r.insuredHeadcount),
  }));
}

/** Writes covers, 500 rows per statement. */
async function writeCovers(db: Tx, covers: Map<number, Cover | null>): Promise<void> {
  const entries = [...covers];
  for (let i = 0; i < entries.length; i += 500) {
    const values = entries
      .slice(i, i + 500)
      .map(([id, c]) => Prisma.sql`(${id}, ${c?.from ?? null}, ${c?.until ?? null}, ${c?.headcount ?? null})`);
    await db.$executeRaw`UPDATE "Enterprise" SET "coverFrom" = CAST(v.column2 AS TEXT), "coverUntil" = CAST(v.column3 AS TEXT),
      "coverHeadcount" = CAST(v.column4 AS INTEGER) FROM (VALUES ${Prisma.join(values)}) AS v WHERE "Enterprise".id = CAST(v.column1 AS INTEGER)`;
  }
}

/** Recomputes the cover of these enterprises from their policies, around `today`. */
export async function refreshCover(db: Tx, enterpriseIds: Iterable<number>, today: string): Promise<void> {
  const ids = [...new Set(enterpriseIds)];
  for (let i = 0; i < ids.length; i += 5000) {
    const batch = ids.slice(i, i + 5000);
    await writeCovers(db, coversOf(await validPolicies(db, batch), batch, today));
  }
}

/** Forgets the cover of these enterprises: coverage asks their policies until the next refresh. */
export async function invalidateCover(db: Tx, enterpriseIds: Iterable<number>): Promise<void> {
  await writeCovers(db, new Map([...new Set(enterpriseIds)].map((id) => [id, null])));
}

/** Refreshes the enterprises whose stretch does not hold `today` (or that have none): at start-up. */
export async function refreshStaleCover(db: Tx, today: string): Promise<number> {
  const stale = await db.enterprise.findMany({
    where: {
      OR: [{ coverFrom: null }, { coverUntil: null }, { coverFrom: { gt: today } }, { coverUntil: { lt: today } }],
    },
    select: { id: true },
  });
  await refreshCover(
    db,
    stale.map((e) => e.id),
    today,
  );
  return stale.length;
}

/**
 * Every enterprise's cover recomputed around `today`, written where it differs: moves the
 * stretches to the new day each night. `repaired` counts those that were wrong, not just old:
 * a writer that changed policies without refreshing (it should be zero).
 */
export async function rebuildCover(db: Tx, today: string): Promise<{ changed: number; repaired: number }> {
  const [policies, enterprises] = await Promise.all([
    validPolicies(db),
    db.$queryRaw<{ id: number; coverFrom: string | null; coverUntil: string | null; coverHeadcount: number | null }[]>`
      SELECT id, "coverFrom", "coverUntil", "coverHeadcount" FROM "Enterprise"`,
  ]);
  const covers = coversOf(
    policies,
    enterprises.map((e) => Number(e.id)),
    today,
  );
  const changed = new Map<number, Cover>();
  let repaired = 0;
  for (const e of enterprises) {
    const c = covers.get(Number(e.id))!;
    const kept = e.coverHeadcount === null ? null : Number(e.coverHeadcount);
    if (e.coverFrom === c.from && e.coverUntil === c.until && kept === c.headcount) continue;
    changed.set(Number(e.id), c);
    // A kept stretch that overlaps the new one must agree with it on the overlap.
    if (
      e.coverFrom !== null &&
      e.coverUntil !== null &&
      e.coverFrom <= c.until &&
      c.from <= e.coverUntil &&
      kept !== c.headcount
    )
      repaired++;
  }
  await writeCovers(db, changed);
  return { changed: changed.size, repaired };
}
