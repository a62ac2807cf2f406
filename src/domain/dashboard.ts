import { byIdPages } from '../db/batches.ts';
import type { Tx } from '../db/client.ts';
import { reminderSettings } from './reminder-settings.ts';
import type { WorkCalendar } from './calendar.ts';
import { aggregate, coverageCells, coverageTrend, coverageView, totalOf, weakest, type Figures } from './coverage.ts';
import { splitRoles } from '../core/roles.ts';
import { daysBetween, openObligations, policyGaps, urgency } from './obligations.ts';
import { findingTotal, insurerService, paymentLimit } from './claims.ts';

// What the leaders' dashboard shows, from the functions the chat commands use, so a figure on the
// page is always the figure /覆盖率, /逾期 and /走访记录 give: coverage per sector and per sector ×
// township, overdue obligations and policy gaps, visits awaiting the enterprise side. Each lagging
// unit comes with its liaisons, whom a leader can open a WeCom chat with.

export interface Contact {
  userId: string;
  name: string;
}

/** Active liaisons of some units, by unit, in the order they were bound. */
export async function liaisonsOf(db: Tx, unitIds: number[]): Promise<Map<number, Contact[]>> {
  const members = await db.member.findMany({
    where: { unitId: { in: [...new Set(unitIds)] }, active: true },
    orderBy: { id: 'asc' },
  });
  const out = new Map<number, Contact[]>();
  for (const m of members) {
    if (!splitRoles(m.roles).includes('liaison')) continue;
    out.set(m.unitId!, [...(out.get(m.unitId!) ?? []), { userId: m.userId, name: m.name }]);
  }
  return out;
}

export interface UnitContacts {
  unitId: number;
  name: string;
  liaisons: Contact[];
}

/** Per sector, in the campaign's order: /覆盖率's rows, with the lead departments to contact; the high-risk total; the five weakest. */
export async function sectorBoard(db: Tx, campaignId: number, day: string, now: Date) {
  const [view, leads] = await Promise.all([
    coverageView(db, campaignId, { by: 'sector' }, day, now),
    db.sectorResponsibility.findMany({
      where: { role: 'lead', sector: { campaignId } },
      include: { unit: true },
      orderBy: { unit: { sortOrder: 'asc' } },
    }),
  ]);
  const liaisons = await liaisonsOf(
    db,
    leads.map((l) => l.unitId),
  );
  const leadsOf = (sectorId: number | null): UnitContacts[] =>
    leads
      .filter((l) => l.sectorId === sectorId)
      .map((l) => ({ unitId: l.unitId, name: l.unit.name, liaisons: liaisons.get(l.unitId) ?? [] }));
  return {
    target: view.target,
    rows: view.rows.map((row) => ({ row, sector: row.sectors[0]!, leads: leadsOf(row.key) })),
    // As /覆盖率 sums it: the eight high-risk sectors against the common target.
    highRisk: totalOf(
      view.rows.filter((r) => r.sectors[0]!.highRisk),
      '',
      view.target,
    ),
    weakest: weakest(view.rows).map((r) => r.key!),
    lastWeekEarliestRoster: view.lastWeekEarliestRoster,
  };
}

/**
 * The heat map: townships weakest first with their totals (/覆盖率 乡镇), and per township each
 * sector's cell as the source rule counts it (null where the sector has no figures there).
 */
export async function townshipMatrix(db: Tx, campaignId: number, day: string, now: Date) {
  const [bySector, byTownship, cells, sectorRows] = await Promise.all([
    coverageView(db, campaignId, { by: 'sector' }, day, now),
    coverageView(db, campaignId, { by: 'township' }, day, now),
    coverageCells(db, campaignId, day, now),
    db.sector.findMany({ where: { campaignId }, select: { id: true, aliases: true } }),
  ]);
  const shortName = new Map(sectorRows.map((s) => [s.id, s.aliases.split('|')[0] ?? '']));
  const perCell = aggregate(cells, (c) => (c.townshipId === null ? undefined : `${c.sectorId}:${c.townshipId}`));
  const liaisons = await liaisonsOf(
    db,
    byTownship.rows.map((r) => r.key!),
  );
  const sectors = bySector.rows.map((r) => ({
    ...r.sectors[0]!,
    short: shortName.get(r.key!) || r.name,
    target: r.target,
  }));
  return {
    target: byTownship.target,
    sectors,
    rows: byTownship.rows.map((row) => ({
      row,
      liaisons: liaisons.get(row.key!) ?? [],
      cells: sectors.map((s): Figures | null => perCell.get(`${s.id}:${row.key}`) ?? null),
    })),
    total: totalOf(byTownship.rows, '', byTownship.target),
    countyWideOnly: byTownship.countyWideOnly,
  };
}

/**
 * The trend of the eight high-risk sectors together, every week since the campaign took effect, as
 * /覆盖率 趋势 draws it (the ledger swept once, kept by the data version: src/domain/coverage.ts).
 */
export async function trendBoard(db: Tx, campaignId: number, day: string, now: Date) {
  const campaign = await db.campaign.findUniqueOrThrow({
    where: { id: campaignId },
    select: { id: true, countyCode: true, effectiveOn: true },
  });
  const trend = await coverageTrend(db, campaign, { by: 'high_risk' }, campaign.effectiveOn, day, now);
  return { from: trend.points[0]!.day, ...trend };
}

/** /逾期 for the whole county: obligations overdue or due within 3 working days, soonest first, and the policy gaps per sector. */
export async function overdueBoard(db: Tx, campaignId: number, today: string, calendar: WorkCalendar) {
  const late = (await openObligations(db, campaignId))
    .map((o) => ({ o, urgency: urgency(calendar, today, o.dueOn) }))
    .filter((x) => x.urgency !== 'open');
  const [liaisons, gaps] = await Promise.all([
    liaisonsOf(
      db,
      late.map((x) => x.o.unitId),
    ),
    policyGaps(db, campaignId, today, 'all'),
  ]);
  return {
    obligations: late.map(({ o, urgency: u }) => ({
      id: o.id,
      title: o.title,
      dueOn: o.dueOn,
      urgency: u,
      status: o.status,
      requestedDueOn: o.requestedDueOn,
      daysOverdue: u === 'overdue' ? daysBetween(o.dueOn, today) : 0,
      workingDaysLeft: u === 'overdue' ? 0 : calendar.workingDaysBetween(today, o.dueOn),
      unit: { unitId: o.unit.id, name: o.unit.name, liaisons: liaisons.get(o.unitId) ?? [] } satisfies UnitContacts,
      demo: o.isDemo,
    })),
    gaps: gaps
      .filter((g) => g.uninsured.length || g.lapsed.length || g.expiring.length)
      .map((g) => ({
        sector: g.sector,
        uninsured: g.uninsured.length,
        lapsed: g.lapsed.length,
        expiring: g.expiring.length,
        demo: g.demo,
      })),
  };
}

/**
 * Visits the enterprise side has not confirmed, oldest first, with the working days waited and
 * whether that passed the reminder threshold; the contacts are the enterprise's own, else its
 * township's liaisons (who confirm on its behalf).
 */
export async function unconfirmedVisits(db: Tx, campaignId: number, today: string, calendar: WorkCalendar) {
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const dueAfter = reminderSettings(campaign.reminders).visitConfirmWorkingDays;
  // A page at a time: the include's second queries bind each page's keys, not every visit's.
  const visits = (
    await byIdPages((after, take) =>
      db.preventionVisit.findMany({
        where: {
          id: { gt: after },
          enterpriseConfirmedAt: null,
          visitedOn: { not: null },
          withdrawnAt: null,
          enterprise: { countyCode: campaign.countyCode },
        },
        include: {
          enterprise: { include: { township: true, members: { where: { active: true }, orderBy: { id: 'asc' } } } },
          insurer: true,
        },
        orderBy: { id: 'asc' },
        take,
      }),
    )
  ).sort((a, b) => a.visitedOn!.localeCompare(b.visitedOn!) || a.id - b.id);
  const liaisons = await liaisonsOf(
    db,
    visits.map((v) => v.enterprise.townshipId),
  );
  return {
    dueAfter,
    visits: visits.map((v) => {
      const waited = calendar.workingDaysBetween(v.visitedOn!, today);
      const own = v.enterprise.members.map((m) => ({ userId: m.userId, name: m.name }));
      return {
        id: v.id,
        visitedOn: v.visitedOn!,
        serviceType: v.serviceType,
        enterprise: v.enterprise.name,
        township: v.enterprise.township.name,
        insurer: v.insurer.aliases.split('|')[0] || v.insurer.name,
        waitedWorkingDays: waited,
        late: waited >= dueAfter,
        contacts: own.length ? own : (liaisons.get(v.enterprise.townshipId) ?? []),
        demo: v.enterprise.isDemo,
      };
    }),
  };
}

/**
 * The insurers' service as /排名 ranks it (src/domain/claims.ts): claims, payments, the median days
 * from report to payment, open disputes and agencies' findings, with the claims limit and its source.
 */
export async function insurerBoard(db: Tx, campaignId: number, today: string) {
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const [ranked, limit] = await Promise.all([insurerService(db, campaign.countyCode, today), paymentLimit(db, today)]);
  return {
    limit,
    insurers: ranked.map(({ rank, item }) => ({ rank, ...item, findingTotal: findingTotal(item) })),
  };
}
