import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as ECharts from 'echarts';
import type { EChartsOption } from 'echarts';
import { minuteIn } from '../clock.ts';
import { UserError } from '../core/errors.ts';
import type { Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';
import { percent, shownRate, targetPercent } from '../core/format.ts';
import { outputDir, stamped } from './attachments.ts';
import { findCjkFont, svgToPng } from './raster.ts';
import {
  colour,
  coverageGrid,
  coverageTrend,
  type CoverageGrid,
  type CoverageRow,
  type CoverageTrend,
  type TrendScope,
} from './coverage.ts';
import { rankCoverage, type CoverageRanking } from './ranking.ts';

// The coverage chart: per sector against the target line, and a sector × township heat map, one
// PNG. ECharts renders SVG on the server; src/domain/raster.ts makes it a picture.

/** The word after a command that asks for its chart instead of its text: /覆盖率 图, /排名 图. */
export const asksForChart = (word: string | undefined): boolean =>
  word !== undefined && ['图', '图表', 'chart'].includes(word.trim().toLowerCase());

function renderSvg(option: EChartsOption, width: number, height: number): string {
  // Loaded on first use, as its one-file bundle (several times faster to load than its ES modules).
  const echarts = createRequire(import.meta.url)('echarts') as typeof ECharts;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: 'sans-serif' },
      ...option,
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const WIDTH = 1000;
const BAR_HEIGHT = 600;
const HEX: Record<string, string> = { '🟢': '#3ba272', '🟡': '#f2b53a', '🔴': '#e5534b', '⚪': '#c0c4cc' };
/** In percent, as /覆盖率 shows rates. */
const pct = (rate: number | null) => {
  const shown = shownRate(rate);
  return shown === null ? null : Math.round(shown * 1000) / 10;
};
/** Long sector names on two lines under their bar: 其他规上 / 工贸企业, 危险化 / 学品. */
const wrap = (name: string) =>
  name.length > 4 ? `${name.slice(0, Math.ceil(name.length / 2))}\n${name.slice(Math.ceil(name.length / 2))}` : name;

export interface ChartText {
  title: string;
  subtitle: string;
  targetLine: string;
  noData: string;
  heatTitle: string;
  countyWide: string;
}

/** Coverage per sector: bars coloured as /覆盖率 colours them, the rate and count on each, the target as a line. */
export function sectorBarSvg(grid: CoverageGrid, text: ChartText): string {
  const rows = grid.sectors;
  const target = grid.target ? grid.target.rateBp / 100 : null;
  return renderSvg(
    {
      title: {
        text: text.title,
        subtext: text.subtitle,
        left: 'center',
        top: 12,
        textStyle: { fontSize: 22 },
        subtextStyle: { fontSize: 14 },
      },
      grid: { left: 70, right: 40, top: 130, bottom: 70 },
      xAxis: {
        type: 'category',
        data: rows.map((r) => wrap(r.name)),
        axisLabel: { interval: 0, fontSize: 14, lineHeight: 18 },
      },
      yAxis: { type: 'value', min: 0, max: 100, interval: 20, axisLabel: { formatter: '{value}%', fontSize: 13 } },
      series: [
        {
          type: 'bar',
          barWidth: '55%',
          data: rows.map((r) => ({ value: pct(r.rate) ?? 0, itemStyle: { color: HEX[colour(r.rate, r.target)] } })),
          label: {
            show: true,
            position: 'top',
            fontSize: 13,
            lineHeight: 17,
            formatter: (p: { dataIndex: number }) => {
              const r = rows[p.dataIndex]!;
              return r.rate === null ? text.noData : `${percent(r.rate)}\n${r.insured}/${r.enterprises}`;
            },
          },
          markLine:
            target === null
              ? undefined
              : {
                  symbol: 'none',
                  silent: true,
                  lineStyle: { color: '#c0392b', type: 'dashed', width: 2 },
                  label: { formatter: text.targetLine, position: 'insideEndTop', color: '#c0392b', fontSize: 14 },
                  data: [{ yAxis: target }],
                },
        },
      ],
    },
    WIDTH,
    BAR_HEIGHT,
  );
}

/** Rates per township (rows) and sector (columns), red to green; empty where a cell has no figures. */
export function heatMapSvg(grid: CoverageGrid, text: ChartText): { svg: string; height: number } {
  const places = [...grid.townships, ...(grid.countyWide ? [{ id: null, name: text.countyWide }] : [])];
  const data = places.flatMap((u, y) =>
    grid.sectors.flatMap((s, x) => {
      const rate = pct(grid.cell(s.sector.id, u.id)?.rate ?? null);
      return rate === null ? [] : [[x, y, rate]];
    }),
  );
  const height = 120 + 30 * places.length + 70;
  const svg = renderSvg(
    {
      title: { text: text.heatTitle, left: 'center', top: 8, textStyle: { fontSize: 20 } },
      grid: { left: 150, right: 30, top: 110, bottom: 70 },
      xAxis: {
        type: 'category',
        position: 'top',
        data: grid.sectors.map((s) => wrap(s.name)),
        axisLabel: { interval: 0, fontSize: 13, lineHeight: 17 },
      },
      yAxis: {
        type: 'category',
        inverse: true,
        data: places.map((u) => u.name),
        axisLabel: { fontSize: 13 },
        splitLine: { show: true, lineStyle: { color: '#eeeeee' } },
      },
      visualMap: {
        type: 'continuous',
        min: 0,
        max: 100,
        orient: 'horizontal',
        left: 'center',
        bottom: 12,
        itemWidth: 14,
        itemHeight: 300,
        text: ['100%', '0%'],
        inRange: { color: ['#e5534b', '#f2b53a', '#3ba272'] },
      },
      series: [
        {
          type: 'heatmap',
          data,
          label: { show: true, fontSize: 12 },
          itemStyle: { borderColor: '#ffffff', borderWidth: 1 },
        },
      ],
    },
    WIDTH,
    height,
  );
  return { svg, height };
}

/** Both charts, one above the other, as one SVG. */
export function coverageChartSvg(grid: CoverageGrid, text: ChartText): string {
  return stacked([{ svg: sectorBarSvg(grid, text), height: BAR_HEIGHT }, heatMapSvg(grid, text)]);
}

/** Charts of the same width one above the other, as one SVG. */
function stacked(parts: { svg: string; height: number }[]): string {
  let y = 0;
  const inner = parts.map((p) => {
    const placed = p.svg.replace('<svg ', `<svg y="${y}" `);
    y += p.height;
    return placed;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}">${inner.join('')}</svg>`;
}

export function chartText(t: Translate, county: string, grid: CoverageGrid, now: Date, timeZone: string): ChartText {
  const target = grid.target ? targetPercent(grid.target.rateBp) : '';
  return {
    title: t('chart.title', { county }),
    subtitle: [
      t('chart.as_of', { time: minuteIn(now, timeZone) }),
      ...(grid.sectors.some((r) => r.demo) ? [t('chart.demo')] : []),
    ].join(' · '),
    targetLine: t('chart.target_line', { rate: target }),
    noData: t('chart.no_data'),
    heatTitle: t('chart.heat_title'),
    countyWide: t('coverage.county_wide'),
  };
}

/** The coverage chart of a campaign on a day, as a PNG. */
export async function coverageChartPng(
  db: Tx,
  campaign: { id: number; countyCode: string; countyName: string },
  o: { day: string; now: Date; t: Translate; timeZone: string; cjkFont?: string | undefined },
): Promise<Buffer> {
  return chartPng(o.cjkFont, async () => {
    const grid = await coverageGrid(db, campaign, o.day, o.now);
    return coverageChartSvg(grid, chartText(o.t, campaign.countyName, grid, o.now, o.timeZone));
  });
}

/** A chart drawn and made a PNG with the CJK font (none: the asker is told how to install one). */
export async function chartPng(cjkFont: string | undefined, draw: () => Promise<string>): Promise<Buffer> {
  const font = findCjkFont(cjkFont);
  if (!font) throw new UserError('chart.no_font');
  return svgToPng(await draw(), font);
}

// ── The trend (/覆盖率 趋势): coverage week by week against the target line and its date.

export interface TrendText {
  title: string;
  subtitle: string;
  /** "目标 100%（2026-12-31 前）". */
  targetLine: string;
  /** The target's date, on the vertical line. */
  dueLine: string;
  /** Under the chart: which weeks are counted with the earliest roster known, if any. */
  note: string;
}

const TREND_HEIGHT = 640;
/** An axis day (local midnight, as the points are placed): 2026-03, or 03-08 within a year. */
function dayLabel(at: number, long: boolean): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return long ? `${d.getFullYear()}-${two(d.getMonth() + 1)}` : `${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}
/** How far past the last week the axis reaches to show the target's date. */
const DUE_AHEAD_DAYS = 183;

/** The trend as a line, each week's rate on a time axis, the target as a dashed line and its date as another. */
export function trendSvg(trend: CoverageTrend, text: TrendText): string {
  const points = trend.points;
  const last = points.at(-1)!;
  const due = trend.target?.dueOn;
  const lastDay = Date.parse(last.day);
  const showDue =
    due !== undefined &&
    Date.parse(due) >= Date.parse(points[0]!.day) &&
    Date.parse(due) <= lastDay + DUE_AHEAD_DAYS * 86_400_000;
  const day = (d: string) => Date.parse(`${d}T00:00:00`);
  // Over a year: the axis names months with their year.
  const long = lastDay - Date.parse(points[0]!.day) > 300 * 86_400_000;
  const markLines = [
    ...(trend.target
      ? [
          {
            yAxis: trend.target.rateBp / 100,
            label: { formatter: text.targetLine, position: 'insideMiddleTop' as const, color: '#c0392b', fontSize: 16 },
          },
        ]
      : []),
    ...(showDue
      ? [
          {
            xAxis: day(due),
            label: { formatter: text.dueLine, position: 'end' as const, color: '#c0392b', fontSize: 15 },
          },
        ]
      : []),
  ];
  return renderSvg(
    {
      title: {
        text: text.title,
        subtext: text.subtitle,
        left: 'center',
        top: 12,
        textStyle: { fontSize: 24 },
        subtextStyle: { fontSize: 15 },
      },
      grid: { left: 80, right: 90, top: 130, bottom: text.note ? 100 : 70 },
      xAxis: {
        type: 'time',
        min: day(points[0]!.day),
        max: showDue ? Math.max(day(last.day), day(due)) : day(last.day),
        axisLabel: { fontSize: 15, formatter: (v: number) => dayLabel(v, long), hideOverlap: true },
        splitLine: { show: false },
      },
      yAxis: {
        type: 'value',
        min: 0,
        max: 100,
        interval: 20,
        axisLabel: { formatter: '{value}%', fontSize: 15 },
      },
      series: [
        {
          type: 'line',
          data: points.map((p) => [day(p.day), pct(p.rate)]),
          connectNulls: false,
          showSymbol: points.length <= 60,
          symbolSize: 8,
          lineStyle: { width: 4, color: '#2f6fb0' },
          itemStyle: { color: '#2f6fb0' },
          // The latest rate at the line's end.
          endLabel: {
            show: last.rate !== null,
            formatter: last.rate === null ? '' : percent(last.rate),
            fontSize: 18,
            fontWeight: 'bold',
            color: '#2f6fb0',
          },
          markLine: markLines.length
            ? {
                symbol: 'none',
                silent: true,
                lineStyle: { color: '#c0392b', type: 'dashed', width: 2 },
                data: markLines,
              }
            : undefined,
        },
      ],
      ...(text.note
        ? {
            graphic: [
              { type: 'text', left: 'center', bottom: 16, style: { text: text.note, fontSize: 14, fill: '#666666' } },
            ],
          }
        : {}),
    },
    WIDTH,
    TREND_HEIGHT,
  );
}

// ── The 通报 as a picture (/排名 图): townships and lead departments ranked by coverage.

export interface RankText {
  townshipsTitle: string;
  departmentsTitle: string;
  subtitle: string;
  targetLine: string;
  noData: string;
  /** Under the townships: those with no figures, which cannot be ranked; empty when none. */
  unranked: string;
}

const RANK_ROW = 34;

/** One ranked list as horizontal bars, best at the top, coloured as /排名 colours them, the target as a line. */
function rankBarsSvg(
  rows: { rank: number; item: CoverageRow }[],
  o: { title: string; subtitle?: string; note?: string; target: number | null; text: RankText },
): { svg: string; height: number } {
  const top = o.subtitle ? 100 : 70;
  const bottom = o.note ? 70 : 40;
  const height = top + RANK_ROW * Math.max(rows.length, 1) + bottom;
  const svg = renderSvg(
    {
      title: {
        text: o.title,
        subtext: o.subtitle,
        left: 'center',
        top: 12,
        textStyle: { fontSize: 22 },
        subtextStyle: { fontSize: 15 },
      },
      grid: { left: 230, right: 150, top, bottom },
      xAxis: { type: 'value', min: 0, max: 100, interval: 20, axisLabel: { formatter: '{value}%', fontSize: 14 } },
      yAxis: {
        type: 'category',
        inverse: true,
        data: rows.map((r) => `${r.rank}. ${r.item.name}`),
        axisLabel: { fontSize: 16, interval: 0 },
        axisTick: { show: false },
      },
      series: [
        {
          type: 'bar',
          barWidth: '65%',
          data: rows.map((r) => ({
            value: pct(r.item.rate) ?? 0,
            itemStyle: { color: HEX[colour(r.item.rate, r.item.target)] },
          })),
          label: {
            show: true,
            position: 'right',
            fontSize: 15,
            formatter: (p: { dataIndex: number }) => {
              const r = rows[p.dataIndex]!.item;
              return r.rate === null ? o.text.noData : `${percent(r.rate)}  ${r.insured}/${r.enterprises}`;
            },
          },
          markLine:
            o.target === null
              ? undefined
              : {
                  symbol: 'none',
                  silent: true,
                  lineStyle: { color: '#c0392b', type: 'dashed', width: 2 },
                  label: { formatter: o.text.targetLine, position: 'start', color: '#c0392b', fontSize: 14 },
                  data: [{ xAxis: o.target }],
                },
        },
      ],
      ...(o.note
        ? { graphic: [{ type: 'text', left: 20, bottom: 20, style: { text: o.note, fontSize: 14, fill: '#666666' } }] }
        : {}),
    },
    WIDTH,
    height,
  );
  return { svg, height };
}

/** The townships' ranking above the lead departments', one SVG. */
export function rankSvg(ranking: CoverageRanking, text: RankText): string {
  const target = (rows: { item: CoverageRow }[]) => {
    const t = rows.find((r) => r.item.target)?.item.target;
    return t ? t.rateBp / 100 : null;
  };
  return stacked([
    rankBarsSvg(ranking.townships, {
      title: text.townshipsTitle,
      subtitle: text.subtitle,
      note: text.unranked,
      target: target(ranking.townships),
      text,
    }),
    rankBarsSvg(ranking.departments, { title: text.departmentsTitle, target: null, text }),
  ]);
}

type ChartCampaign = { id: number; countyCode: string; countyName: string };
type ChartOptions = { day: string; now: Date; t: Translate; timeZone: string; cjkFont?: string | undefined };

/** The trend of a scope since the campaign took effect (`from`), as a PNG. */
export function trendChartPng(
  db: Tx,
  campaign: ChartCampaign,
  scope: TrendScope,
  o: ChartOptions & { from: string },
): Promise<Buffer> {
  return chartPng(o.cjkFont, () => trendChartSvg(db, campaign, scope, o));
}

/** The trend of a scope since the campaign took effect, as an SVG with its words. */
export async function trendChartSvg(
  db: Tx,
  campaign: ChartCampaign,
  scope: TrendScope,
  o: ChartOptions & { from: string },
): Promise<string> {
  const { t } = o;
  const trend = await coverageTrend(db, campaign, scope, o.from, o.day, o.now);
  const target = trend.target;
  const earliest = trend.points.filter((p) => p.earliestRoster).at(-1);
  const text: TrendText = {
    title: t('chart.trend_title', { county: campaign.countyName, scope: trendScopeName(t, scope) }),
    subtitle: [
      t('chart.trend_weekly', { from: trend.points[0]!.day }),
      t('chart.as_of', { time: minuteIn(o.now, o.timeZone) }),
      ...(trend.points.some((p) => p.demo) ? [t('chart.demo')] : []),
    ].join(' · '),
    targetLine: target ? t('chart.trend_target_line', { rate: targetPercent(target.rateBp), due: target.dueOn }) : '',
    dueLine: target ? t('chart.trend_due', { due: target.dueOn }) : '',
    note: earliest ? t('chart.trend_earliest_roster', { day: earliest.day }) : '',
  };
  return trendSvg(trend, text);
}

/** A trend's scope in words: 八大高危行业合计, a sector's or a township's name. */
export function trendScopeName(t: Translate, scope: TrendScope): string {
  return scope.by === 'high_risk'
    ? t('chart.trend_high_risk')
    : scope.by === 'sector'
      ? scope.sector.name
      : scope.township.name;
}

/** The 通报's coverage ranking as a PNG. */
export function rankChartPng(db: Tx, campaign: ChartCampaign, o: ChartOptions): Promise<Buffer> {
  return chartPng(o.cjkFont, () => rankChartSvg(db, campaign, o));
}

/** The 通报's coverage ranking as an SVG with its words. */
export async function rankChartSvg(db: Tx, campaign: ChartCampaign, o: ChartOptions): Promise<string> {
  const { t } = o;
  const ranking = await rankCoverage(db, campaign.id, o.day, o.now);
  const rows = [...ranking.townships, ...ranking.departments];
  const target = rows.find((r) => r.item.target)?.item.target;
  const text: RankText = {
    townshipsTitle: t('chart.rank_townships', { county: campaign.countyName }),
    departmentsTitle: t('chart.rank_departments'),
    subtitle: [
      t('rank.as_of', { time: minuteIn(o.now, o.timeZone) }),
      ...(rows.some((r) => r.item.demo) ? [t('chart.demo')] : []),
    ].join(' · '),
    targetLine: target ? t('chart.target_line', { rate: targetPercent(target.rateBp) }) : '',
    noData: t('chart.no_data'),
    unranked: ranking.unranked.length ? t('chart.rank_unranked', { names: ranking.unranked.join('、') }) : '',
  };
  return rankSvg(ranking, text);
}

/** A chart's PNG kept beside the exports under a name stamped with the minute, to be sent as an image. */
export async function chartFile(
  db: Tx,
  png: Buffer,
  prefix: string,
  minute: string,
): Promise<{ type: 'image'; path: string; name: string }> {
  const name = `${stamped(prefix.replace(/[\\/:*?"<>|\s]/g, '_'), minute)}.png`;
  const path = join(await outputDir(db), name);
  writeFileSync(path, png);
  return { type: 'image', path, name };
}
