import { addDays } from '../clock.ts';
import { UserError } from '../core/errors.ts';
import type { Member } from '../core/roles.ts';
import { MAX_COUNT, parseCount } from '../core/words.ts';
import type { Tx } from '../db/client.ts';
import { refreshCover } from './cover.ts';
import { findEnterprise, type EnterpriseRef, type UnitRef } from './directory.ts';
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
  const leads = await db.sectorResponsibility.findMany({
    where: { sectorId: enterprise.sectorId, role: 'lead' },
    include: { unit: true },
  });
  const unitId = member.unit?.id;
  const allowed =
    member.roles.includes('admin') ||
    (member.roles.includes('insurer') && unitId === insurer.id) ||
    (member.roles.includes('liaison') &&
      unitId !== undefined &&
      (unitId === enterprise.townshipId || leads.some((l) => l.unitId === unitId)));
  if (allowed) return;
  const township = await db.unit.findUniqueOrThrow({ where: { id: enterprise.townshipId } });
  throw new UserError('insure.not_allowed', {
    enterprise: enterprise.name,
    insurer: insurer.name,
    township: township.name,
    departments: leads.map((l) => l.unit.name).join('、') || '—',
  });
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
}

/** Records a policy: refuses a number the insurer already used; links the policy it renews; applies the liability rule of its start day. */
export async function recordPolicy(db: Tx, p: NewPolicy) {
  if (p.endOn <= p.startOn) throw new UserError('insure.end_before_start', { start: p.startOn, end: p.endOn });
  const same = await db.policy.findUnique({
    where: { insurerId_policyNo: { insurerId: p.insurer.id, policyNo: p.policyNo } },
    include: { enterprise: true },
  });
  if (same)
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
  const rule = await ruleInForce(db, 'min_liability_per_person', p.startOn);
  const policy = await db.policy.create({
    data: {
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
    },
  });
  await refreshCover(db, [p.enterprise.id], p.today);
  return { policy, renews, rule };
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
