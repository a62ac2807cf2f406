import { Prisma } from '../generated/prisma/client.ts';
import type { Tx } from '../db/client.ts';
import { UserError } from '../core/errors.ts';
import { wordTable } from '../core/words.ts';
import type { Member } from '../core/roles.ts';
import { leadUnits, type EnterpriseRef, type UnitRef } from './directory.ts';
import { addDays } from '../clock.ts';
import type { Translate } from '../i18n.ts';
import { percent } from '../core/format.ts';
import { rankSorted, type Ranked } from './ranking.ts';

// The October enforcement inspection (专项执法检查, plan §三(四)): every sector department inspects,
// before the end of October, whether the enterprises of its sectors hold 安责险. An inspection
// records what was found at one enterprise, with a rectification deadline and a penalty. The
// duty whose `counts` is 'inspections' shows its progress: the enterprises in scope of the unit's
// sectors inspected in the duty's year, against all of them.

/** What an inspection can find, with the words people type; `compliant` stands alone. */
const FINDINGS = wordTable({
  compliant: ['合规', '正常', '已投保', '全员投保', '已全员投保'],
  uninsured: ['未投保', '没投保', '无保险'],
  lapsed: ['未续保', '断保', '脱保'],
  partial: ['未全员', '未全员投保', '部分投保', '未覆盖全员'],
  charged: ['摊派', '摊派保费', '员工承担'],
  other: ['其他', '其它'],
});
export type Finding = (typeof FINDINGS.codes)[number];

/** Findings about the policy itself: rectified when a valid policy covers the headcount. */
const INSURANCE_FINDINGS: readonly Finding[] = ['uninsured', 'lapsed', 'partial'];

export const isInsuranceFinding = (finding: string | null): boolean =>
  (INSURANCE_FINDINGS as readonly (string | null)[]).includes(finding);

/** Findings as typed (未投保、摊派 or 未投保,摊派), each once; null when a word is none or 合规 comes with others. */
export function parseFindings(text: string): Finding[] | null {
  const words = text.split(/[、,，;；+＋/]+/).filter(Boolean);
  const codes = words.map((w) => FINDINGS.code(w));
  if (!codes.length || codes.some((c) => c === null)) return null;
  const unique = [...new Set(codes as Finding[])];
  return unique.includes('compliant') && unique.length > 1 ? null : unique;
}

/** The days of a duty's period (a year) in which its inspections count. */
const periodDays = (period: string) => ({ gte: `${period}-01-01`, lte: `${period}-12-31` });

/**
 * Who may inspect an enterprise: a liaison of its township, or of a department answering for its
 * sector (lead or co-responsible). Refuses naming who may.
 */
export async function assertMayInspect(
  db: Tx,
  member: Member,
  enterprise: EnterpriseRef,
): Promise<{ id: number; name: string; kind: string }> {
  const unit = member.unit;
  const responsible = await db.sectorResponsibility.findMany({
    where: { sectorId: enterprise.sectorId, unit: { kind: 'department' } },
    include: { unit: true },
    orderBy: { unit: { sortOrder: 'asc' } },
  });
  const allowed =
    unit &&
    (member.roles.includes('liaison') || member.roles.includes('admin')) &&
    ((unit.kind === 'township' && unit.id === enterprise.townshipId) ||
      (unit.kind === 'department' && responsible.some((r) => r.unitId === unit.id)));
  if (allowed) return unit;
  const township = await db.unit.findUniqueOrThrow({ where: { id: enterprise.townshipId } });
  throw new UserError('inspect.not_allowed', {
    enterprise: enterprise.name,
    unit: unit?.name ?? '—',
    township: township.name,
    departments: responsible.map((r) => r.unit.name).join('、') || '—',
  });
}

export interface InspectionProgress {
  unit: { id: number; code: string; name: string };
  /** Operating enterprises in scope of the sectors the unit leads (every one in a high-risk sector, 规模以上 elsewhere). */
  inScope: number;
  /** Of those, the ones inspected at least once in the period. */
  inspected: number;
  rate: number | null;
}

/**
 * The October inspection's progress of every lead department, in the campaign's order: the
 * enterprises in scope of the sectors it leads, and how many of them were inspected (by anyone)
 * in the period. Two grouped counts whatever the county's size; for some units only, over their sectors only.
 */
export async function inspectionProgress(
  db: Tx,
  campaignId: number,
  period: string,
  unitIds?: number[],
): Promise<InspectionProgress[]> {
  const [campaign, sectors, leads] = await Promise.all([
    db.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { countyCode: true } }),
    db.sector.findMany({ where: { campaignId }, select: { id: true, highRisk: true } }),
    db.sectorResponsibility.findMany({
      where: { role: 'lead', sector: { campaignId }, ...(unitIds && { unitId: { in: unitIds } }) },
      include: { unit: true },
      orderBy: [{ unit: { sortOrder: 'asc' } }, { unitId: 'asc' }],
    }),
  ]);
  const led = new Set(leads.map((l) => l.sectorId));
  if (!led.size) return [];
  const { countyCode } = campaign;
  const highRisk = new Map(sectors.map((s) => [s.id, s.highRisk]));
  const ids = Prisma.join([...led]);
  const { gte, lte } = periodDays(period);
  type Group = { sectorId: number; aboveScale: boolean | number; n: bigint | number };
  // Grouped by what decides the scope, which is then read here: booleans differ between the databases.
  const [scope, inspected] = await Promise.all([
    db.$queryRaw<Group[]>`
      SELECT e."sectorId" AS "sectorId", e."aboveScale" AS "aboveScale", COUNT(*) AS n FROM "Enterprise" e
      WHERE e."countyCode" = ${countyCode} AND e.status = 'operating' AND e."sectorId" IN (${ids})
      GROUP BY e."sectorId", e."aboveScale"`,
    db.$queryRaw<Group[]>`
      SELECT e."sectorId" AS "sectorId", e."aboveScale" AS "aboveScale", COUNT(*) AS n FROM "Enterprise" e
      WHERE e.id IN (SELECT i."enterpriseId" FROM "Inspection" i WHERE i."campaignId" = ${campaignId}
          AND i."inspectedOn" >= ${gte} AND i."inspectedOn" <= ${lte} AND i."withdrawnAt" IS NULL)
        AND e.status = 'operating' AND e."sectorId" IN (${ids}) GROUP BY e."sectorId", e."aboveScale"`,
  ]);
  const count = (rows: Group[]) => {
    const out = new Map<number, number>();
    for (const r of rows) {
      const sectorId = Number(r.sectorId);
      if (highRisk.get(sectorId) || Boolean(r.aboveScale)) out.set(sectorId, (out.get(sectorId) ?? 0) + Number(r.n));
    }
    return out;
  };
  const [scopeOf, inspectedOf] = [count(scope), count(inspected)];
  const out = new Map<number, InspectionProgress>();
  for (const l of leads) {
    const row = out.get(l.unitId) ?? {
      unit: { id: l.unit.id, code: l.unit.code, name: l.unit.name },
      inScope: 0,
      inspected: 0,
      rate: null,
    };
    row.inScope += scopeOf.get(l.sectorId) ?? 0;
    row.inspected += inspectedOf.get(l.sectorId) ?? 0;
    row.rate = row.inScope ? row.inspected / row.inScope : null;
    out.set(l.unitId, row);
  }
  return [...out.values()];
}

/** The progress of the obligations that count inspections, by obligation id (the others have none). */
export async function dutyProgress(
  db: Tx,
  campaignId: number,
  obligations: { id: number; dutyId: number | null; unitId: number; period: string }[],
): Promise<Map<number, InspectionProgress>> {
  const duties = new Set(
    (await db.duty.findMany({ where: { campaignId, counts: 'inspections' }, select: { id: true } })).map((d) => d.id),
  );
  const counted = obligations.filter((o) => o.dutyId !== null && duties.has(o.dutyId));
  const out = new Map<number, InspectionProgress>();
  for (const period of new Set(counted.map((o) => o.period))) {
    const of = counted.filter((x) => x.period === period);
    const rows = await inspectionProgress(
      db,
      campaignId,
      period,
      of.map((o) => o.unitId),
    );
    for (const o of of) {
      const row = rows.find((r) => r.unit.id === o.unitId);
      if (row) out.set(o.id, row);
    }
  }
  return out;
}

/** "已检查 12/340 家（3.5%）" */
export const progressText = (t: Translate, p: InspectionProgress): string =>
  t('inspect.progress', { inspected: p.inspected, inScope: p.inScope, rate: percent(p.rate) });

export interface NewInspection {
  campaignId: number;
  enterprise: EnterpriseRef;
  unitId: number;
  inspectedOn: string;
  findings: Finding[];
  note: string | null;
  rectifyBy: string | null;
  penalty: { no: string; fen: number } | null;
  by: string;
  at: Date;
}

/** Days to rectify when the inspector set no deadline. */
export const DEFAULT_RECTIFY_DAYS = 30;

/**
 * Who answers for an enterprise's rectification (整改): the department leading its sector (行业主管部门,
 * which the plan charges with demanding it), else its township.
 */
async function responsibleUnit(db: Tx, enterprise: { sectorId: number; townshipId: number }): Promise<UnitRef> {
  const [lead] = await leadUnits(db, enterprise.sectorId);
  if (lead) return lead;
  const u = await db.unit.findUniqueOrThrow({ where: { id: enterprise.townshipId } });
  return { id: u.id, code: u.code, name: u.name, kind: u.kind };
}

/**
 * Records an inspection as found (the enterprise's sector and township copied onto it), and for
 * each finding but 合规 a rectification item (an obligation with its 交办 event) of the enterprise's
 * responsible unit, due by the deadline set or DEFAULT_RECTIFY_DAYS after the inspection. Titles
 * are in `t`, the deployment's language.
 */
export async function recordInspection(db: Tx, i: NewInspection, t: Translate) {
  const inspection = await createInspection(db, i);
  const owner = await responsibleUnit(db, inspection);
  const dueOn = i.rectifyBy ?? addDays(i.inspectedOn, DEFAULT_RECTIFY_DAYS);
  const items = [];
  for (const finding of i.findings.filter((f) => f !== 'compliant'))
    items.push(
      await db.obligation.create({
        data: {
          campaignId: i.campaignId,
          unitId: owner.id,
          sectorId: inspection.sectorId,
          title: t('rectify.title', { enterprise: i.enterprise.name, finding: t(`inspect.finding.${finding}`) }),
          period: dueOn.slice(0, 4),
          dueOn,
          assignedBy: i.by,
          inspectionId: inspection.id,
          finding,
          isDemo: inspection.isDemo,
          events: { create: { toStatus: 'assigned', actorUserId: i.by, at: i.at } },
        },
      }),
    );
  return { inspection, owner, items };
}

function createInspection(db: Tx, i: NewInspection) {
  return db.inspection.create({
    data: {
      campaignId: i.campaignId,
      enterpriseId: i.enterprise.id,
      unitId: i.unitId,
      sectorId: i.enterprise.sectorId,
      townshipId: i.enterprise.townshipId,
      inspectedOn: i.inspectedOn,
      findings: i.findings.join('|'),
      note: i.note,
      rectifyBy: i.rectifyBy,
      penaltyNo: i.penalty?.no ?? null,
      penaltyFen: i.penalty?.fen ?? null,
      recordedBy: i.by,
      recordedAt: i.at,
      isDemo: i.enterprise.isDemo,
    },
  });
}

/** The findings of a stored inspection, in the caller's words: 未投保、摊派保费 */
export const findingsText = (t: Translate, findings: string): string =>
  findings
    .split('|')
    .map((f) => t(`inspect.finding.${f}`))
    .join('、');

export interface InspectionRanking {
  /** The duty's year and due day this year. */
  period: string;
  dueOn: string;
  /** Lead departments by the share of their enterprises inspected, best first. */
  ranked: Ranked<InspectionProgress>[];
}

/** The year's inspection duty, its lead departments ranked by progress; null when the campaign has no such duty. */
export async function rankInspections(
  db: Tx,
  campaignId: number,
  today: string,
  /** This year's inspectionProgress, when the caller has it already. */
  counted?: InspectionProgress[],
): Promise<InspectionRanking | null> {
  const duty = await db.duty.findFirst({ where: { campaignId, counts: 'inspections' }, orderBy: { id: 'asc' } });
  if (!duty) return null;
  const period = today.slice(0, 4);
  const rows = counted ?? (await inspectionProgress(db, campaignId, period));
  // Departments with nothing in scope have nothing to rank; more inspected first among equal rates.
  const sorted = rows.filter((r) => r.rate !== null).sort((a, b) => b.rate! - a.rate! || b.inspected - a.inspected);
  return { period, dueOn: `${period}-${duty.dueMonthDay}`, ranked: rankSorted(sorted, (a, b) => a.rate === b.rate) };
}

/** Who closes rectification items by recording a policy, and the words of the closing event. */
export interface Rectifier {
  by: string;
  at: Date;
  /** The deployment's language, for the event's note. */
  t: Translate;
}

/** A rectification item closed by a policy, with what it was before (for /撤销). */
export interface Rectified {
  id: number;
  title: string;
  unitId: number;
  before: { status: string; doneAt: Date | null; requestedDueOn: string | null; requestReason: string | null };
  eventId: number;
}

/**
 * The one rule for insurance findings (未投保, 未续保, 未全员): their open rectification items close by
 * themselves when a policy is recorded that is valid, not over, and insures at least the
 * enterprise's employees. Whatever records or changes a policy — /投保, the import — calls this with
 * it, in its transaction.
 */
export async function rectifyInsurance(
  db: Tx,
  policy: { enterpriseId: number; status: string; endOn: string; insuredHeadcount: number },
  today: string,
  r: Rectifier,
): Promise<Rectified[]> {
  if (policy.status !== 'valid' || policy.endOn < today) return [];
  const open = await db.obligation.findMany({
    where: {
      inspection: { enterpriseId: policy.enterpriseId },
      finding: { in: [...INSURANCE_FINDINGS] },
      status: { not: 'done' },
      withdrawnAt: null,
    },
    orderBy: { id: 'asc' },
  });
  if (!open.length) return [];
  const { employees } = await db.enterprise.findUniqueOrThrow({
    where: { id: policy.enterpriseId },
    select: { employees: true },
  });
  if (policy.insuredHeadcount < employees) return [];
  const out: Rectified[] = [];
  for (const o of open) {
    await db.obligation.update({
      where: { id: o.id },
      data: { status: 'done', doneAt: r.at, requestedDueOn: null, requestReason: null },
    });
    const e = await db.obligationEvent.create({
      data: {
        obligationId: o.id,
        fromStatus: o.status,
        toStatus: 'done',
        actorUserId: r.by,
        note: r.t('rectify.closed_note', { employees }),
        at: r.at,
      },
    });
    out.push({
      id: o.id,
      title: o.title,
      unitId: o.unitId,
      before: { status: o.status, doneAt: o.doneAt, requestedDueOn: o.requestedDueOn, requestReason: o.requestReason },
      eventId: e.id,
    });
  }
  return out;
}

/** A rectification item closed by hand: insurance findings close by a policy only, the others need evidence. */
export function assertMayCloseByHand(o: { id: number; finding: string | null }, evidence: string | undefined): void {
  if (o.finding === null) return;
  if (isInsuranceFinding(o.finding)) throw new UserError('rectify.closes_by_policy', { id: o.id });
  if (!evidence) throw new UserError('rectify.evidence_needed', { id: o.id });
}
