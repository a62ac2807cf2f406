import type ExcelJS from 'exceljs';
import { addDays, dayIn, minuteIn } from '../clock.ts';
import { shownRate } from '../core/format.ts';
import type { Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';
import {
  aggregate,
  colour,
  coverageBySector,
  coverageCells,
  combine,
  totalOf,
  type CoverageRow,
  type Figures,
  type SectorCoverage,
  type TargetInForce,
} from './coverage.ts';
import { daysBetween, daysLate } from './obligations.ts';
import { SEED_NOTE } from './seed.ts';
import { addSheet } from './workbook.ts';
import { isArchived, SERVICE_PLAN_NOTE } from './visits.ts';

// The 台账 as a workbook for county staff: coverage per sector (the /覆盖率 figures) and per
// sector × township, the uninsured enterprises, policies ending within 60 days, prevention visits
// with their confirmation state, and obligations with every step of their history.

export const EXPIRING_WITHIN_DAYS = 60;

export interface CoverageGrid {
  /** Per sector, exactly as /覆盖率 shows them. */
  sectors: SectorCoverage[];
  /** The eight high-risk sectors together, against the shared target. */
  highRisk: CoverageRow;
  /** The target most rows share (the high-risk one). */
  target: TargetInForce | null;
  townships: { id: number; name: string }[];
  /** Figures of a sector × township cell; township null for a sector's county-wide report. */
  cell(sectorId: number, townshipId: number | null): Figures | undefined;
  /** Per township over all sectors, as /覆盖率 乡镇 counts them. */
  byTownship: Map<number, Figures>;
  /** Whether some sector has only a county-wide report (a row of its own in the grid). */
  countyWide: boolean;
}

/** Coverage by sector and by sector × township on a day, from the same cells /覆盖率 adds up. */
export async function coverageGrid(
  db: Tx,
  campaign: { id: number; countyCode: string },
  day: string,
  now: Date,
): Promise<CoverageGrid> {
  const [sectors, cells, townships] = await Promise.all([
    coverageBySector(db, campaign.id, day, now),
    coverageCells(db, campaign.id, day, now),
    db.unit.findMany({
      where: { countyCode: campaign.countyCode, kind: 'township' },
      orderBy: { sortOrder: 'asc' },
      select: { id: true, name: true },
    }),
  ]);
  const target = sectors.find((s) => s.sector.highRisk)?.target ?? null;
  const grid = aggregate(cells, (c) => `${c.sectorId}:${c.townshipId}`);
  return {
    sectors,
    target,
    townships,
    highRisk: totalOf(
      sectors.filter((s) => s.sector.highRisk),
      '',
      target,
    ),
    cell: (sectorId, townshipId) => grid.get(`${sectorId}:${townshipId}`),
    byTownship: aggregate(cells, (c) => c.townshipId ?? undefined),
    countyWide: cells.some((c) => c.townshipId === null),
  };
}

const FILLS: Record<string, string> = { '🟢': 'FFC6EFCE', '🟡': 'FFFFEB9C', '🔴': 'FFFFC7CE' };

export interface ExportOptions {
  day: string;
  now: Date;
  t: Translate;
  timeZone: string;
}
export interface ExportCounts {
  uninsured: number;
  expiring: number;
  visits: number;
  obligations: number;
}

/** Builds the workbook; see the comment at the top of this file. */
export async function ledgerWorkbook(
  db: Tx,
  campaign: { id: number; countyCode: string; countyName: string },
  o: ExportOptions,
) {
  const { day, now, t, timeZone } = o;
  // Loaded when a workbook is made, not with the service: exceljs alone takes half a second to load.
  const { default: Excel } = await import('exceljs');
  const wb = new Excel.Workbook();
  wb.creator = t('export.creator');
  wb.created = now;
  const cols = (key: string) => t(key).split('|');
  const minute = (at: Date | null) => (at ? minuteIn(at, timeZone) : '');

  const sheet = (name: string, headers: string[], rows: unknown[][], percent: number[] = []) =>
    addSheet(wb, name, headers, rows, percent);
  const paint = (cell: ExcelJS.Cell, mark: string) => {
    if (FILLS[mark]) cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: FILLS[mark] } };
  };

  // 1. Per sector, the /覆盖率 figures, and the high-risk total.
  const grid = await coverageGrid(db, campaign, day, now);
  const sources = (r: CoverageRow) =>
    r.sources
      .map((s) =>
        s === 'ledger' ? t('coverage.source_ledger') : t('coverage.source_report', { time: minute(r.asOf).slice(5) }),
      )
      .join(' + ');
  const sectorLine = (r: CoverageRow): unknown[] => [
    r.name,
    r.enterprises,
    r.insured,
    shownRate(r.rate),
    r.gap,
    r.target ? r.target.rateBp / 10000 : null,
    r.target?.dueOn ?? '',
    r.employees || null,
    r.insuredPersons || null,
    shownRate(r.headcountRate),
    r.lastWeek === null ? '' : r.insured - r.lastWeek,
    sources(r),
  ];
  const bySector = sheet(
    t('export.sheet_sectors'),
    cols('export.cols_sectors'),
    [...grid.sectors.map(sectorLine), sectorLine({ ...grid.highRisk, name: t('export.total_high_risk') })],
    [4, 6, 10],
  );
  grid.sectors.forEach((r, i) => paint(bySector.getCell(i + 2, 4), colour(r.rate, r.target)));
  bySector.getRow(grid.sectors.length + 2).font = { bold: true };
  bySector.addRow([]);
  bySector.addRow([t('export.as_of', { time: minute(now), county: campaign.countyName })]);
  if (grid.sectors.some((r) => r.demo)) bySector.addRow([t('demo.data')]);

  // 2. Sector × township: for each sector (and the total) insured/in scope, then the rate, coloured as
  // /覆盖率 colours it; a total per township, per sector, and for the county.
  const places = [...grid.townships, ...(grid.countyWide ? [{ id: null, name: t('coverage.county_wide') }] : [])];
  const pair = (f: { insured: number; enterprises: number; rate: number | null } | undefined) =>
    f?.enterprises ? [`${f.insured}/${f.enterprises}`, shownRate(f.rate)] : ['', null];
  const county = combine(grid.sectors);
  const matrixRows = places.map((u) => [
    u.name,
    ...grid.sectors.flatMap((s) => pair(grid.cell(s.sector.id, u.id))),
    ...(u.id === null ? ['', null] : pair(grid.byTownship.get(u.id))),
  ]);
  const totals = [t('export.total'), ...grid.sectors.flatMap((s) => pair(s)), ...pair(county)];
  const columns = [...grid.sectors.map((s) => s.name), t('export.total')];
  /** The rate column of the j-th sector (j = sectors.length for the total), 1-based. */
  const rateColumn = (j: number) => 2 * j + 3;
  const matrix = sheet(
    t('export.sheet_matrix'),
    [
      t('export.township'),
      ...columns.flatMap((name) => [t('export.matrix_count', { name }), t('export.matrix_rate', { name })]),
    ],
    [...matrixRows, totals],
    columns.map((_, j) => rateColumn(j)),
  );
  places.forEach((u, i) => {
    grid.sectors.forEach((s, j) =>
      paint(matrix.getCell(i + 2, rateColumn(j)), colour(grid.cell(s.sector.id, u.id)?.rate ?? null, s.target)),
    );
    if (u.id !== null)
      paint(
        matrix.getCell(i + 2, rateColumn(grid.sectors.length)),
        colour(grid.byTownship.get(u.id)?.rate ?? null, grid.target),
      );
  });
  grid.sectors.forEach((s, j) => paint(matrix.getCell(places.length + 2, rateColumn(j)), colour(s.rate, s.target)));
  matrix.getRow(places.length + 2).font = { bold: true };

  // 3. Uninsured: in scope as coverage counts it (operating; every one in a high-risk sector, 规上 elsewhere).
  const uninsured = await db.enterprise.findMany({
    where: {
      countyCode: campaign.countyCode,
      status: 'operating',
      sector: { campaignId: campaign.id },
      OR: [{ sector: { highRisk: true } }, { aboveScale: true }],
      NOT: { policies: { some: { status: 'valid', startOn: { lte: day }, endOn: { gte: day } } } },
    },
    include: {
      sector: true,
      township: true,
      policies: { where: { status: 'valid' }, orderBy: { endOn: 'desc' }, take: 1 },
    },
    orderBy: [{ sector: { sortOrder: 'asc' } }, { township: { sortOrder: 'asc' } }, { name: 'asc' }],
  });
  sheet(
    t('export.sheet_uninsured'),
    cols('export.cols_uninsured'),
    uninsured.map((e) => {
      const last = e.policies[0];
      const state = !last
        ? t('export.never_insured')
        : last.startOn > day
          ? t('export.starts_on', { day: last.startOn })
          : t('export.lapsed', { days: daysBetween(last.endOn, day) });
      return [
        e.sector.name,
        e.township.name,
        e.name,
        e.creditCode,
        e.aboveScale ? t('export.yes') : t('export.no'),
        e.employees,
        last?.endOn ?? '',
        state,
      ];
    }),
  );

  // 4. Policies valid today that end within 60 days, soonest first, and whether a later one follows.
  const expiring = await db.policy.findMany({
    where: {
      status: 'valid',
      startOn: { lte: day },
      endOn: { gte: day, lte: addDays(day, EXPIRING_WITHIN_DAYS) },
      enterprise: { countyCode: campaign.countyCode },
    },
    include: {
      insurer: true,
      enterprise: {
        include: { sector: true, township: true, policies: { where: { status: 'valid' }, select: { endOn: true } } },
      },
    },
    orderBy: [{ endOn: 'asc' }, { id: 'asc' }],
  });
  sheet(
    t('export.sheet_expiring', { days: EXPIRING_WITHIN_DAYS }),
    cols('export.cols_expiring'),
    expiring.map((p) => [
      p.endOn,
      daysBetween(day, p.endOn),
      p.enterprise.name,
      p.enterprise.creditCode,
      p.enterprise.sector.name,
      p.enterprise.township.name,
      p.insurer.name,
      p.policyNo,
      p.insuredHeadcount,
      p.enterprise.policies.some((x) => x.endOn > p.endOn) ? t('export.renewed') : t('export.not_renewed'),
    ]),
  );

  // 5. Prevention visits and who has confirmed them (archived only when both sides have, AQ 9010).
  const visits = await db.preventionVisit.findMany({
    where: { enterprise: { countyCode: campaign.countyCode } },
    include: { insurer: true, enterprise: { include: { sector: true, township: true } } },
    orderBy: [{ visitedOn: 'desc' }, { id: 'desc' }],
  });
  const names = new Map(
    (await db.member.findMany({ select: { userId: true, name: true } })).map((m) => [m.userId, m.name]),
  );
  const who = (userId: string) => names.get(userId) ?? userId;
  const confirmed = (at: Date | null, by: string | null) =>
    at ? `${minute(at)} ${by ? who(by) : ''}`.trim() : t('export.not_confirmed');
  sheet(
    t('export.sheet_visits'),
    cols('export.cols_visits'),
    visits.map((v) => [
      v.id,
      v.visitedOn ?? '',
      v.plannedOn ?? '',
      v.enterprise.name,
      v.enterprise.sector.name,
      v.enterprise.township.name,
      v.insurer.name,
      t(`visit.type.${v.serviceType}`),
      v.staff ?? '',
      v.findings ?? '',
      confirmed(v.insurerConfirmedAt, v.insurerConfirmedBy),
      confirmed(v.enterpriseConfirmedAt, v.enterpriseConfirmedBy),
      isArchived(v)
        ? t('export.archived')
        : !v.enterpriseConfirmedAt
          ? t('export.awaiting_enterprise')
          : t('export.awaiting_insurer'),
      v.satisfaction ?? '',
      v.comment ?? '',
    ]),
  );

  // 6 and 7. Obligations, then every step of each (交办 → 签收 → 反馈 → 办结, extensions).
  const obligations = await db.obligation.findMany({
    where: { campaignId: campaign.id },
    include: { unit: true, sector: true, events: { orderBy: [{ at: 'asc' }, { id: 'asc' }] } },
    orderBy: [{ dueOn: 'asc' }, { id: 'asc' }],
  });
  // Statuses, notes and people in the office's words: 驳回延期 rather than extension_rejected, names rather than userids.
  const status = (s: string | null) =>
    s === null ? '' : t(s.startsWith('extension_') ? `export.${s}` : `tasks.status_${s}`);
  const note = (n: string | null) =>
    n === SEED_NOTE ? t('export.note_seed') : n === SERVICE_PLAN_NOTE ? t('export.note_service_plan') : (n ?? '');
  const late = (x: { status: string; dueOn: string; doneAt: Date | null }) => {
    if (x.status !== 'done') return x.dueOn < day ? t('export.overdue_days', { days: daysBetween(x.dueOn, day) }) : '';
    const days = daysLate(x.dueOn, dayIn(x.doneAt!, timeZone));
    return days ? t('export.done_late_days', { days }) : '';
  };
  sheet(
    t('export.sheet_obligations'),
    cols('export.cols_obligations'),
    obligations.map((x) => [
      x.id,
      x.unit.name,
      x.sector?.name ?? '',
      x.title,
      x.period,
      x.dueOn,
      status(x.status),
      late(x),
      minute(x.doneAt),
      x.requestedDueOn ?? '',
      x.requestReason ?? '',
    ]),
  );
  sheet(
    t('export.sheet_history'),
    cols('export.cols_history'),
    obligations.flatMap((x) =>
      x.events.map((e) => [
        x.id,
        x.unit.name,
        x.title,
        minute(e.at),
        status(e.fromStatus),
        status(e.toStatus),
        e.actorUserId ? who(e.actorUserId) : '',
        note(e.note),
        e.dueOn ?? '',
      ]),
    ),
  );

  const counts: ExportCounts = {
    uninsured: uninsured.length,
    expiring: expiring.length,
    visits: visits.length,
    obligations: obligations.length,
  };
  return { workbook: wb, counts };
}

/** Builds the workbook and writes it to `file`. */
export async function writeLedgerExport(
  db: Tx,
  campaign: { id: number; countyCode: string; countyName: string },
  o: ExportOptions,
  file: string,
): Promise<ExportCounts> {
  const { workbook, counts } = await ledgerWorkbook(db, campaign, o);
  await workbook.xlsx.writeFile(file);
  return counts;
}
