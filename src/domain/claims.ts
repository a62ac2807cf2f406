import { z } from 'zod';
import { addDays } from '../clock.ts';
import { UserError } from '../core/errors.ts';
import { wordTable } from '../core/words.ts';
import { neutral, trusted, type Trusted } from '../core/neutral.ts';
import type { Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';
import { daysBetween } from './obligations.ts';
import { parseYuanToFen, ruleInForce, yuan, type RuleInForce } from './policies.ts';
import { rankSorted, type Ranked } from './ranking.ts';
import { insurersOn, policyOn } from './visits.ts';
import { FINDING_KINDS, type FindingKind } from './findings.ts';

// Claims and disputes (及时赔付、争议协调, the plan's §三(二)): an insurer records a claim of an
// enterprise it insured on the accident day, then its payment; a claim unpaid past the campaign's
// limit (the rule `claim_payment_days`, days from the report) is overdue. A dispute names the unit
// that coordinates it and ends with an outcome. Per insurer, the figures /排名, the dashboard and
// the export show: claims, the median days from report to payment, open disputes, and the
// third-party agencies' findings on its service. Money is whole fen, never a float.

/** The campaign file's rule: days from a claim's report by which it should be paid. */
const CLAIM_PAYMENT_RULE = 'claim_payment_days';

/** Fen as shown: ¥12,000 or ¥12,000.5 (exact: fen are whole, so at most two decimals). */
export const fenYuan = (fen: number): string => yuan(fen / 100);

/** An amount of money as typed (12000, 1.2万, 12000.50 元) in whole fen, more than zero; else refused with `message`. */
export const moneyArg = (message: string) =>
  z.string().transform((v, ctx) => {
    const fen = parseYuanToFen(v);
    return fen !== null && fen > 0 ? fen : (ctx.addIssue({ code: 'custom', message }), z.NEVER);
  });

/** The payment limit in force for a claim reported on a day, or null when the campaign sets none. */
export const paymentLimit = (db: Tx, reportedOn: string): Promise<RuleInForce | null> =>
  ruleInForce(db, CLAIM_PAYMENT_RULE, reportedOn);

/** The last day a claim reported on `reportedOn` may be paid on time. */
export const payBy = (reportedOn: string, limit: RuleInForce): string => addDays(reportedOn, limit.value);

/**
 * The day each claim is to be paid by, under the limit in force on its report day (null: no limit),
 * for any list of claims: the limit's history (a few rows) is read once, on the first call.
 */
export function payByOf(db: Tx): (reportedOn: string) => Promise<string | null> {
  let history: Promise<RuleInForce[]> | undefined;
  return async (reportedOn) => {
    history ??= db.ruleSetting.findMany({
      where: { key: CLAIM_PAYMENT_RULE },
      orderBy: { effectiveOn: 'desc' },
      select: { value: true, effectiveOn: true, source: true },
    });
    const limit = (await history).find((r) => r.effectiveOn <= reportedOn);
    return limit ? payBy(reportedOn, limit) : null;
  };
}

/** '#7 某某化工有限公司 · 2026-11-20 事故': how a claim is named in replies and notices. */
export function claimLabel(t: Translate, c: { id: number; accidentOn: string; enterprise: { name: string } }): Trusted {
  return trusted(t('claim.label', { id: c.id, enterprise: neutral(c.enterprise.name), accident: c.accidentOn }));
}

/** What a claim list reads of a claim's disputes: the latest not withdrawn (by id), as its line shows it. */
export const LATEST_DISPUTE = {
  where: { withdrawnAt: null },
  include: { coordinator: true },
  orderBy: { id: 'desc' },
  take: 1,
} as const;

/** A claim as its line shows it, with its disputes read as LATEST_DISPUTE reads them. */
export interface ListedClaim {
  id: number;
  accidentOn: string;
  enterprise: { name: string };
  insurer: { name: string };
  claimedFen: number;
  paidFen: number | null;
  paidOn: string | null;
  disputes: { closedAt: Date | null; outcome: string | null; coordinator: { name: string } }[];
}

/**
 * A claim's line in /查询 and /理赔记录: '#7 某某化工有限公司 · 2026-11-20 事故 · 平安 · 报损 ¥85,000 ·
 * 已赔付 …' — paid, overdue (unpaid past `due`, its pay-by day; null when the campaign sets no
 * limit) or unpaid, then its latest dispute, open or closed with its outcome.
 */
export function claimLine(t: Translate, c: ListedClaim, due: string | null, today: string): string {
  const state = c.paidOn
    ? t('lookup.claim_paid', { amount: fenYuan(c.paidFen!), date: c.paidOn })
    : due !== null && due < today
      ? t('lookup.claim_overdue', { due })
      : t('lookup.claim_unpaid');
  const d = c.disputes[0];
  const dispute = d
    ? ` · ${t(d.closedAt ? 'lookup.dispute_closed' : 'lookup.dispute_open', {
        unit: d.coordinator.name,
        outcome: d.outcome ? t(`dispute.outcome.${d.outcome}`) : '',
      })}`
    : '';
  return `${claimLabel(t, c).text} · ${neutral(c.insurer.name)} · ${t('lookup.claimed', { amount: fenYuan(c.claimedFen) })} · ${state}${dispute}`;
}

export interface ClaimInput {
  countyCode: string;
  enterpriseId: number;
  enterpriseName: string;
  insurer: { id: number; name: string };
  accidentOn: string;
  reportedOn: string;
  claimedFen: number;
  note: string | null;
  isDemo: boolean;
  by: string;
  at: Date;
  today: string;
}

/**
 * Records a claim: the accident and the report happened (not after today), the report not before
 * the accident, and the insurer held a valid policy on the enterprise on the accident day.
 * Refuses naming what is wrong; writes nothing then.
 */
export async function recordClaim(db: Tx, c: ClaimInput) {
  if (c.accidentOn > c.today || c.reportedOn > c.today)
    throw new UserError('claim.future', { date: c.accidentOn > c.today ? c.accidentOn : c.reportedOn, today: c.today });
  if (c.reportedOn < c.accidentOn)
    throw new UserError('claim.report_before_accident', { reported: c.reportedOn, accident: c.accidentOn });
  if (!(await policyOn(db, c.insurer.id, c.enterpriseId, c.accidentOn))) {
    const others = await insurersOn(db, c.enterpriseId, c.accidentOn);
    throw new UserError('claim.not_insured', {
      enterprise: c.enterpriseName,
      date: c.accidentOn,
      insurer: c.insurer.name,
      insurers: others.join('、') || '—',
    });
  }
  return db.claim.create({
    data: {
      countyCode: c.countyCode,
      enterpriseId: c.enterpriseId,
      insurerId: c.insurer.id,
      accidentOn: c.accidentOn,
      reportedOn: c.reportedOn,
      claimedFen: c.claimedFen,
      note: c.note,
      recordedBy: c.by,
      recordedAt: c.at,
      isDemo: c.isDemo,
    },
  });
}

/** A claim of the county that is not withdrawn, with its enterprise and insurer; refuses when there is none. */
export async function findClaim(db: Tx, countyCode: string, id: number) {
  const claim = await db.claim.findFirst({
    where: { id, countyCode, withdrawnAt: null },
    include: { enterprise: { include: { sector: true } }, insurer: true },
  });
  if (!claim) throw new UserError('claim.no_claim', { id });
  return claim;
}
export type FoundClaim = Awaited<ReturnType<typeof findClaim>>;

/** Refuses unless the member is the claim's insurer (or an admin). */
export function assertClaimInsurer(
  member: { roles: string[]; unit: { id: number } | null },
  claim: { id: number; insurerId: number; insurer: { name: string } },
): void {
  if (member.roles.includes('admin')) return;
  if (member.roles.includes('insurer') && member.unit?.id === claim.insurerId) return;
  throw new UserError('claim.not_its_insurer', { id: claim.id, insurer: claim.insurer.name });
}

/**
 * Records a claim's payment: not before the accident, not after today, once. Answers the update
 * and the days from report to payment.
 */
export async function recordPayment(
  db: Tx,
  claim: FoundClaim,
  p: { paidFen: number; paidOn: string; by: string; at: Date; today: string },
) {
  if (claim.paidOn)
    throw new UserError('pay.already', { id: claim.id, date: claim.paidOn, amount: fenYuan(claim.paidFen!) });
  if (p.paidOn > p.today) throw new UserError('pay.future', { date: p.paidOn, today: p.today });
  if (p.paidOn < claim.accidentOn)
    throw new UserError('pay.before_accident', { date: p.paidOn, accident: claim.accidentOn });
  const updated = await db.claim.update({
    where: { id: claim.id },
    data: { paidFen: p.paidFen, paidOn: p.paidOn, paidBy: p.by, paidAt: p.at },
  });
  return { claim: updated, days: Math.max(0, daysBetween(claim.reportedOn, p.paidOn)) };
}

/** How a dispute ends, with the words people type for each. */
export const DISPUTE_OUTCOMES = wordTable({
  agreed: ['达成一致', '一致', '和解', '调解成功', '协商一致'],
  upheld: ['维持', '维持原处理', '维持原赔付'],
  referred: ['转仲裁或诉讼', '仲裁', '诉讼', '转仲裁', '转诉讼'],
});
export type DisputeOutcome = (typeof DISPUTE_OUTCOMES.codes)[number];

export const parseOutcome = (word: string): DisputeOutcome | null => DISPUTE_OUTCOMES.code(word);

/** The claim's open dispute, if any. */
export const openDispute = (db: Tx, claimId: number) =>
  db.claimDispute.findFirst({
    where: { claimId, closedAt: null, withdrawnAt: null },
    include: { coordinator: true },
    orderBy: { id: 'desc' },
  });

/**
 * Who may take part in a claim's dispute: the insurer, the enterprise's township and the units
 * answering for its sector (lead or co), its own contact, the leaders, and admins.
 */
export async function assertMayDispute(
  db: Tx,
  member: { roles: string[]; unit: { id: number; kind: string } | null; enterpriseId: number | null },
  claim: FoundClaim,
): Promise<void> {
  if (member.roles.some((r) => r === 'admin' || r === 'leader')) return;
  if (member.roles.includes('insurer') && member.unit?.id === claim.insurerId) return;
  if (member.roles.includes('enterprise') && member.enterpriseId === claim.enterpriseId) return;
  const units = await db.sectorResponsibility.findMany({
    where: { sectorId: claim.enterprise.sectorId },
    select: { unitId: true },
  });
  const unitId = member.unit?.id;
  if (
    member.roles.includes('liaison') &&
    unitId !== undefined &&
    (member.unit?.kind === 'commission_office' ||
      unitId === claim.enterprise.townshipId ||
      units.some((u) => u.unitId === unitId))
  )
    return;
  throw new UserError('dispute.not_party', { id: claim.id, enterprise: claim.enterprise.name });
}

/** The median of numbers, each given with how often it occurs; null for none. */
export function median(values: readonly { value: number; count: number }[]): number | null {
  const s = values.filter((v) => v.count > 0).sort((a, b) => a.value - b.value);
  const n = s.reduce((k, v) => k + v.count, 0);
  if (!n) return null;
  /** The value at a 0-based position of the sorted list the counts stand for. */
  const at = (i: number) => {
    for (const v of s) if ((i -= v.count) < 0) return v.value;
    return s.at(-1)!.value;
  };
  return n % 2 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
}

/** One insurer's service, as /排名, the dashboard and the export show it. */
export interface InsurerService {
  insurer: { id: number; code: string; name: string };
  claims: number;
  paid: number;
  /** Unpaid past the limit in force when they were reported. */
  overdue: number;
  claimedFen: number;
  paidFen: number;
  /** Median days from report to payment of the paid claims; null when none is paid. */
  medianDays: number | null;
  openDisputes: number;
  /** Third-party agencies' findings on its service, by kind. */
  findings: Record<FindingKind, number>;
}

export const findingTotal = (s: InsurerService): number => FINDING_KINDS.reduce((n, k) => n + s.findings[k], 0);

/**
 * Every insurer of the county with its claims (not withdrawn), payments, open disputes and
 * findings, ranked best first: fewest overdue claims, then fewest findings, then fewest open
 * disputes, then the shorter median; insurers that tie share a rank.
 */
export async function insurerService(db: Tx, countyCode: string, today: string): Promise<Ranked<InsurerService>[]> {
  const open = { closedAt: null, withdrawnAt: null };
  const [insurers, claims, disputed, findings] = await Promise.all([
    db.unit.findMany({ where: { countyCode, kind: 'insurer' }, orderBy: { sortOrder: 'asc' } }),
    // Counted and summed per insurer, report day and payment day: what the figures need, however many claims.
    db.claim.groupBy({
      by: ['insurerId', 'reportedOn', 'paidOn'],
      where: { countyCode, withdrawnAt: null },
      _count: { _all: true },
      _sum: { claimedFen: true, paidFen: true },
    }),
    // Only the claims in dispute, each with its open disputes counted.
    db.claim.findMany({
      where: { countyCode, withdrawnAt: null, disputes: { some: open } },
      select: { insurerId: true, _count: { select: { disputes: { where: open } } } },
    }),
    db.agencyFinding.groupBy({
      by: ['insurerId', 'kind'],
      where: { countyCode, withdrawnAt: null },
      _count: { _all: true },
    }),
  ]);
  const dueOf = payByOf(db);
  const due = new Map<string, string | null>();
  for (const day of new Set(claims.filter((c) => c.paidOn === null).map((c) => c.reportedOn)))
    due.set(day, await dueOf(day));
  const byInsurer = new Map<number, InsurerService>(
    insurers.map((u) => [
      u.id,
      {
        insurer: { id: u.id, code: u.code, name: u.name },
        claims: 0,
        paid: 0,
        overdue: 0,
        claimedFen: 0,
        paidFen: 0,
        medianDays: null,
        openDisputes: 0,
        findings: Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>,
      },
    ]),
  );
  const days = new Map<number, { value: number; count: number }[]>();
  for (const c of claims) {
    const s = byInsurer.get(c.insurerId);
    if (!s) continue;
    const n = c._count._all;
    s.claims += n;
    s.claimedFen += c._sum.claimedFen ?? 0;
    if (c.paidOn !== null) {
      s.paid += n;
      s.paidFen += c._sum.paidFen ?? 0;
      const list = days.get(c.insurerId) ?? days.set(c.insurerId, []).get(c.insurerId)!;
      list.push({ value: Math.max(0, daysBetween(c.reportedOn, c.paidOn)), count: n });
    } else {
      const by = due.get(c.reportedOn);
      if (by != null && by < today) s.overdue += n;
    }
  }
  for (const [id, list] of days) byInsurer.get(id)!.medianDays = median(list);
  for (const c of disputed) {
    const s = byInsurer.get(c.insurerId);
    if (s) s.openDisputes += c._count.disputes;
  }
  for (const f of findings) {
    const s = byInsurer.get(f.insurerId);
    if (s && (FINDING_KINDS as readonly string[]).includes(f.kind)) s.findings[f.kind as FindingKind] += f._count._all;
  }
  const rows = [...byInsurer.values()];
  const key = (s: InsurerService) => [s.overdue, findingTotal(s), s.openDisputes, s.medianDays ?? 0];
  const compare = (a: InsurerService, b: InsurerService) => {
    const [x, y] = [key(a), key(b)];
    const i = x.findIndex((v, j) => v !== y[j]);
    return i < 0 ? 0 : x[i]! - y[i]!;
  };
  // A stable sort: insurers that tie keep the campaign's order.
  const sorted = [...rows].sort(compare);
  return rankSorted(sorted, (a, b) => compare(a, b) === 0);
}
