import { addDays } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { UserError } from '../core/errors.ts';
import type { Actor } from './context.ts';
import { recordId } from '../core/args.ts';
import type { WorkCalendar } from './calendar.ts';
import { findSector, findUnit, nearestKnown, type UnitRef } from './directory.ts';
import { didYouMean } from '../core/format.ts';
import type { Obligation, ObligationEvent } from '../generated/prisma/client.ts';
import { byIdPages, inBatches } from '../db/batches.ts';
import { neutral } from '../core/neutral.ts';

// Obligations (督办事项): dated duties of one unit, with the lifecycle of government supervision
// practice 交办 → 签收 → 反馈 → 办结 and extensions (延期) a leader grants. Every step is an
// ObligationEvent, and every write records how to revert it so /撤销 works.

/** Working days before its due date during which an open obligation shows yellow. */
export const SOON_WORKING_DAYS = 3;

export type Urgency = 'overdue' | 'soon' | 'open';
export const URGENCY_MARK: Record<Urgency, string> = { overdue: '🔴', soon: '🟡', open: '🔵' };

/** Red once the due day has passed; yellow within 3 working days of it (the due day included); blue otherwise. */
export function urgency(calendar: WorkCalendar, today: string, dueOn: string): Urgency {
  if (dueOn < today) return 'overdue';
  return calendar.workingDaysBetween(today, dueOn) <= SOON_WORKING_DAYS ? 'soon' : 'open';
}

/** Whole calendar days from one day to a later one. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Days an obligation closed on `day` is late (0 when on time): 逾期办结 as /排名 counts it. */
export const daysLate = (dueOn: string, day: string): number => (day > dueOn ? daysBetween(dueOn, day) : 0);

/** Obligation ids as people type them: 12, #12, 十二. */
export const obligationId = recordId('tasks.bad_id');

export type ObligationWithUnit = Obligation & { unit: { id: number; code: string; name: string } };

/** What the obligation steps need of their context. */
type Ctx = Pick<Actor, 'db' | 'campaign' | 'member' | 'clock' | 'userId' | 'undoable'>;

export async function findObligation(ctx: Ctx, id: number): Promise<ObligationWithUnit> {
  const o = await ctx.db.obligation.findFirst({
    where: { id, campaignId: ctx.campaign.id, withdrawnAt: null },
    include: { unit: true },
  });
  if (!o) throw new UserError('tasks.not_found', { id });
  return o;
}

/** An open obligation of the caller's own unit; the refusal names the unit that answers for it. */
export async function ownOpenObligation(ctx: Ctx, id: number): Promise<ObligationWithUnit> {
  const o = await findObligation(ctx, id);
  if (ctx.member?.unit?.id !== o.unitId) throw new UserError('tasks.not_yours', { id, unit: o.unit.name });
  assertOpen(o);
  return o;
}

export function assertOpen(o: Obligation): void {
  if (o.status === 'done') throw new UserError('tasks.already_done', { id: o.id });
}

/** The day an open extension request asks for; refused when there is none. */
export function pendingRequest(o: Obligation): string {
  if (!o.requestedDueOn) throw new UserError('approve.no_request', { id: o.id });
  return o.requestedDueOn;
}

type Fields = Partial<
  Pick<
    Obligation,
    | 'status'
    | 'dueOn'
    | 'requestedDueOn'
    | 'requestReason'
    | 'doneAt'
    | 'snoozedUntil'
    | 'snoozeReason'
    | 'holderUserId'
  >
>;

/**
 * Records one step: the obligation's new fields and an event. Undo restores the fields it
 * changed and marks the event withdrawn.
 */
export async function transition(
  ctx: Ctx,
  o: Obligation,
  event: { toStatus: string; note?: string | null; dueOn?: string | null },
  fields: Fields,
): Promise<void> {
  const { db, clock } = ctx;
  const keys = Object.keys(fields) as (keyof Fields)[];
  if (keys.length) {
    await db.obligation.update({ where: { id: o.id }, data: fields });
    ctx.undoable({
      model: 'obligation',
      action: 'update',
      where: { id: o.id },
      data: Object.fromEntries(keys.map((k) => [k, o[k]])),
    });
  }
  const e = await db.obligationEvent.create({
    data: {
      obligationId: o.id,
      fromStatus: o.status,
      toStatus: event.toStatus,
      actorUserId: ctx.userId,
      note: event.note ?? null,
      dueOn: event.dueOn ?? null,
      at: clock.now(),
    },
  });
  ctx.undoable({ model: 'obligationEvent', action: 'withdraw', where: { id: e.id } });
}

/** Whether the obligation was ever acknowledged (its status may since have moved on to 'extended'). */
export async function wasAcknowledged(db: Tx, obligationId: number): Promise<boolean> {
  return (await db.obligationEvent.count({ where: { obligationId, toStatus: 'acknowledged', withdrawnAt: null } })) > 0;
}

/**
 * Open obligations (not done, not withdrawn), soonest first; of some units, or of the whole campaign;
 * each with its unit and its latest extension. Read a page at a time and joined here (never Prisma's
 * `include`, which binds every parent's id — and more with a nested order: P2029 from 999 parents on
 * SQLite), so any number of them reads within the bound values (src/db/batches.ts).
 */
export async function openObligations(db: Tx, campaignId: number, unitIds?: number[]) {
  const where = {
    campaignId,
    status: { not: 'done' },
    withdrawnAt: null,
    ...(unitIds ? { unitId: { in: unitIds } } : {}),
  };
  const rows = await byIdPages((after, take) =>
    db.obligation.findMany({ where: { ...where, id: { gt: after } }, orderBy: { id: 'asc' }, take }),
  );
  const units = new Map(
    (
      await inBatches([...new Set(rows.map((o) => o.unitId))], (ids) =>
        db.unit.findMany({ where: { id: { in: ids } } }),
      )
    ).map((u) => [u.id, u]),
  );
  // Each batch holds every extension of its obligations, latest first: the first seen is the latest.
  const latest = new Map<number, ObligationEvent>();
  for (const e of await inBatches(
    rows.map((o) => o.id),
    (ids) =>
      db.obligationEvent.findMany({
        where: { obligationId: { in: ids }, toStatus: 'extended', withdrawnAt: null },
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
      }),
  ))
    if (!latest.has(e.obligationId)) latest.set(e.obligationId, e);
  return rows
    .map((o) => {
      const extension = latest.get(o.id);
      return { ...o, unit: units.get(o.unitId)!, events: extension ? [extension] : [] };
    })
    .sort((a, b) => (a.dueOn < b.dueOn ? -1 : a.dueOn > b.dueOn ? 1 : a.id - b.id));
}

/** How many open obligations of a campaign were due before `day` (overdue), counted without reading them. */
export function overdueCount(db: Tx, campaignId: number, day: string): Promise<number> {
  return db.obligation.count({ where: { campaignId, status: { not: 'done' }, withdrawnAt: null, dueOn: { lt: day } } });
}

export type OpenObligation = Awaited<ReturnType<typeof openObligations>>[number];

/** Two lines per obligation: colour, id and title; then due date, time left and state. */
export function obligationLines(
  { t, today, calendar }: Pick<Actor, 't' | 'today' | 'calendar'>,
  o: OpenObligation,
): string[] {
  const u = urgency(calendar, today, o.dueOn);
  const due =
    u === 'overdue'
      ? t('tasks.overdue', { due: o.dueOn, days: daysBetween(o.dueOn, today) })
      : o.dueOn === today
        ? t('tasks.due_today', { due: o.dueOn })
        : u === 'soon'
          ? t('tasks.soon', { due: o.dueOn, days: calendar.workingDaysBetween(today, o.dueOn) })
          : t('tasks.due', { due: o.dueOn });
  const state = [
    t(`tasks.status_${o.status}`),
    ...(o.events.length && o.status !== 'extended' ? [t('tasks.status_extended')] : []),
    ...(o.requestedDueOn ? [t('tasks.requested', { date: o.requestedDueOn })] : []),
    ...(o.snoozedUntil && o.snoozedUntil > today ? [t('snooze.state', { date: o.snoozedUntil })] : []),
  ];
  return [`${URGENCY_MARK[u]} #${o.id} ${neutral(o.title)}`, `   ${due} · ${state.join(' · ')}`];
}

/** Words that mean every township (全部乡镇), for /交办. */
const ALL_TOWNSHIPS = ['全部乡镇', '各乡镇', '所有乡镇', '全体乡镇'];

/**
 * Who an ad hoc obligation goes to: one unit by name (应急局, 东坪), every township (全部乡镇),
 * or a sector's lead department (牵头单位) when a sector is named (危化 → 县应急管理局).
 */
export async function assignees(
  { db, campaign, t }: Pick<Actor, 'db' | 'campaign' | 't'>,
  word: string,
): Promise<{ units: UnitRef[]; sectorId: number | null }> {
  if (ALL_TOWNSHIPS.includes(word)) {
    const units = await db.unit.findMany({
      where: { countyCode: campaign.countyCode, kind: 'township' },
      orderBy: { sortOrder: 'asc' },
    });
    return { units: units.map((u) => ({ id: u.id, code: u.code, name: u.name, kind: u.kind })), sectorId: null };
  }
  const unit = await findUnit(db, campaign.countyCode, word);
  if (unit) return { units: [unit], sectorId: null };
  const sector = await findSector(db, campaign.id, word);
  if (!sector)
    throw new UserError('assign.unknown_target', {
      word,
      nearest: didYouMean(t, await nearestKnown(db, campaign, word, { sectors: true, units: 'any' })),
    });
  const leads = await db.sectorResponsibility.findMany({
    where: { sectorId: sector.id, role: 'lead' },
    include: { unit: true },
    orderBy: { unit: { sortOrder: 'asc' } },
  });
  if (!leads.length) throw new UserError('assign.no_lead', { sector: sector.name });
  return {
    units: leads.map(({ unit: u }) => ({ id: u.id, code: u.code, name: u.name, kind: u.kind })),
    sectorId: sector.id,
  };
}

/** Days of the policy gaps /逾期 reports. */
export const LAPSED_DAYS = 90;
export const EXPIRING_DAYS = 30;

export interface SectorGaps {
  sector: { id: number; name: string };
  /** In-scope operating enterprises with no policy valid today. */
  uninsured: string[];
  /** Of those, whose last policy ended within the last 90 days (断保, not renewed). */
  lapsed: string[];
  /** Insured today, but the last policy ends within 30 days and no renewal is recorded. */
  expiring: { name: string; endOn: string }[];
  demo: boolean;
}

/** Which part of the ledger a unit answers for in /逾期. */
export type GapScope = { townshipId: number } | { sectorIds: number[] } | { insurerId: number } | 'all';

export async function gapScope(db: Tx, unit: { id: number; kind: string } | null): Promise<GapScope> {
  if (!unit || unit.kind === 'commission_office') return 'all';
  if (unit.kind === 'township') return { townshipId: unit.id };
  if (unit.kind === 'insurer') return { insurerId: unit.id };
  const leads = await db.sectorResponsibility.findMany({ where: { unitId: unit.id, role: 'lead' } });
  return { sectorIds: leads.map((r) => r.sectorId) };
}

/**
 * Per sector: uninsured, lapsed and expiring enterprises on `today`, among operating enterprises in
 * scope (every one in a high-risk sector, 规模以上 elsewhere), as the coverage figures count them.
 * An insurer's scope is the enterprises it has insured.
 */
export async function policyGaps(db: Tx, campaignId: number, today: string, scope: GapScope): Promise<SectorGaps[]> {
  const sectors = await db.sector.findMany({ where: { campaignId }, orderBy: { sortOrder: 'asc' } });
  const where =
    typeof scope === 'string'
      ? {}
      : 'townshipId' in scope
        ? { townshipId: scope.townshipId }
        : 'sectorIds' in scope
          ? { sectorId: { in: scope.sectorIds } }
          : { policies: { some: { insurerId: scope.insurerId, status: 'valid' } } };
  const enterprises = await db.enterprise.findMany({
    where: {
      ...where,
      status: 'operating',
      sector: { campaignId },
      OR: [{ sector: { highRisk: true } }, { aboveScale: true }],
    },
    select: {
      name: true,
      sectorId: true,
      isDemo: true,
      policies: { where: { status: 'valid' }, select: { startOn: true, endOn: true, insurerId: true } },
    },
    orderBy: { name: 'asc' },
  });
  const since = addDays(today, -LAPSED_DAYS);
  const until = addDays(today, EXPIRING_DAYS);
  const insurer = typeof scope === 'object' && 'insurerId' in scope ? scope.insurerId : null;
  return sectors.map((s) => {
    const gaps: SectorGaps = {
      sector: { id: s.id, name: s.name },
      uninsured: [],
      lapsed: [],
      expiring: [],
      demo: false,
    };
    for (const e of enterprises.filter((x) => x.sectorId === s.id)) {
      const lastEnd = e.policies.reduce((m, p) => (p.endOn > m ? p.endOn : m), '');
      const insured = e.policies.some((p) => p.startOn <= today && p.endOn >= today);
      const mine = insurer === null || e.policies.some((p) => p.insurerId === insurer && p.endOn === lastEnd);
      if (!insured && insurer === null) gaps.uninsured.push(e.name);
      if (!insured && mine && lastEnd >= since && lastEnd < today) gaps.lapsed.push(e.name);
      if (insured && mine && lastEnd <= until) gaps.expiring.push({ name: e.name, endOn: lastEnd });
      gaps.demo ||= e.isDemo;
    }
    gaps.expiring.sort((a, b) => a.endOn.localeCompare(b.endOn));
    return gaps;
  });
}
