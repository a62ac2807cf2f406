import type { Actor } from './context.ts';
import type { Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';
import { parseCount, wordTable } from '../core/words.ts';
import { daysLate, transition } from './obligations.ts';
import { neutral, trusted, type Trusted } from '../core/neutral.ts';
import { leadUnits } from './directory.ts';

// Accident-prevention services (事故预防服务) that insurers owe the enterprises they insure, as
// AQ 9010-2019 lists them. A visit record is archived only when both sides confirmed it: the
// insurer (by recording it) and the enterprise (its contact, or a liaison on its behalf).

const SERVICE_TYPES = wordTable({
  training: ['培训', '宣传培训', '教育培训', '宣传教育培训', '宣传'],
  risk_assessment: ['评估', '风险评估', '风险辨识', '安全评价', '评价'],
  standardisation: ['标准化', '标准化建设'],
  hazard_inspection: ['隐患排查', '排查', '隐患'],
  emergency_drill: ['应急演练', '演练', '应急预案', '预案'],
  technology: ['科技推广', '科技', '推广'],
  other: ['其他', '其它'],
});
export type ServiceType = (typeof SERVICE_TYPES.codes)[number];

export const parseServiceType = (word: string): ServiceType | null => SERVICE_TYPES.code(word);

/**
 * A plan given as counts per service type (培训4 排查6 演练一次); null when any word is not
 * such a count, so the plan is kept as text.
 */
export function parseServiceCounts(text: string): Partial<Record<ServiceType, number>> | null {
  const words = text.split(/[\s,，、;；]+/).filter(Boolean);
  if (!words.length) return null;
  const counts: Partial<Record<ServiceType, number>> = {};
  for (const w of words) {
    const lower = w.toLowerCase();
    const alias = SERVICE_TYPES.words.find((a) => lower.startsWith(a.word));
    const n = alias
      ? parseCount(
          lower
            .slice(alias.word.length)
            .replace(/^[:：=]/, '')
            .replace(/次$/, ''),
        )
      : null;
    if (!alias || n === null) return null;
    counts[alias.code] = (counts[alias.code] ?? 0) + n;
  }
  return counts;
}

/** Whether both sides confirmed: only then is a visit record archived (AQ 9010). */
export function isArchived(v: { insurerConfirmedAt: Date | null; enterpriseConfirmedAt: Date | null }): boolean {
  return v.insurerConfirmedAt !== null && v.enterpriseConfirmedAt !== null;
}

/** The insurer's policy on the enterprise valid on a day, or null. */
export function policyOn(db: Tx, insurerId: number, enterpriseId: number, day: string) {
  return db.policy.findFirst({
    where: { insurerId, enterpriseId, status: 'valid', startOn: { lte: day }, endOn: { gte: day } },
    orderBy: { endOn: 'desc' },
  });
}

/** The insurers (by name) of an enterprise's policies valid on a day: who insured it instead. */
export async function insurersOn(db: Tx, enterpriseId: number, day: string): Promise<string[]> {
  const policies = await db.policy.findMany({
    where: { enterpriseId, status: 'valid', startOn: { lte: day }, endOn: { gte: day } },
    include: { insurer: true },
  });
  return [...new Set(policies.map((p) => p.insurer.name))];
}

/**
 * Who confirms a visit for the enterprise: its own contacts where it has any; otherwise, on its
 * behalf, the liaisons of its township and of the departments leading its sector.
 */
export async function enterpriseSide(db: Tx, enterpriseId: number) {
  const enterprise = await db.enterprise.findUniqueOrThrow({
    where: { id: enterpriseId },
    include: { township: true },
  });
  const contacts = await db.member.findMany({ where: { enterpriseId, active: true }, orderBy: { id: 'asc' } });
  return { enterprise, contacts, township: enterprise.township, leadUnits: await leadUnits(db, enterprise.sectorId) };
}

export type ConfirmRefusal =
  | { reason: 'insurer' }
  | { reason: 'has_contact'; contacts: string[] }
  | { reason: 'not_responsible'; units: string[] };

/** May this member confirm the enterprise's side of a visit? Insurers never may: theirs is the other side. */
export async function mayConfirm(
  db: Tx,
  member: { roles: string[]; unit: { id: number } | null; enterpriseId: number | null },
  enterpriseId: number,
): Promise<ConfirmRefusal | null> {
  if (member.roles.includes('insurer')) return { reason: 'insurer' };
  if (member.roles.includes('admin') || member.enterpriseId === enterpriseId) return null;
  const side = await enterpriseSide(db, enterpriseId);
  if (side.contacts.length) return { reason: 'has_contact', contacts: side.contacts.map((c) => c.name) };
  const unitId = member.unit?.id;
  const responsible =
    member.roles.includes('liaison') && (side.township.id === unitId || side.leadUnits.some((u) => u.id === unitId));
  return responsible
    ? null
    : { reason: 'not_responsible', units: [side.township.name, ...side.leadUnits.map((u) => u.name)] };
}

/** Which visits a member may list; a member with no scope of their own gets a filter that matches nothing. */
export async function visibleVisits(
  db: Tx,
  countyCode: string,
  member: { roles: string[]; unit: { id: number; kind: string } | null; enterpriseId: number | null },
) {
  const inCounty = { enterprise: { countyCode } };
  if (['admin', 'leader', 'viewer', 'agency'].some((r) => member.roles.includes(r))) return inCounty;
  const any: object[] = [];
  const unit = member.unit;
  if (member.roles.includes('insurer') && unit?.kind === 'insurer') any.push({ insurerId: unit.id });
  if (member.roles.includes('enterprise') && member.enterpriseId) any.push({ enterpriseId: member.enterpriseId });
  if (member.roles.includes('liaison') && unit) {
    const leads = await db.sectorResponsibility.findMany({ where: { unitId: unit.id, role: 'lead' } });
    any.push({ enterprise: { OR: [{ townshipId: unit.id }, { sectorId: { in: leads.map((l) => l.sectorId) } }] } });
  }
  return { ...inCounty, OR: any.length ? any : [{ id: -1 }] };
}

/** '2026-11', '2026年11月' or '11月' (this year) → '2026-11'; null when it is not a month. */
export function parseMonth(text: string, today: string): string | null {
  const s = text.trim();
  let m = /^(\d{4})[-/.年](\d{1,2})月?$/.exec(s);
  const month = (y: string, mm: string) => (Number(mm) >= 1 && Number(mm) <= 12 ? `${y}-${mm.padStart(2, '0')}` : null);
  if (m) return month(m[1]!, m[2]!);
  m = /^(\d{1,2})月(份)?$/.exec(s);
  return m ? month(today.slice(0, 4), m[1]!) : null;
}

export const ANNUAL_REPORT_DUTY = 'insurer-annual-report';

/**
 * Records an insurer's service plan for a year (replacing an earlier one) and marks its
 * annual-report obligation for that year done: the plan is what that report owes.
 */
/** The history note of an annual report closed by a service plan (the export words it). */
export const SERVICE_PLAN_NOTE = 'service plan';

export async function recordServicePlan(
  ctx: Pick<Actor, 'db' | 'campaign' | 'member' | 'clock' | 'userId' | 'undoable' | 'today'>,
  p: { insurerId: number; year: number; text: string; counts: Partial<Record<ServiceType, number>> | null },
) {
  const { db, campaign, clock, userId } = ctx;
  const data = {
    text: p.text,
    counts: p.counts ? JSON.stringify(p.counts) : null,
    recordedBy: userId,
    recordedAt: clock.now(),
  };
  const key = { insurerId_year: { insurerId: p.insurerId, year: p.year } };
  const previous = await db.servicePlan.findUnique({ where: key });
  const plan = await db.servicePlan.upsert({
    where: key,
    create: { insurerId: p.insurerId, year: p.year, ...data },
    update: data,
  });
  ctx.undoable(
    previous
      ? {
          model: 'servicePlan',
          action: 'update',
          where: { id: plan.id },
          data: {
            text: previous.text,
            counts: previous.counts,
            recordedBy: previous.recordedBy,
            recordedAt: previous.recordedAt,
          },
        }
      : { model: 'servicePlan', action: 'delete', where: { id: plan.id } },
  );

  const duty = await db.duty.findUnique({
    where: { campaignId_key: { campaignId: campaign.id, key: ANNUAL_REPORT_DUTY } },
  });
  const obligation =
    duty &&
    (await db.obligation.findUnique({
      where: {
        campaignId_dutyId_unitId_period: {
          campaignId: campaign.id,
          dutyId: duty.id,
          unitId: p.insurerId,
          period: String(p.year),
        },
      },
    }));
  const fulfilled = !obligation ? 'none' : obligation.status === 'done' ? 'before' : 'now';
  if (obligation && fulfilled === 'now')
    await transition(
      ctx,
      obligation,
      { toStatus: 'done', note: SERVICE_PLAN_NOTE },
      { status: 'done', doneAt: clock.now() },
    );
  const late = obligation && fulfilled === 'now' ? daysLate(obligation.dueOn, ctx.today) : 0;
  return { plan, updated: previous !== null, obligation, fulfilled, late };
}

export type VisitRefusal = { reason: 'future' } | { reason: 'not_insured'; insuredBy: string[] };

/**
 * Records a visit that took place, at an enterprise the insurer insured on that day; recording
 * it is the insurer's side of the confirmation.
 */
export async function recordVisit(
  db: Tx,
  v: {
    insurerId: number;
    enterpriseId: number;
    serviceType: ServiceType;
    visitedOn: string;
    staff: string | null;
    findings: string | null;
    by: string;
    at: Date;
    today: string;
  },
) {
  if (v.visitedOn > v.today) return { refusal: { reason: 'future' } as VisitRefusal };
  if (!(await policyOn(db, v.insurerId, v.enterpriseId, v.visitedOn)))
    return {
      refusal: { reason: 'not_insured', insuredBy: await insurersOn(db, v.enterpriseId, v.visitedOn) } as VisitRefusal,
    };
  const visit = await db.preventionVisit.create({
    data: {
      enterpriseId: v.enterpriseId,
      insurerId: v.insurerId,
      serviceType: v.serviceType,
      visitedOn: v.visitedOn,
      staff: v.staff,
      findings: v.findings,
      recordedBy: v.by,
      insurerConfirmedAt: v.at,
      insurerConfirmedBy: v.by,
      createdAt: v.at,
    },
  });
  return { visit };
}

/** '#12 2026-11-28 某某化工有限公司 · 隐患排查': how a visit is named in replies and notices (its name neutralised, so a template shows it as it is). */
export function visitLabel(
  t: Translate,
  v: {
    id: number;
    visitedOn: string | null;
    plannedOn: string | null;
    serviceType: string;
    enterprise: { name: string };
  },
): Trusted {
  return trusted(
    `#${v.id} ${v.visitedOn ?? v.plannedOn ?? '—'} ${neutral(v.enterprise.name)} · ${serviceName(t, v.serviceType)}`,
  );
}

export function serviceName(t: Translate, code: string): string {
  return t(`visit.type.${code}`);
}
