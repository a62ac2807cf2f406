import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type ExcelJS from 'exceljs';
import { addDays, dayIn, minuteIn } from '../clock.ts';
import { shownRate } from '../core/format.ts';
import type { Tx } from '../db/client.ts';
import type { ClaimDispute, ObligationEvent } from '../generated/prisma/client.ts';
import type { Locale, Translate } from '../i18n.ts';
import { colour, combine, coverageGrid, sourcesText, type CoverageRow } from './coverage.ts';
import { daysBetween, daysLate } from './obligations.ts';
import { runChild } from './child.ts';
import { SEED_NOTE } from './seed.ts';
import { streamSheet } from './workbook.ts';
import { findingTotal, insurerService, paymentLimit } from './claims.ts';
import { FINDING_KINDS } from './findings.ts';
import { isArchived, SERVICE_PLAN_NOTE } from './visits.ts';
import { findingsText } from './inspections.ts';
import { assess } from './assessment.ts';

// The 台账 as a workbook for county staff: coverage per sector (the /覆盖率 figures) and per
// sector × township, the uninsured enterprises, policies ending within 60 days, prevention visits
// with their confirmation state, and obligations with every step of their history.
//
// At a county's real size (100,000 enterprises) the workbook is streamed: each long sheet is read
// in keyset-paged batches, with flat selects joined in memory per batch (never Prisma's `include`,
// whose `IN (…)` of every parent id breaks SQLite's 32,766 bound values), and its rows committed
// as written. The service runs it in a process of its own (src/domain/ledger-export-child.ts).

export const EXPIRING_WITHIN_DAYS = 60;

const FILLS: Record<string, string> = { '🟢': 'FFC6EFCE', '🟡': 'FFFFEB9C', '🔴': 'FFFFC7CE' };

/** Rows read per query, and so ids in any `in:` list of the export. */
export const EXPORT_BATCH = 1000;

export interface ExportOptions {
  day: string;
  now: Date;
  t: Translate;
  timeZone: string;
  /** Rows per query (EXPORT_BATCH); smaller in tests. */
  batch?: number;
  /** One sector's or one township's enterprises only, in the sheets that list enterprises (a smaller file). */
  scope?: ExportScope;
}

/** A smaller export: the enterprise lists of one sector or one township (coverage and obligations stay whole). */
export type ExportScope = { sectorId: number } | { townshipId: number };
export interface ExportCounts {
  uninsured: number;
  expiring: number;
  visits: number;
  obligations: number;
  claims: number;
}

type Campaign = { id: number; countyCode: string; countyName: string };

/** Pages of a query in its key order: `page(after)` reads the rows after the last one it was given (null first). */
async function* pages<R>(page: (after: R | null) => Promise<R[]>): AsyncGenerator<R[]> {
  for (let after: R | null = null; ;) {
    const rows = await page(after);
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!;
  }
}

/** Maps each batch of a paged read to sheet rows, joining what the rows point at with one bounded query per batch. */
async function* mapped<R>(source: AsyncIterable<R[]>, line: (rows: R[]) => Promise<unknown[][]>) {
  for await (const rows of source) yield await line(rows);
}

const byId = <T extends { id: number }>(rows: T[]) => new Map(rows.map((r) => [r.id, r]));
const distinct = (ids: number[]) => [...new Set(ids)];

/** Writes the workbook to `file`; see the comment at the top of this file. */
export async function writeLedgerExport(
  db: Tx,
  campaign: Campaign,
  o: ExportOptions,
  file: string,
): Promise<ExportCounts> {
  const { day, now, t, timeZone } = o;
  /** The enterprises the lists hold: the scope's, else all of the county's. */
  const scoped = o.scope ?? {};
  const take = o.batch ?? EXPORT_BATCH;
  // Loaded when a workbook is made, not with the service: exceljs alone takes half a second to load.
  const { default: Excel } = await import('exceljs');
  // Strings inline, not shared: a shared-string table would hold every name (100,000) until the end.
  const wb = new Excel.stream.xlsx.WorkbookWriter({ filename: file, useStyles: true, useSharedStrings: false });
  wb.creator = t('export.creator');
  wb.created = now;
  const cols = (key: string) => t(key).split('|');
  const minute = (at: Date | null) => (at ? minuteIn(at, timeZone) : '');
  const paint = (cell: ExcelJS.Cell, mark: string) => {
    if (FILLS[mark]) cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: FILLS[mark] } };
  };
  // Small tables, read whole: every sector and unit (townships, insurers, departments) by id.
  const [sectors, units] = await Promise.all([
    db.sector.findMany({ select: { id: true, name: true, sortOrder: true } }).then(byId),
    db.unit.findMany({ select: { id: true, name: true, sortOrder: true } }).then(byId),
  ]);
  const sectorName = (id: number | null) => (id === null ? '' : (sectors.get(id)?.name ?? ''));
  const unitName = (id: number) => units.get(id)?.name ?? '';
  const enterprisesOf = async (ids: number[]) =>
    byId(
      await db.enterprise.findMany({
        where: { id: { in: distinct(ids) } },
        select: { id: true, name: true, creditCode: true, sectorId: true, townshipId: true },
      }),
    );

  // 1. Per sector, the /覆盖率 figures, and the high-risk total.
  const grid = await coverageGrid(db, campaign, day, now);
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
    sourcesText(t, r, minute(r.asOf).slice(5)),
  ];
  await streamSheet(
    wb,
    t('export.sheet_sectors'),
    cols('export.cols_sectors'),
    [[...grid.sectors.map(sectorLine), sectorLine({ ...grid.highRisk, name: t('export.total_high_risk') })]],
    {
      percent: [4, 6, 10],
      style: (row, i) => {
        if (i < grid.sectors.length) paint(row.getCell(4), colour(grid.sectors[i]!.rate, grid.sectors[i]!.target));
        else row.font = { bold: true };
      },
      tail: [
        [],
        [t('export.as_of', { time: minute(now), county: campaign.countyName })],
        ...(grid.sectors.some((r) => r.demo) ? [[t('demo.data')]] : []),
      ],
    },
  );

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
  await streamSheet(
    wb,
    t('export.sheet_matrix'),
    [
      t('export.township'),
      ...columns.flatMap((name) => [t('export.matrix_count', { name }), t('export.matrix_rate', { name })]),
    ],
    [[...matrixRows, totals]],
    {
      percent: columns.map((_, j) => rateColumn(j)),
      style: (row, i) => {
        const u = places[i];
        if (!u) {
          grid.sectors.forEach((s, j) => paint(row.getCell(rateColumn(j)), colour(s.rate, s.target)));
          row.font = { bold: true };
          return;
        }
        grid.sectors.forEach((s, j) =>
          paint(row.getCell(rateColumn(j)), colour(grid.cell(s.sector.id, u.id)?.rate ?? null, s.target)),
        );
        if (u.id !== null)
          paint(
            row.getCell(rateColumn(grid.sectors.length)),
            colour(grid.byTownship.get(u.id)?.rate ?? null, grid.target),
          );
      },
    },
  );

  // 3. Uninsured: in scope as coverage counts it (operating; every one in a high-risk sector, 规上 elsewhere).
  // Read by id; shown by sector, township and name, so the rows (compact arrays) are sorted before written.
  const uninsured: { key: [number, number, string]; row: unknown[] }[] = [];
  const inScope = pages((after: { id: number } | null) =>
    db.enterprise.findMany({
      where: {
        id: { gt: after?.id ?? 0 },
        countyCode: campaign.countyCode,
        ...scoped,
        status: 'operating',
        sector: { campaignId: campaign.id },
        OR: [{ sector: { highRisk: true } }, { aboveScale: true }],
        NOT: { policies: { some: { status: 'valid', startOn: { lte: day }, endOn: { gte: day } } } },
      },
      select: {
        id: true,
        name: true,
        creditCode: true,
        sectorId: true,
        townshipId: true,
        aboveScale: true,
        employees: true,
      },
      orderBy: { id: 'asc' },
      take,
    }),
  );
  for await (const batch of inScope) {
    // The latest valid policy of each (one that lapsed, or one that starts later).
    const latest = new Map<number, { startOn: string; endOn: string }>();
    for (const p of await db.policy.findMany({
      where: { enterpriseId: { in: batch.map((e) => e.id) }, status: 'valid' },
      select: { enterpriseId: true, startOn: true, endOn: true },
    }))
      if (!latest.has(p.enterpriseId) || latest.get(p.enterpriseId)!.endOn < p.endOn) latest.set(p.enterpriseId, p);
    for (const e of batch) {
      const last = latest.get(e.id);
      const state = !last
        ? t('export.never_insured')
        : last.startOn > day
          ? t('export.starts_on', { day: last.startOn })
          : t('export.lapsed', { days: daysBetween(last.endOn, day) });
      uninsured.push({
        key: [sectors.get(e.sectorId)?.sortOrder ?? 0, units.get(e.townshipId)?.sortOrder ?? 0, e.name],
        row: [
          sectorName(e.sectorId),
          unitName(e.townshipId),
          e.name,
          e.creditCode,
          e.aboveScale ? t('export.yes') : t('export.no'),
          e.employees,
          last?.endOn ?? '',
          state,
        ],
      });
    }
  }
  uninsured.sort(({ key: a }, { key: b }) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
  const uninsuredCount = await streamSheet(wb, t('export.sheet_uninsured'), cols('export.cols_uninsured'), [
    uninsured.map((u) => u.row),
  ]);

  // 4. Policies valid today that end within 60 days, soonest first (keyset on end day and id), and
  // whether a later one follows.
  const expiring = pages((after: { id: number; endOn: string } | null) =>
    db.policy.findMany({
      where: {
        status: 'valid',
        startOn: { lte: day },
        endOn: { gte: day, lte: addDays(day, EXPIRING_WITHIN_DAYS) },
        enterprise: { countyCode: campaign.countyCode, ...scoped },
        ...(after && { OR: [{ endOn: { gt: after.endOn } }, { endOn: after.endOn, id: { gt: after.id } }] }),
      },
      select: { id: true, endOn: true, policyNo: true, insuredHeadcount: true, insurerId: true, enterpriseId: true },
      orderBy: [{ endOn: 'asc' }, { id: 'asc' }],
      take,
    }),
  );
  const expiringCount = await streamSheet(
    wb,
    t('export.sheet_expiring', { days: EXPIRING_WITHIN_DAYS }),
    cols('export.cols_expiring'),
    mapped(expiring, async (batch) => {
      const ids = distinct(batch.map((p) => p.enterpriseId));
      const enterprises = await enterprisesOf(ids);
      const lastEnd = new Map<number, string>();
      for (const p of await db.policy.findMany({
        where: { enterpriseId: { in: ids }, status: 'valid', endOn: { gt: day } },
        select: { enterpriseId: true, endOn: true },
      }))
        if ((lastEnd.get(p.enterpriseId) ?? '') < p.endOn) lastEnd.set(p.enterpriseId, p.endOn);
      return batch.map((p) => {
        const e = enterprises.get(p.enterpriseId)!;
        return [
          p.endOn,
          daysBetween(day, p.endOn),
          e.name,
          e.creditCode,
          sectorName(e.sectorId),
          unitName(e.townshipId),
          unitName(p.insurerId),
          p.policyNo,
          p.insuredHeadcount,
          (lastEnd.get(p.enterpriseId) ?? '') > p.endOn ? t('export.renewed') : t('export.not_renewed'),
        ];
      });
    }),
  );

  // 5. Prevention visits and who has confirmed them (archived only when both sides have, AQ 9010),
  // latest visit first (read by id, then sorted: a visit may be planned and not yet made).
  const names = new Map(
    (await db.member.findMany({ select: { userId: true, name: true } })).map((m) => [m.userId, m.name]),
  );
  const who = (userId: string) => names.get(userId) ?? userId;
  const confirmed = (at: Date | null, by: string | null) =>
    at ? `${minute(at)} ${by ? who(by) : ''}`.trim() : t('export.not_confirmed');
  const visits: { key: [string, number]; row: unknown[] }[] = [];
  for await (const batch of pages((after: { id: number } | null) =>
    db.preventionVisit.findMany({
      where: { id: { gt: after?.id ?? 0 }, enterprise: { countyCode: campaign.countyCode, ...scoped } },
      orderBy: { id: 'asc' },
      take,
    }),
  )) {
    const enterprises = await enterprisesOf(batch.map((v) => v.enterpriseId));
    for (const v of batch) {
      const e = enterprises.get(v.enterpriseId)!;
      visits.push({
        key: [v.visitedOn ?? '', v.id],
        row: [
          v.id,
          v.visitedOn ?? '',
          v.plannedOn ?? '',
          e.name,
          sectorName(e.sectorId),
          unitName(e.townshipId),
          unitName(v.insurerId),
          t(`visit.type.${v.serviceType}`),
          v.staff ?? '',
          v.findings ?? '',
          confirmed(v.insurerConfirmedAt, v.insurerConfirmedBy),
          confirmed(v.enterpriseConfirmedAt, v.enterpriseConfirmedBy),
          v.withdrawnAt
            ? t('export.withdrawn')
            : isArchived(v)
              ? t('export.archived')
              : !v.enterpriseConfirmedAt
                ? t('export.awaiting_enterprise')
                : t('export.awaiting_insurer'),
          v.satisfaction ?? '',
          v.comment ?? '',
        ],
      });
    }
  }
  visits.sort(({ key: a }, { key: b }) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : b[1] - a[1]));
  const visitCount = await streamSheet(wb, t('export.sheet_visits'), cols('export.cols_visits'), [
    visits.map((v) => v.row),
  ]);

  // 6 and 7. Obligations (keyset on due day and id), then every step of each (交办 → 签收 → 反馈 →
  // 办结, extensions): the same pages read again, each with its events.
  const obligations = () =>
    pages((after: { id: number; dueOn: string } | null) =>
      db.obligation.findMany({
        where: {
          campaignId: campaign.id,
          ...(after && { OR: [{ dueOn: { gt: after.dueOn } }, { dueOn: after.dueOn, id: { gt: after.id } }] }),
        },
        orderBy: [{ dueOn: 'asc' }, { id: 'asc' }],
        take,
      }),
    );
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
  const obligationCount = await streamSheet(
    wb,
    t('export.sheet_obligations'),
    cols('export.cols_obligations'),
    mapped(obligations(), async (batch) =>
      batch.map((x) => [
        x.id,
        unitName(x.unitId),
        sectorName(x.sectorId),
        x.title,
        x.period,
        x.dueOn,
        x.withdrawnAt ? t('export.withdrawn') : status(x.status),
        x.withdrawnAt ? '' : late(x),
        minute(x.doneAt),
        x.requestedDueOn ?? '',
        x.requestReason ?? '',
      ]),
    ),
  );
  await streamSheet(
    wb,
    t('export.sheet_history'),
    cols('export.cols_history'),
    mapped(obligations(), async (batch) => {
      const events = new Map<number, ObligationEvent[]>();
      for (const e of await db.obligationEvent.findMany({
        where: { obligationId: { in: batch.map((x) => x.id) } },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
      }))
        events.set(e.obligationId, [...(events.get(e.obligationId) ?? []), e]);
      return batch.flatMap((x) =>
        (events.get(x.id) ?? []).map((e) => [
          x.id,
          unitName(x.unitId),
          x.title,
          minute(e.at),
          status(e.fromStatus),
          status(e.toStatus),
          e.actorUserId ? who(e.actorUserId) : '',
          [e.withdrawnAt ? t('export.withdrawn') : '', note(e.note)].filter(Boolean).join(' '),
          e.dueOn ?? '',
        ]),
      );
    }),
  );

  // 8. The enforcement inspections (keyset on id), each with its findings, deadline and penalty.
  await streamSheet(
    wb,
    t('export.sheet_inspections'),
    cols('export.cols_inspections'),
    mapped(
      pages((after: { id: number } | null) =>
        db.inspection.findMany({
          where: {
            campaignId: campaign.id,
            ...(o.scope && { enterprise: o.scope }),
            ...(after && { id: { gt: after.id } }),
          },
          orderBy: { id: 'asc' },
          take,
        }),
      ),
      async (batch) => {
        const enterprises = await enterprisesOf(batch.map((i) => i.enterpriseId));
        return batch.map((i) => [
          i.id,
          i.inspectedOn,
          enterprises.get(i.enterpriseId)?.name ?? '',
          enterprises.get(i.enterpriseId)?.creditCode ?? '',
          sectorName(i.sectorId),
          unitName(i.townshipId),
          unitName(i.unitId),
          findingsText(t, i.findings),
          i.rectifyBy ?? '',
          i.penaltyNo ?? '',
          // Fen to yuan for the sheet: whole fen divided once, shown with two decimals.
          i.penaltyFen === null ? null : i.penaltyFen / 100,
          i.note ?? '',
          who(i.recordedBy),
          i.withdrawnAt ? t('export.withdrawn') : '',
        ]);
      },
    ),
  );

  // 9. The annual assessment, as /考核 and /排名 give it.
  const assessment = await assess(db, campaign.id, day.slice(0, 4), day, now, timeZone);
  if (assessment) {
    const criteria = assessment.rules.criteria;
    await streamSheet(
      wb,
      t('export.sheet_assessment', { year: assessment.year }),
      [
        ...cols('export.cols_assessment_head'),
        ...criteria.map((c) =>
          t('export.assessment_criterion', { criterion: t(`assess.criterion.${c.key}`), points: c.points }),
        ),
        ...cols('export.cols_assessment_tail'),
      ],
      [
        assessment.ranked.map(({ rank, item }) => [
          rank,
          item.unit.name,
          t(`export.unit_kind_${item.unit.kind}`),
          ...item.criteria.map((c) => (c.share === null ? t('assess.not_applicable') : c.score)),
          item.score,
          item.max,
          item.share,
        ]),
      ],
      {
        percent: [criteria.length + 6],
        tail: [
          [],
          [t('assess.as_of', { day: assessment.asOf })],
          [t('assess.not_applicable_hint')],
          [
            t(assessment.rules.placeholder ? 'assess.placeholder' : 'assess.rules_note', {
              note: assessment.rules.note,
            }),
          ],
        ],
      },
    );
  }

  // 10. Per insurer, the figures /排名 and the dashboard show (src/domain/claims.ts), with the limit and its source.
  const service = await insurerService(db, campaign.countyCode, day);
  const limit = await paymentLimit(db, day);
  await streamSheet(
    wb,
    t('export.sheet_insurers'),
    cols('export.cols_insurers'),
    [
      service.map(({ rank, item: s }) => [
        rank,
        s.insurer.name,
        s.claims,
        s.paid,
        s.overdue,
        s.claimedFen / 100,
        s.paidFen / 100,
        s.medianDays ?? '',
        s.openDisputes,
        findingTotal(s),
        ...FINDING_KINDS.map((k) => s.findings[k]),
      ]),
    ],
    {
      tail: [
        [],
        [
          limit
            ? t('export.claims_rule', { days: limit.value, source: limit.source, since: limit.effectiveOn })
            : t('claim.no_limit'),
        ],
        [t('export.as_of', { time: minute(now), county: campaign.countyName })],
      ],
    },
  );

  // 11. Every claim (keyset on id), with its payment and its latest dispute; money in yuan from whole fen.
  const claimCount = await streamSheet(
    wb,
    t('export.sheet_claims'),
    cols('export.cols_claims'),
    mapped(
      pages((after: { id: number } | null) =>
        db.claim.findMany({
          where: {
            countyCode: campaign.countyCode,
            ...(o.scope && { enterprise: o.scope }),
            id: { gt: after?.id ?? 0 },
          },
          orderBy: { id: 'asc' },
          take,
        }),
      ),
      async (batch) => {
        const enterprises = await enterprisesOf(batch.map((c) => c.enterpriseId));
        const disputes = new Map<number, ClaimDispute>();
        for (const d of await db.claimDispute.findMany({
          where: { claimId: { in: batch.map((c) => c.id) }, withdrawnAt: null },
          orderBy: { id: 'asc' },
        }))
          disputes.set(d.claimId, d);
        return batch.map((c) => {
          const e = enterprises.get(c.enterpriseId)!;
          const d = disputes.get(c.id);
          return [
            c.id,
            e.name,
            e.creditCode,
            sectorName(e.sectorId),
            unitName(e.townshipId),
            unitName(c.insurerId),
            c.accidentOn,
            c.reportedOn,
            c.claimedFen / 100,
            c.paidFen === null ? '' : c.paidFen / 100,
            c.paidOn ?? '',
            c.paidOn ? daysBetween(c.reportedOn, c.paidOn) : '',
            c.withdrawnAt ? t('export.withdrawn') : c.paidOn ? t('export.claim_paid') : t('export.claim_unpaid'),
            d ? unitName(d.coordinatorId) : '',
            d ? d.reason : '',
            d ? (d.outcome ? t(`dispute.outcome.${d.outcome}`) : t('export.dispute_open')) : '',
            d?.outcomeNote ?? '',
          ];
        });
      },
    ),
  );

  await wb.commit();
  return {
    uninsured: uninsuredCount,
    expiring: expiringCount,
    visits: visitCount,
    obligations: obligationCount,
    claims: claimCount,
  };
}

export interface ChildRequest {
  databaseUrl: string;
  campaignId: number;
  day: string;
  /** ISO instant. */
  now: string;
  locale: Locale;
  timeZone: string;
  file: string;
  scope?: ExportScope;
}

/** Far more than the 100,000 county takes (under 20 s): an export that hangs is killed. */
const EXPORT_TIMEOUT_MS = 600_000;

/** Its own file beside this one: .ts under tsx and vitest (run through tsx's loader), .js once compiled. */
const CHILD = fileURLToPath(
  new URL(`./ledger-export-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/** writeLedgerExport in a child process (src/domain/ledger-export-child.ts), leaving this one's event loop free. */
export async function exportInChild(r: ChildRequest): Promise<ExportCounts> {
  const loader = CHILD.endsWith('.ts')
    ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href]
    : [];
  const out = await runChild([...loader, CHILD], JSON.stringify(r), { what: 'export', timeoutMs: EXPORT_TIMEOUT_MS });
  return JSON.parse(out.toString('utf8')) as ExportCounts;
}
