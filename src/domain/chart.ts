import { createRequire } from 'node:module';
import type * as ECharts from 'echarts';
import type { EChartsOption } from 'echarts';
import { minuteIn } from '../clock.ts';
import { UserError } from '../core/errors.ts';
import type { Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';
import { percent, shownRate, targetPercent } from '../core/format.ts';
import { findCjkFont, svgToPng } from './raster.ts';
import { colour, coverageGrid, type CoverageGrid } from './coverage.ts';

// The coverage chart: per sector against the target line, and a sector × township heat map, one
// PNG. ECharts renders SVG on the server; src/domain/raster.ts makes it a picture.

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
  const parts = [{ svg: sectorBarSvg(grid, text), height: BAR_HEIGHT }, heatMapSvg(grid, text)];
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
  const font = findCjkFont(o.cjkFont);
  if (!font) throw new UserError('chart.no_font');
  const grid = await coverageGrid(db, campaign, o.day, o.now);
  return svgToPng(coverageChartSvg(grid, chartText(o.t, campaign.countyName, grid, o.now, o.timeZone)), font);
}
