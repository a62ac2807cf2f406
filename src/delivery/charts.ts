import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import type { Wire } from '../core/outbound.ts';
import { chartFile, coverageChartPng } from '../domain/chart.ts';
import { minuteIn } from '../clock.ts';
import { translator, type Locale } from '../i18n.ts';
import type { OutboxRow } from './dispatcher.ts';

/**
 * The dispatcher's `prepare`: a chart row becomes the image of its campaign's chart, with the
 * figures of the moment it is sent — inline for a robot, a file beside the exports that the long
 * connection uploads; other rows pass as they are.
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
    const { chart } = JSON.parse(row.payload) as { chart?: { campaignId: number; day: string } };
    if (!chart) return row;
    const campaign = await o.db.campaign.findUniqueOrThrow({ where: { id: chart.campaignId } });
    const t = translator(o.locale);
    const png = await coverageChartPng(o.db, campaign, {
      day: chart.day,
      now: o.clock.now(),
      t,
      timeZone: o.timeZone,
      cjkFont: o.cjkFont,
    });
    if (row.channel !== 'longconn')
      return { ...row, payload: JSON.stringify(o.wire.webhookImage(row.target, png).payload) };
    const file = await chartFile(o.db, png, t('chart.file_name'), minuteIn(o.clock.now(), o.timeZone));
    return { ...row, payload: JSON.stringify(o.wire.longconnMedia(row.target, 'image', file.path, file.name).payload) };
  };
}
