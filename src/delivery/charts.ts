import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import type { ChartRef } from '../core/notice.ts';
import type { Wire } from '../core/outbound.ts';
import { chartFile, coverageChartPng, trendChartPng } from '../domain/chart.ts';
import { minuteIn } from '../clock.ts';
import { translator, type Locale } from '../i18n.ts';
import type { OutboxRow } from './dispatcher.ts';

/**
 * The dispatcher's `prepare`: a chart row becomes the image of the chart it names (`kind`: the
 * trend of the eight high-risk sectors since the campaign took effect, or the coverage chart — what
 * rows queued before `kind` existed draw), with the figures of the moment it is sent — inline for
 * a robot, a file beside the exports that the long connection uploads; other rows pass as they are.
 */
export function drawCharts(o: {
  db: Tx;
  clock: Clock;
  locale: Locale;
  timeZone: string;
  wire: Wire;
  /** The configured CJK font file, if any. */
  cjkFont?: string | undefined;
}): (row: OutboxRow) => Promise<OutboxRow> {
  return async (row) => {
    if (!row.payload.includes('"chart"')) return row; // most rows: not parsed twice
    const { chart } = JSON.parse(row.payload) as { chart?: ChartRef };
    if (!chart) return row;
    const campaign = await o.db.campaign.findUniqueOrThrow({ where: { id: chart.campaignId } });
    const t = translator(o.locale);
    const now = o.clock.now();
    const drawing = { day: chart.day, now, t, timeZone: o.timeZone, cjkFont: o.cjkFont };
    const [png, name] =
      chart.kind === 'trend'
        ? [
            await trendChartPng(o.db, campaign, { by: 'high_risk' }, { ...drawing, from: campaign.effectiveOn }),
            t('chart.trend_file_name'),
          ]
        : [await coverageChartPng(o.db, campaign, drawing), t('chart.file_name')];
    if (row.channel !== 'longconn')
      return { ...row, payload: JSON.stringify(o.wire.webhookImage(row.target, png).payload) };
    const file = await chartFile(o.db, png, name, minuteIn(now, o.timeZone));
    return { ...row, payload: JSON.stringify(o.wire.longconnMedia(row.target, 'image', file.path, file.name).payload) };
  };
}
