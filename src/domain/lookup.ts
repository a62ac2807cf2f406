import { addDays } from '../clock.ts';
import type { Member } from '../core/roles.ts';
import type { Tx } from '../db/client.ts';
import { textContains } from '../db/dialect.ts';
import { LATEST_DISPUTE, payByOf } from './claims.ts';
import { isCreditCode, normaliseCreditCode } from './credit-code.ts';
import { daysBetween } from './obligations.ts';

// /查询: one enterprise as a department needs it before a 标准化 or 诚信 decision — sector,
// township, scale, policies (全员覆盖 or not), lapses, prevention visits, open items, claims —
// within the asker's scope: a department its sectors, a township its township, an insurer the
// enterprises it insures or has insured, an enterprise's contact their own; leaders, admins,
// viewers, agencies and the county office everything. Indexed look-ups, bounded lists.

/** At most this many candidates in a pick list, and rows of each kind in a profile. */
export const LOOKUP_LIMIT = 5;

/**
 * The enterprises a member may look up: 'all' of the county, or those matching any of `where` (a
 * township, sectors, their own) or, for an insurer, holding a policy of `insurerId` (withdrawn ones
 * aside). The insurer's part is asked of the policies per page of candidates: a relation filter
 * (`policies: { some }`) under a name search makes SQLite re-run a join for every enterprise.
 */
export type LookupScope = 'all' | { where: object[]; insurerId: number | null };

export async function lookupScope(db: Tx, member: Member): Promise<LookupScope> {
  const unit = member.unit;
  if (member.roles.some((r) => r === 'admin' || r === 'leader' || r === 'viewer' || r === 'agency')) return 'all';
  if (member.roles.includes('liaison') && unit?.kind === 'commission_office') return 'all';
  const where: object[] = [];
  if (member.roles.includes('liaison') && unit?.kind === 'township') where.push({ townshipId: unit.id });
  if (member.roles.includes('liaison') && unit?.kind === 'department') {
    const sectors = await db.sectorResponsibility.findMany({ where: { unitId: unit.id }, select: { sectorId: true } });
    where.push({ sectorId: { in: sectors.map((s) => s.sectorId) } });
  }
  if (member.roles.includes('enterprise') && member.enterpriseId) where.push({ id: member.enterpriseId });
  const insurerId = member.roles.includes('insurer') && unit?.kind === 'insurer' ? unit.id : null;
  return { where, insurerId };
}

export interface Candidate {
  id: number;
  name: string;
  creditCode: string;
}

export type LookupResult =
  | { found: Candidate }
  | { pick: Candidate[]; more: boolean }
  /** Matches exist, but none within the scope: `outside` names one. */
  | { outside: { name: string; count: number } }
  | { none: true };

const select = { id: true, name: true, creditCode: true } as const;
/** Candidates read per page when an insurer's part of a scope is asked of its policies. */
const PAGE = 500;

/** Of some enterprises, those the insurer insures or has insured: one query on the policies. */
async function insuredBy(db: Tx, insurerId: number, ids: number[]): Promise<Set<number>> {
  const rows = await db.policy.findMany({
    where: { insurerId, enterpriseId: { in: ids }, status: { not: 'withdrawn' } },
    select: { enterpriseId: true },
  });
  return new Set(rows.map((r) => r.enterpriseId));
}

/** Up to `limit` enterprises matching `where` within the scope, by name: bounded reads only. */
async function inScope(db: Tx, where: object, scope: Exclude<LookupScope, 'all'>, limit: number): Promise<Candidate[]> {
  const found = scope.where.length
    ? await db.enterprise.findMany({
        where: { ...where, OR: scope.where },
        select,
        take: limit,
        orderBy: [{ name: 'asc' }, { id: 'asc' }],
      })
    : [];
  if (scope.insurerId === null) return found;
  // The insurer's part: pages of candidates in name order, kept where it holds a policy, until enough.
  const mine: Candidate[] = [];
  for (let after: Candidate | null = null; mine.length < limit;) {
    const page: Candidate[] = await db.enterprise.findMany({
      where: {
        ...where,
        ...(after && { OR: [{ name: { gt: after.name } }, { name: after.name, id: { gt: after.id } }] }),
      },
      select,
      take: PAGE,
      orderBy: [{ name: 'asc' }, { id: 'asc' }],
    });
    if (!page.length) break;
    const held = await insuredBy(
      db,
      scope.insurerId,
      page.map((e) => e.id),
    );
    mine.push(...page.filter((e) => held.has(e.id)));
    after = page.at(-1)!;
  }
  const byId = new Map([...found, ...mine].map((e) => [e.id, e]));
  return [...byId.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id)).slice(0, limit);
}

/**
 * The enterprise a word names within the scope: by credit code, by exact name, or by part of the
 * name (one match shown, several a short pick list, bounded). The credit code is unique and the
 * name indexed; a part of a name reads in name order and stops once the pick list is full.
 */
export async function lookupEnterprise(
  db: Tx,
  countyCode: string,
  word: string,
  scope: LookupScope,
): Promise<LookupResult> {
  const code = normaliseCreditCode(word);
  const exact = isCreditCode(code)
    ? await db.enterprise.findFirst({ where: { countyCode, creditCode: code }, select })
    : await db.enterprise.findFirst({ where: { countyCode, name: word }, select });
  if (exact) {
    const mine = scope === 'all' || (await inScope(db, { id: exact.id }, scope, 1)).length > 0;
    return mine ? { found: exact } : { outside: { name: exact.name, count: 1 } };
  }
  if (isCreditCode(code)) return { none: true };
  const where = { countyCode, name: textContains(db, word) };
  const mine =
    scope === 'all'
      ? await db.enterprise.findMany({
          where,
          select,
          take: LOOKUP_LIMIT + 1,
          orderBy: [{ name: 'asc' }, { id: 'asc' }],
        })
      : await inScope(db, where, scope, LOOKUP_LIMIT + 1);
  if (mine.length === 1) return { found: mine[0]! };
  if (mine.length > 1) return { pick: mine.slice(0, LOOKUP_LIMIT), more: mine.length > LOOKUP_LIMIT };
  if (scope === 'all') return { none: true };
  const others = await db.enterprise.findMany({ where, select, take: 2, orderBy: { name: 'asc' } });
  return others.length ? { outside: { name: others[0]!.name, count: others.length } } : { none: true };
}

/** A gap in an enterprise's cover: from the day after one cover ends to the day before the next starts, or open. */
export interface Lapse {
  from: string;
  /** The last day without cover; null while it lasts. */
  until: string | null;
  days: number;
}

/** The gaps between an enterprise's policies, up to today, from its first policy on. */
export function lapses(policies: { startOn: string; endOn: string }[], today: string): Lapse[] {
  const sorted = [...policies].sort((a, b) => a.startOn.localeCompare(b.startOn));
  const out: Lapse[] = [];
  let covered: string | null = null;
  for (const p of sorted) {
    if (covered !== null && p.startOn > addDays(covered, 1) && addDays(covered, 1) <= today) {
      const until = addDays(p.startOn, -1) < today ? addDays(p.startOn, -1) : null;
      const from = addDays(covered, 1);
      out.push({ from, until, days: daysBetween(from, until ?? today) + 1 });
    }
    if (covered === null || p.endOn > covered) covered = p.endOn;
  }
  if (covered !== null && covered < today && !out.some((l) => l.until === null)) {
    const from = addDays(covered, 1);
    out.push({ from, until: null, days: daysBetween(from, today) + 1 });
  }
  return out;
}

/** Everything /查询 shows of one enterprise, each list bounded (newest first) with its full count. */
export async function enterpriseProfile(db: Tx, enterpriseId: number, today: string) {
  const enterprise = await db.enterprise.findUniqueOrThrow({
    where: { id: enterpriseId },
    include: { sector: true, township: true },
  });
  const live = { enterpriseId, withdrawnAt: null };
  const [policies, visitCount, visits, unconfirmed, claimCount, claims, findings] = await Promise.all([
    db.policy.findMany({
      where: { enterpriseId, status: { not: 'withdrawn' } },
      include: { insurer: true },
      orderBy: { startOn: 'desc' },
    }),
    db.preventionVisit.count({ where: live }),
    db.preventionVisit.findMany({
      where: live,
      include: { insurer: true },
      orderBy: [{ visitedOn: 'desc' }, { id: 'desc' }],
      take: LOOKUP_LIMIT,
    }),
    db.preventionVisit.count({ where: { ...live, enterpriseConfirmedAt: null } }),
    db.claim.count({ where: live }),
    db.claim.findMany({
      where: live,
      include: { insurer: true, disputes: LATEST_DISPUTE },
      orderBy: [{ accidentOn: 'desc' }, { id: 'desc' }],
      take: LOOKUP_LIMIT,
    }),
    db.agencyFinding.count({ where: live }),
  ]);
  // Unpaid claims counted per report day: one row a day, the limit asked once a day.
  const unpaid = await db.claim.groupBy({
    by: ['reportedOn'],
    where: { ...live, paidOn: null },
    _count: { _all: true },
  });
  const dueOf = payByOf(db);
  let overdueClaims = 0;
  for (const d of unpaid) {
    const due = await dueOf(d.reportedOn);
    if (due !== null && due < today) overdueClaims += d._count._all;
  }
  const openDisputes = await db.claimDispute.count({
    where: { closedAt: null, withdrawnAt: null, claim: { enterpriseId, withdrawnAt: null } },
  });
  const valid = policies.filter((p) => p.status === 'valid');
  return {
    enterprise,
    /** The latest policies (at most LOOKUP_LIMIT) and how many there are. */
    policies: policies.slice(0, LOOKUP_LIMIT),
    policyCount: policies.length,
    inForce: valid.filter((p) => p.startOn <= today && p.endOn >= today),
    lapses: lapses(valid, today).reverse().slice(0, LOOKUP_LIMIT),
    visits,
    visitCount,
    open: {
      unconfirmedVisits: unconfirmed,
      unpaidClaims: unpaid.reduce((n, d) => n + d._count._all, 0),
      overdueClaims,
      openDisputes,
    },
    claims,
    claimCount,
    findings,
  };
}
export type EnterpriseProfile = Awaited<ReturnType<typeof enterpriseProfile>>;
