import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawCharts } from '../../src/delivery/charts.ts';
import { coverageChartPng, trendChartPng } from '../../src/domain/chart.ts';
import { findCjkFont } from '../../src/domain/raster.ts';
import { translator } from '../../src/i18n.ts';
import { wecomWire } from '../../src/wecom/messages.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

// A queued chart row is drawn when it is sent (the dispatcher's `prepare`): the chart it names —
// the trend for the weekly digest, the coverage chart for a row that names none (queued before
// rows said which) — inline for a robot, a file to upload over the long connection.

const font = findCjkFont();
const skip = !font && process.env.CI !== 'true';
const DAY = '2026-11-30';

describe.skipIf(skip)('the chart rows drawn when sent', { timeout: 180_000 }, () => {
  let t: TestDb;
  let draw: ReturnType<typeof drawCharts>;
  /** The two charts drawn directly, to compare with what the rows carry. */
  let trend: Buffer;
  let coverage: Buffer;
  const opts = () => ({ day: DAY, now: t.clock.now(), t: translator('zh-CN'), timeZone: TZ });
  const row = (channel: string, chart: object) => ({
    id: 1,
    channel,
    target: channel === 'longconn' ? 'demo-chat-leaders' : 'robot-key',
    payload: JSON.stringify(
      channel === 'longconn' ? { chatid: 'demo-chat-leaders', msgtype: 'image', chart } : { msgtype: 'image', chart },
    ),
    attempts: 0,
  });

  beforeAll(async () => {
    t = await testDb({ demo: true });
    const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
    trend = await trendChartPng(t.db, campaign, { by: 'high_risk' }, { ...opts(), from: campaign.effectiveOn });
    coverage = await coverageChartPng(t.db, campaign, opts());
    draw = drawCharts({ db: t.db, clock: t.clock, locale: 'zh-CN', timeZone: TZ, wire: wecomWire });
  }, 120_000);
  afterAll(() => t.close());

  /** The image a robot row carries, as its bytes. */
  const inline = (payload: string) => {
    const body = JSON.parse(payload) as { msgtype: string; image: { base64: string; md5: string }; chart?: unknown };
    expect(body.msgtype).toBe('image');
    expect(body.chart).toBeUndefined();
    return Buffer.from(body.image.base64, 'base64');
  };

  it('draws the trend of the high-risk sectors since the campaign took effect for a row of kind trend', async () => {
    const sent = await draw(row('webhook', { campaignId: t.campaignId, day: DAY, kind: 'trend' }));
    expect(trend.equals(coverage)).toBe(false);
    expect(inline(sent.payload).equals(trend)).toBe(true);
  });

  it('draws the coverage chart for a row that names no kind, as rows queued before kinds existed', async () => {
    const sent = await draw(row('webhook', { campaignId: t.campaignId, day: DAY }));
    expect(inline(sent.payload).equals(coverage)).toBe(true);
    const named = await draw(row('webhook', { campaignId: t.campaignId, day: DAY, kind: 'coverage' }));
    expect(inline(named.payload).equals(inline(sent.payload))).toBe(true);
  });

  it('keeps the trend as a file under its own name for the long connection to upload', async () => {
    const sent = await draw(row('longconn', { campaignId: t.campaignId, day: DAY, kind: 'trend' }));
    const body = JSON.parse(sent.payload) as { chatid: string; msgtype: string; image: { path: string; name: string } };
    expect([body.chatid, body.msgtype]).toEqual(['demo-chat-leaders', 'image']);
    expect(body.image.name).toMatch(/^安责险参保率趋势.*\.png$/);
    expect(readFileSync(body.image.path).equals(trend)).toBe(true);
  });

  it('passes other rows as they are', async () => {
    const other = {
      ...row('webhook', {}),
      payload: JSON.stringify({ msgtype: 'markdown', markdown: { content: 'x' } }),
    };
    expect(await draw(other)).toEqual(other);
  });
});
