import { z } from 'zod';
import { addDays, minuteIn } from '../src/clock.ts';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import {
  findSector,
  findTownship,
  findUnit,
  nearestKnown,
  type SectorRef,
  type UnitRef,
} from '../src/domain/directory.ts';
import { startJob } from '../src/bot/jobs.ts';
import { asksForChart, chartFile, coverageChartPng, trendChartPng, trendScopeName } from '../src/domain/chart.ts';
import {
  colour,
  coverageView,
  sourcesText,
  totalOf,
  weakest,
  type CoverageRow,
  type CoverageViewKind,
  type TargetInForce,
  type TrendScope,
} from '../src/domain/coverage.ts';
import { changeText, didYouMean, percent, targetPercent } from '../src/core/format.ts';
import { neutral } from '../src/core/neutral.ts';

/** Words that ask for the per-township and per-department views (and the default, by name). */
const BY_TOWNSHIP = ['乡镇', '按乡镇', '分乡镇', 'township', 'townships'];
const BY_DEPARTMENT = ['部门', '牵头部门', '按部门', 'department', 'departments'];
const BY_SECTOR = ['行业', '按行业', 'sector', 'sectors'];
/** Coverage week by week since the campaign took effect, as a chart: the high-risk sectors, or a sector or township. */
const TREND = ['趋势', '走势', 'trend'];

export default defineCommand({
  name: 'coverage',
  aliases: ['覆盖率', '参保率'],
  summary: 'coverage.summary',
  usage: 'coverage.usage',
  examples: [
    '/覆盖率',
    '/覆盖率 乡镇',
    '/覆盖率 危化',
    '/覆盖率 东坪',
    '/覆盖率 东坪 危化',
    '/覆盖率 图',
    '/覆盖率 趋势',
    '/覆盖率 趋势 东坪',
  ],
  params: ['scope', 'cell'],
  // `trend`: what /覆盖率 趋势 named, resolved when asked and stored with the job (no parameter of its own).
  args: z.object({
    scope: z.string().optional(),
    cell: z.string().optional(),
    trend: z.custom<TrendScope>().optional(),
  }),
  roles: ['leader', 'liaison', 'viewer', 'agency'],
  figures: true,
  writes: false,
  /**
   * /覆盖率 图 and /覆盖率 趋势: the chart (a second or more), to the chat's robot as an image, else
   * to the member through the app.
   */
  async background(job, { trend }) {
    const { db, campaign, today, clock, t, timeZone, cjkFont } = job;
    const now = clock.now();
    if (!trend) {
      const png = await coverageChartPng(db, campaign, { day: today, now, t, timeZone, cjkFont });
      return {
        text: t('chart.done'),
        attachment: await chartFile(db, png, t('chart.file_name'), minuteIn(now, timeZone)),
      };
    }
    const { effectiveOn: from } = await db.campaign.findUniqueOrThrow({
      where: { id: campaign.id },
      select: { effectiveOn: true },
    });
    const png = await trendChartPng(db, campaign, trend, { from, day: today, now, t, timeZone, cjkFont });
    const scope = trendScopeName(t, trend);
    return {
      text: t('chart.trend_done', { scope, from: from < today ? from : today }),
      attachment: await chartFile(db, png, `${t('chart.trend_file_name')}-${scope}`, minuteIn(now, timeZone)),
    };
  },
  async run(ctx, { scope, cell }) {
    const word = scope?.trim().toLowerCase();
    if (asksForChart(word)) {
      // /覆盖率 图 takes nothing after it: say so, rather than take 图 for a sector or township.
      if (cell) throw new UserError('bus.too_many_args', { extra: cell });
      return startJob(ctx, 'coverage', {});
    }
    if (word && TREND.includes(word)) return startJob(ctx, 'coverage', { trend: await trendOf(ctx, cell) });
    const { db, campaign, today, clock, t, timeZone } = ctx;
    const now = clock.now();
    const view = await viewFor(ctx, scope, cell);
    const {
      rows,
      target: common,
      countyWideOnly,
      lastWeekEarliestRoster,
    } = await coverageView(db, campaign, view, today, now);
    const named = rows.map((r) => (r.key === null ? { ...r, name: t('coverage.county_wide') } : r));
    // The header states the target most rows share; a row states its own only where it differs.
    const lines = [
      title(ctx, view),
      `${t('coverage.as_of', { time: minuteIn(now, timeZone) })} · ${targetText(t, common)}`,
      '',
    ];
    for (const row of named) lines.push(...rowLines(ctx, row, common));
    lines.push('');
    if (view.by === 'township_sectors' && view.sector) {
      // One cell: its line says it all.
    } else if (view.by === 'sector') {
      const highRisk = totalOf(
        named.filter((r) => r.sectors[0]!.highRisk),
        '',
        common,
      );
      lines.push(
        t('coverage.total_high_risk', {
          insured: highRisk.insured,
          enterprises: highRisk.enterprises,
          rate: percent(highRisk.rate),
          gap: highRisk.gap,
        }) + change(t, highRisk),
      );
    } else {
      const name =
        view.by === 'sector_townships'
          ? view.sector.name
          : view.by === 'township_sectors'
            ? view.township.name
            : view.by === 'township'
              ? t('coverage.total_townships')
              : t('coverage.total_departments');
      const total = totalOf(named, name, common);
      lines.push(
        t('coverage.total', {
          name,
          insured: total.insured,
          enterprises: total.enterprises,
          rate: percent(total.rate),
          gap: total.gap,
        }) + change(t, total),
      );
    }
    if (countyWideOnly.length) lines.push(t('coverage.county_wide_left_out', { sectors: countyWideOnly.join('、') }));
    const weak = weakest(named);
    if (weak.length) {
      const list = weak.map((r) => `${r.name} ${percent(r.rate)}`).join('、');
      lines.push(
        weak.length === 5 ? t('coverage.weakest', { list }) : t('coverage.weakest_few', { count: weak.length, list }),
      );
    }
    // A week back before the roster's history starts: its figures count the earliest roster known.
    const legend = t('coverage.change_legend', { day: addDays(today, -7).slice(5) });
    lines.push(t('coverage.legend'), lastWeekEarliestRoster ? legend + t('coverage.change_earliest_roster') : legend);
    return { text: lines.join('\n') };
  },
});

/** Whose trend /覆盖率 趋势 asks for: no word, the high-risk sectors together; else a sector or a township. */
async function trendOf(ctx: CommandContext, word?: string): Promise<TrendScope> {
  if (!word) return { by: 'high_risk' };
  const found = await named(ctx, word);
  return 'highRisk' in found
    ? { by: 'sector', sector: found }
    : { by: 'township', township: { id: found.id, name: found.name } };
}

/**
 * No word: by sector; 乡镇 / 部门: by township or lead department; else a sector's or a township's
 * name; a township and a sector (东坪 危化, either order): that one cell.
 */
async function viewFor(ctx: CommandContext, scope?: string, cell?: string): Promise<CoverageViewKind> {
  const word = scope?.trim().toLowerCase();
  if (!word || BY_SECTOR.includes(word)) return { by: 'sector' };
  if (!cell && BY_TOWNSHIP.includes(word)) return { by: 'township' };
  if (!cell && BY_DEPARTMENT.includes(word)) return { by: 'department' };
  const first = await named(ctx, scope!);
  if (!cell)
    return 'highRisk' in first
      ? { by: 'sector_townships', sector: first }
      : { by: 'township_sectors', township: first };
  const second = await named(ctx, cell);
  const sector = [first, second].find((x): x is SectorRef => 'highRisk' in x);
  const township = [first, second].find((x): x is UnitRef => 'kind' in x);
  if (!sector || !township) throw new UserError('coverage.bad_cell', { first: scope!, second: cell });
  return { by: 'township_sectors', township, sector };
}

/** A sector or a township a word names; else the sectors a unit it names leads, or the nearest names. */
async function named({ db, campaign, t }: CommandContext, word: string): Promise<SectorRef | UnitRef> {
  const found = (await findSector(db, campaign.id, word)) ?? (await findTownship(db, campaign.countyCode, word));
  if (found) return found;
  const unit = await findUnit(db, campaign.countyCode, word);
  const leads = unit
    ? await db.sectorResponsibility.findMany({
        where: { unitId: unit.id, role: 'lead', sector: { campaignId: campaign.id } },
        include: { sector: true },
        orderBy: { sector: { sortOrder: 'asc' } },
      })
    : [];
  if (unit && leads.length)
    throw new UserError('coverage.unit_scope', {
      unit: unit.name,
      sectors: leads.map((l) => l.sector.aliases.split('|')[0] || l.sector.name).join('、'),
    });
  throw new UserError('coverage.unknown_scope', {
    word,
    nearest: didYouMean(t, unit ? [] : await nearestKnown(db, campaign, word, { sectors: true, units: 'any' })),
  });
}

function title({ t, campaign }: CommandContext, view: CoverageViewKind): string {
  const county = campaign.countyName;
  switch (view.by) {
    case 'sector':
      return t('coverage.title', { county });
    case 'township':
      return t('coverage.title_townships', { county });
    case 'department':
      return t('coverage.title_departments', { county });
    case 'sector_townships':
      return t('coverage.title_one_sector', { county, sector: view.sector.name });
    case 'township_sectors':
      return view.sector
        ? t('coverage.title_cell', { township: view.township.name, sector: view.sector.name })
        : t('coverage.title_one_township', { township: view.township.name });
  }
}

function rowLines({ t, timeZone }: CommandContext, row: CoverageRow, common: TargetInForce | null): string[] {
  if (row.sources.length === 0) return [`⚪ ${neutral(row.name)}  ${t('coverage.no_data')}`];
  const source = t('coverage.source', {
    sources: sourcesText(t, row, row.asOf ? minuteIn(row.asOf, timeZone).slice(5) : ''),
  });
  if (row.enterprises === 0) return [`⚪ ${neutral(row.name)}  ${t('coverage.none_in_scope')} · ${source}`];
  const details = [
    ...(sameTarget(row.target, common) ? [] : [targetText(t, row.target)]),
    ...(row.headcountRate === null
      ? []
      : [
          t('coverage.headcount', {
            insured: row.insuredPersons,
            employees: row.employees,
            rate: percent(row.headcountRate),
          }),
        ]),
    source,
    // Township reports newer than the county-wide report the line shows: counted for the township only.
    ...(row.newerReports ?? []).map((r) =>
      t('coverage.newer_report', {
        township: r.township,
        insured: r.insured,
        total: r.total,
        time: minuteIn(r.asOf, timeZone).slice(5),
      }),
    ),
  ];
  return [
    `${colour(row.rate, row.target)} ${neutral(row.name)}  ${t('coverage.enterprises', { insured: row.insured, enterprises: row.enterprises, rate: percent(row.rate) })}${row.gap ? t('coverage.gap', { gap: row.gap }) : ''}${change(t, row)}`,
    `   ${details.join(' · ')}`,
  ];
}

function change(t: CommandContext['t'], row: Pick<CoverageRow, 'insured' | 'lastWeek'>): string {
  return `  ${changeText(row, t('coverage.change_new'))}`;
}

function sameTarget(a: TargetInForce | null, b: TargetInForce | null): boolean {
  return a?.rateBp === b?.rateBp && a?.dueOn === b?.dueOn;
}

function targetText(t: CommandContext['t'], target: TargetInForce | null): string {
  if (!target) return t('coverage.no_target');
  return t(target.passed ? 'coverage.target_passed' : 'coverage.target', {
    rate: targetPercent(target.rateBp),
    due: target.dueOn,
  });
}
