import { addDays } from '../clock.ts';
import { UserError } from '../core/errors.ts';
import type { Member } from '../core/roles.ts';
import { MAX_COUNT, parseCount } from '../core/words.ts';
import type { Tx } from '../db/client.ts';
import { refreshCover } from './cover.ts';
import { rectifyInsurance, type Rectifier } from './inspections.ts';
import { findEnterprise, findInsurer, leadUnits, type EnterpriseRef, type UnitRef } from './directory.ts';
import { neutral, trusted } from '../core/neutral.ts';

// The policy ledger (台账): recording a 安责险 policy, who may record it, renewals, and the rules
// (such as the minimum liability per person) that changed over time.

/** How long after a policy ends a new one still counts as its renewal. */
export const RENEWAL_DAYS = 60;

export interface RuleInForce {
  value: number;
  effectiveOn: string;
  source: string;
}

/** The value of a versioned rule on a day: the row with the latest effectiveOn not after it. */
export async function ruleInForce(db: Tx, key: string, day: string): Promise<RuleInForce | null> {
  return db.ruleSetting.findFirst({
    where: { key, effectiveOn: { lte: day } },
    orderBy: { effectiveOn: 'desc' },
    select: { value: true, effectiveOn: true, source: true },
  });
}

/** One enterprise from a name or credit code; none or several is a refusal (several with a short pick list). */
export async function resolveEnterprise(db: Tx, countyCode: string, word: string, limit = 5): Promise<EnterpriseRef> {
  const { match, candidates } = await findEnterprise(db, countyCode, word, limit);
  if (match) return match;
  if (!candidates.length) throw new UserError('insure.no_enterprise', { word });
  const list = candidates.slice(0, limit).map((e, i) => `${i + 1}. ${neutral(e.name)}（${neutral(e.creditCode)}）`);
  if (candidates.length > limit) list.push('…');
  throw new UserError('insure.pick', { word, list: trusted(list.join('\n')) });
}

/** The insurer a word names (平安); none is a refusal under `key` that lists the county's insurers. */
export async function resolveInsurer(db: Tx, countyCode: string, word: string, key: string): Promise<UnitRef> {
  const insurer = await findInsurer(db, countyCode, word);
  if (insurer) return insurer;
  const known = await db.unit.findMany({ where: { countyCode, kind: 'insurer' }, orderBy: { sortOrder: 'asc' } });
  throw new UserError(key, { word, insurers: known.map((u) => u.name).join('、') || '—' });
}

/**
 * Who may record a policy for an enterprise: the insurer itself, a liaison of the enterprise's
 * township or of the department leading its sector, and admins. Refuses naming them.
 */
export async function assertMayRecordPolicy(
  db: Tx,
  member: Member,
  enterprise: EnterpriseRef,
  insurer: UnitRef,
): Promise<void> {
  const leads = await leadUnits(db, enterprise.sectorId);
  const unitId = member.unit?.id;
  const allowed =
    member.roles.includes('admin') ||
    (member.roles.includes('insurer') && unitId === insurer.id) ||
    (member.roles.includes('liaison') &&
      unitId !== undefined &&
      (unitId === enterprise.townshipId || leads.some((l) => l.id === unitId)));
  if (allowed) return;
  const township = await db.unit.findUniqueOrThrow({ where: { id: enterprise.townshipId } });
  throw new UserError('insure.not_allowed', {
    enterprise: enterprise.name,
    insurer: insurer.name,
    township: township.name,
    departments: leads.map((l) => l.name).join('、') || '—',
  });
}

/** Days two policies of one enterprise may overlap as a renewal before it looks like a double policy. */
export const RENEWAL_OVERLAP_DAYS = 7;

/** A policy's terms as the checks see them; `id` is the policy itself when it is being updated. */
export interface PolicyTerms {
  id?: number;
  enterpriseId: number;
  employees: number;
  startOn: string;
  endOn: string;
  headcount: number;
  premiumFen: number | null;
  /** Yuan per person; null when not stated (the minimum in force is then recorded). */
  liabilityPerPerson: number | null;
}

/** A warning on a policy: a locale key and its values. */
export interface PolicyWarning {
  key: string;
  params: Record<string, string | number>;
}

/** The day `months` calendar months after `day` (clamped to the month's end): 2026-01-31 + 1 → 2026-02-28. */
function addMonths(day: string, months: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const last = new Date(Date.UTC(Math.floor(total / 12), (total % 12) + 1, 0)).getUTCDate();
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** Whole days two day ranges share (inclusive); 0 when they do not meet. */
function sharedDays(a: { startOn: string; endOn: string }, b: { startOn: string; endOn: string }): number {
  const from = a.startOn > b.startOn ? a.startOn : b.startOn;
  const until = a.endOn < b.endOn ? a.endOn : b.endOn;
  return until < from ? 0 : Math.round((Date.parse(until) - Date.parse(from)) / 86_400_000) + 1;
}

/**
 * The one check of a policy, for /投保 and the import alike. Refuses, naming the rule, what cannot
 * be right: an end before its start, a term longer than the campaign's longest, a premium of zero
 * or less. Answers what may be right but needs a look: another policy of the enterprise over the
 * same days beyond a renewal's overlap, a per-person limit below the rule in force on its start
 * day, more insured persons than the enterprise's employees.
 */
export async function checkPolicy(db: Tx, p: PolicyTerms): Promise<PolicyWarning[]> {
  if (p.endOn <= p.startOn) throw new UserError('policy.end_before_start', { start: p.startOn, end: p.endOn });
  const longest = await ruleInForce(db, 'max_policy_months', p.startOn);
  if (longest && p.endOn > addMonths(p.startOn, longest.value))
    throw new UserError('policy.too_long', {
      start: p.startOn,
      end: p.endOn,
      months: longest.value,
      source: longest.source,
      since: longest.effectiveOn,
    });
  if (p.premiumFen !== null && p.premiumFen <= 0) throw new UserError('policy.premium_not_positive');
  const others = await db.policy.findMany({
    where: {
      enterpriseId: p.enterpriseId,
      status: 'valid',
      startOn: { lte: p.endOn },
      endOn: { gte: p.startOn },
      ...(p.id ? { id: { not: p.id } } : {}),
    },
    include: { insurer: { select: { name: true } } },
    orderBy: { startOn: 'asc' },
  });
  return termWarnings(p, others, await ruleInForce(db, 'min_liability_per_person', p.startOn));
}

type OtherPolicy = { policyNo: string; startOn: string; endOn: string; insurer: { name: string } };

/** checkPolicy's warnings, given the enterprise's other valid policies and the liability rule of the start day. */
function termWarnings(p: PolicyTerms, others: OtherPolicy[], minimum: RuleInForce | null): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  for (const o of others) {
    const days = sharedDays(o, p);
    if (days > RENEWAL_OVERLAP_DAYS)
      warnings.push({
        key: 'policy.overlap',
        params: { policyNo: o.policyNo, insurer: o.insurer.name, start: o.startOn, end: o.endOn, days },
      });
  }
  if (minimum && p.liabilityPerPerson !== null && p.liabilityPerPerson < minimum.value)
    warnings.push({
      key: 'policy.liability_below',
      params: {
        amount: yuan(p.liabilityPerPerson),
        minimum: yuan(minimum.value),
        source: minimum.source,
        since: minimum.effectiveOn,
      },
    });
  if (p.headcount > p.employees) warnings.push({ key: 'insure.headcount_above', params: { employees: p.employees } });
  return warnings;
}

/** The county's policies in force or to come with checkPolicy's warnings, for leaders to look at (/逾期 保单). */
export async function policiesToCheck(db: Tx, countyCode: string, today: string) {
  const [policies, rules] = await Promise.all([
    db.policy.findMany({
      where: { status: 'valid', endOn: { gte: today }, enterprise: { countyCode } },
      include: { insurer: { select: { name: true } }, enterprise: { select: { name: true, employees: true } } },
      orderBy: [{ enterpriseId: 'asc' }, { startOn: 'asc' }, { id: 'asc' }],
    }),
    db.ruleSetting.findMany({ where: { key: 'min_liability_per_person' }, orderBy: { effectiveOn: 'desc' } }),
  ]);
  const byEnterprise = new Map<number, typeof policies>();
  for (const p of policies) {
    const list = byEnterprise.get(p.enterpriseId);
    if (list) list.push(p);
    else byEnterprise.set(p.enterpriseId, [p]);
  }
  return policies
    .map((p) => ({
      policy: p,
      warnings: termWarnings(
        {
          enterpriseId: p.enterpriseId,
          employees: p.enterprise.employees,
          startOn: p.startOn,
          endOn: p.endOn,
          headcount: p.insuredHeadcount,
          premiumFen: p.premiumFen,
          liabilityPerPerson: p.liabilityPerPerson,
        },
        byEnterprise.get(p.enterpriseId)!.filter((o) => o.id !== p.id),
        rules.find((r) => r.effectiveOn <= p.startOn) ?? null,
      ),
    }))
    .filter((x) => x.warnings.length);
}

export interface NewPolicy {
  enterprise: EnterpriseRef;
  insurer: UnitRef;
  policyNo: string;
  startOn: string;
  endOn: string;
  headcount: number;
  premiumFen: number | null;
  isDemo: boolean;
  /** As the policy states it (yuan); else the minimum in force on its start day. */
  liabilityPerPerson?: number | null;
  /** Today in the campaign's time zone: the enterprise's kept cover is refreshed around it. */
  today: string;
  /** Who records it: rectification items it settles close in their name (rectifyInsurance). */
  rectifier: Rectifier;
}

/** Records a policy: checks it (checkPolicy); refuses a number the insurer already used; links the policy it renews; applies the liability rule of its start day. */
export async function recordPolicy(db: Tx, p: NewPolicy) {
  const rule = await ruleInForce(db, 'min_liability_per_person', p.startOn);
  const warnings = await checkPolicy(db, {
    enterpriseId: p.enterprise.id,
    employees: p.enterprise.employees,
    startOn: p.startOn,
    endOn: p.endOn,
    headcount: p.headcount,
    premiumFen: p.premiumFen,
    liabilityPerPerson: p.liabilityPerPerson ?? null,
  });
  const same = await db.policy.findUnique({
    where: { insurerId_policyNo: { insurerId: p.insurer.id, policyNo: p.policyNo } },
    include: { enterprise: true },
  });
  // A policy its author withdrew may be entered again under its number (the withdrawal stays in the audit trail).
  if (same && same.status !== 'withdrawn')
    throw new UserError('insure.duplicate', {
      policyNo: p.policyNo,
      insurer: p.insurer.name,
      enterprise: same.enterprise.name,
    });
  const renews = await db.policy.findFirst({
    where: {
      enterpriseId: p.enterprise.id,
      status: 'valid',
      endOn: { gte: addDays(p.startOn, -RENEWAL_DAYS), lte: p.startOn },
    },
    orderBy: { endOn: 'desc' },
  });
  const data = {
    policyNo: p.policyNo,
    insurerId: p.insurer.id,
    enterpriseId: p.enterprise.id,
    startOn: p.startOn,
    endOn: p.endOn,
    insuredHeadcount: p.headcount,
    premiumFen: p.premiumFen,
    liabilityPerPerson: p.liabilityPerPerson ?? rule?.value ?? null,
    renewsPolicyId: renews?.id ?? null,
    isDemo: p.isDemo,
  };
  const policy = same
    ? await db.policy.update({
        where: { id: same.id },
        data: { ...data, status: 'valid', withdrawnAt: null, withdrawnBy: null },
      })
    : await db.policy.create({ data });
  await refreshCover(db, [p.enterprise.id], p.today);
  const rectified = await rectifyInsurance(db, policy, p.today, p.rectifier);
  return { policy, renews, rule, warnings, rectified };
}

/** The last day of the enterprise's unbroken cover from `day` on, through back-to-back policies; null when not insured that day. */
export async function insuredUntil(db: Tx, enterpriseId: number, day: string): Promise<string | null> {
  const policies = await db.policy.findMany({
    where: { enterpriseId, status: 'valid', endOn: { gte: day } },
    orderBy: { startOn: 'asc' },
  });
  let until: string | null = null;
  for (let grew = true; grew;) {
    grew = false;
    const from = until === null ? day : addDays(until, 1);
    for (const p of policies) {
      if (p.startOn <= from && (until === null || p.endOn > until)) {
        until = p.endOn;
        grew = true;
      }
    }
  }
  return until;
}

/** Yuan as typed (12000, 1.2万, 一万二千, 12000.50, ¥12000元) → fen; null when it is not an amount (or too large to store). */
export function parseYuanToFen(text: string): number | null {
  const s = text
    .trim()
    .replace(/^[¥￥]/, '')
    .replace(/元$/, '');
  const decimal = /^(\d+)(?:\.(\d{1,2}))?(万)?$/.exec(s);
  let fen: number | null;
  if (decimal) {
    fen = Number(decimal[1]) * 100 + Number((decimal[2] ?? '').padEnd(2, '0'));
    if (decimal[3]) fen *= 10000;
  } else {
    const n = parseCount(s);
    fen = n === null ? null : n * 100;
  }
  return fen !== null && fen <= MAX_COUNT ? fen : null;
}

/** ¥400,000 */
export const yuan = (value: number): string => `¥${value.toLocaleString('en-US', { maximumFractionDigits: 2 })}`;
