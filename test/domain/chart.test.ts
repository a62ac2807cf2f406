import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { UserError } from '../../src/core/errors.ts';
import { chartText, coverageChartSvg, rankChartSvg, trendChartSvg } from '../../src/domain/chart.ts';
import { findCjkFont, rasterise, svgToPng } from '../../src/domain/raster.ts';
import { coverageGrid } from '../../src/domain/coverage.ts';
import { translator } from '../../src/i18n.ts';
import { runJobs, testBot, TZ, type TestDb } from '../support/db.ts';
import { expectCjkGlyphs, label } from '../support/glyphs.ts';

// Without a CJK font the chart cannot be drawn: these tests are skipped on a developer's machine
// without one, but never in CI (CI=true), where .ci/run installs fonts-noto-cjk.
const font = findCjkFont();
const skip = !font && process.env.CI !== 'true';

let t: TestDb;
let bus: Bus;
const say = (text: string, chatId: string | null) =>
  bus.handle({ channel: 'sandbox', userId: 'demo-leader', chatId, text });
/** Width and height from a PNG's IHDR chunk. */
const size = (png: Buffer) => [png.readUInt32BE(16), png.readUInt32BE(20)];
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
});
afterAll(() => t.close());

describe.skipIf(skip)('the coverage chart', () => {
  it('draws Chinese glyphs, not boxes: different words give different pictures, and not a blank one', async () => {
    await expectCjkGlyphs();
  });

  it('/覆盖率 图 in a group: a webhook image (base64 + md5, ≤ 2 MB) of both charts with their labels', async () => {
    expect((await say('/覆盖率 图', 'demo-chat-leaders')).text).toMatch(/^⏳ 正在生成…，完成后发到这里。/);
    const [text] = await runJobs(t);
    // The picture shows demo figures: the text after it says so, as every reply with figures does.
    expect(text).toMatch(
      /^📊 参保率图.*\n已发到本群。\n文件：.*安责险参保率-2026-11-29-0800\.png\n⚠️ 含演示数据，仅供试用。$/,
    );
    const outbox = await t.db.outboxMessage.findFirstOrThrow({
      where: { payload: { contains: '"msgtype":"image"' } },
      orderBy: { id: 'desc' },
    });
    expect(outbox).toMatchObject({ channel: 'webhook', target: 'demo-webhook-leaders' });
    const { msgtype, image } = JSON.parse(outbox.payload) as {
      msgtype: string;
      image: { base64: string; md5: string };
    };
    const png = Buffer.from(image.base64, 'base64');
    expect(msgtype).toBe('image');
    expect(png.subarray(0, 8)).toEqual(PNG);
    expect(image.md5).toBe(createHash('md5').update(png).digest('hex'));
    expect(png.length).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(png.length).toBeGreaterThan(30_000);
    const [width, height] = size(png);
    expect(width).toBe(1000);
    expect(height).toBeGreaterThan(1200);

    // The picture sent is this SVG's: the labels are there, and much of it is not white.
    const grid = await coverageGrid(t.db, { id: t.campaignId, countyCode: '430923' }, '2026-11-29', t.clock.now());
    const svg = coverageChartSvg(grid, chartText(translator('zh-CN'), '安化县', grid, t.clock.now(), TZ));
    for (const word of [
      '安化县安责险参保率（按行业）',
      '非煤矿山',
      '目标 100%',
      '东坪镇',
      '古楼乡',
      '全县（未分乡镇）',
      '截至 2026-11-29 08:00',
    ])
      expect(svg).toContain(word);
    const { pixels, png: again } = await rasterise(svg, font, { pixels: true });
    expect(again.equals(png)).toBe(true);
    let ink = 0;
    for (let i = 0; i < pixels.length; i += 4)
      if (pixels[i]! < 200 || pixels[i + 1]! < 200 || pixels[i + 2]! < 200) ink++;
    expect(ink / (pixels.length / 4)).toBeGreaterThan(0.15);
  });

  it('goes to the member through the app where the chat has no robot, as a file on disk', async () => {
    await say('/覆盖率 chart', null);
    expect((await runJobs(t))[0]).toContain('已通过应用单独发给你');
    const outbox = await t.db.outboxMessage.findFirstOrThrow({
      where: { payload: { contains: '"msgtype":"image"' } },
      orderBy: { id: 'desc' },
    });
    const payload = JSON.parse(outbox.payload) as { touser: string; msgtype: string; image: { path: string } };
    expect([outbox.channel, payload.touser, payload.msgtype]).toEqual(['app', 'demo-leader', 'image']);
    expect(readFileSync(payload.image.path).subarray(0, 8)).toEqual(PNG);
  });
});

/** The PNG of the latest image message in the outbox, and where it went. */
async function latestImage(): Promise<{ channel: string; target: string; png: Buffer }> {
  const outbox = await t.db.outboxMessage.findFirstOrThrow({
    where: { payload: { contains: '"msgtype":"image"' } },
    orderBy: { id: 'desc' },
  });
  const { image } = JSON.parse(outbox.payload) as { image: { base64: string; md5: string } };
  const png = Buffer.from(image.base64, 'base64');
  expect(image.md5).toBe(createHash('md5').update(png).digest('hex'));
  return { channel: outbox.channel, target: outbox.target, png };
}

/** The share of a picture's pixels that are not near white. */
async function inkOf(svg: string): Promise<number> {
  const { pixels } = await rasterise(svg, font, { pixels: true });
  let ink = 0;
  for (let i = 0; i < pixels.length; i += 4)
    if (pixels[i]! < 200 || pixels[i + 1]! < 200 || pixels[i + 2]! < 200) ink++;
  return ink / (pixels.length / 4);
}

const campaign = { id: 0, countyCode: '430923', countyName: '安化县' };
const zh = () => ({ day: '2026-11-29', now: t.clock.now(), t: translator('zh-CN'), timeZone: TZ });

// Each week since 2021 is counted as /覆盖率 counts a day: more than the default time on a busy machine.
describe.skipIf(skip)('the trend and the ranking charts', { timeout: 180_000 }, () => {
  beforeAll(() => void (campaign.id = t.campaignId));

  it('/覆盖率 趋势 in a group: the high-risk sectors week by week since the campaign took effect, against the target and its date', async () => {
    expect((await say('/覆盖率 趋势', 'demo-chat-leaders')).text).toMatch(/^⏳ 正在生成…，完成后发到这里。/);
    const [text] = await runJobs(t);
    expect(text).toMatch(
      /^📈 参保率趋势图（八大高危行业合计，自 2021-09-01 起每周，对照目标线）\n已发到本群。\n文件：.*安责险参保率趋势-八大高危行业合计-2026-11-29-0800\.png\n⚠️ 含演示数据，仅供试用。$/,
    );
    const { channel, target, png } = await latestImage();
    expect([channel, target]).toEqual(['webhook', 'demo-webhook-leaders']);
    expect(size(png)).toEqual([1000, 640]);
    // The picture sent is this SVG's: the words a leader reads on it, and a line drawn.
    const svg = await trendChartSvg(t.db, campaign, { by: 'high_risk' }, { ...zh(), from: '2021-09-01' });
    expect((await rasterise(svg, font)).png.equals(png)).toBe(true);
    for (const word of [
      '安化县安责险参保率趋势 · 八大高危行业合计',
      '自 2021-09-01 起每周一点',
      '截至 2026-11-29 08:00',
      '目标 100%（2021-12-31 前）',
      '目标日期 2021-12-31',
      // The demo roster's history starts today: the weeks before count the earliest roster known.
      '注：2026-11-22 及以前各周名录历史尚未开始，按已知最早名录计算。',
      '2026-01',
    ])
      expect(svg).toContain(word);
    // The line ends at today's rate for the eight sectors, as /覆盖率 totals them.
    const reply = (await say('/覆盖率', null)).text;
    const today = /八大高危行业合计 \d+\/\d+ 家 (\d+\.\d%)/.exec(reply)![1]!;
    expect(svg).toContain(`>${today}<`);
    expect(await inkOf(svg)).toBeGreaterThan(0.02);
  });

  it('/覆盖率 趋势 东坪 and 危化: one township, one sector; an unknown name is answered at once and starts nothing', async () => {
    await say('/覆盖率 趋势 东坪', 'demo-chat-leaders');
    expect((await runJobs(t))[0]).toMatch(/^📈 参保率趋势图（东坪镇，自 2021-09-01 起每周，对照目标线）/);
    await say('/覆盖率 趋势 危化', 'demo-chat-leaders');
    expect((await runJobs(t))[0]).toMatch(/^📈 参保率趋势图（危险化学品，/);
    const jobs = await t.db.job.count();
    expect((await say('/覆盖率 趋势 火星', 'demo-chat-leaders')).text).toMatch(/^不认识“火星”。/);
    expect(await t.db.job.count()).toBe(jobs);
  });

  it('/排名 图: townships and lead departments ranked as /排名 ranks them, coloured bars, the target line', async () => {
    expect((await say('/排名 图', 'demo-chat-leaders')).text).toMatch(/^⏳ 正在生成…/);
    const [text] = await runJobs(t);
    expect(text).toMatch(
      /^🏅 通报排名图（乡镇、牵头部门参保率）。.*\n已发到本群。\n文件：.*安责险通报排名-2026-11-29-0800\.png/,
    );
    const { png } = await latestImage();
    const svg = await rankChartSvg(t.db, campaign, zh());
    expect((await rasterise(svg, font)).png.equals(png)).toBe(true);
    expect(size(png)[1]).toBeGreaterThan(1000);
    // Every ranked line of the text 通报, rank and name, is a bar label, in the same order.
    const reply = (await say('/排名', null)).text;
    const ranked = [...reply.matchAll(/^(?:🟢|🟡|🔴) (\d+)\. (\S+)  \d+\/\d+ 家 (\S+)/gmu)].slice(0, 30);
    let at = 0;
    for (const [, rank, name, rate] of ranked.filter(([, , n]) => /[镇乡局]$/.test(n!))) {
      const i = svg.indexOf(`>${rank}. ${name}<`, at);
      expect(i, `${rank}. ${name}`).toBeGreaterThan(-1);
      expect(svg).toContain(`>${rate}  `);
      at = i;
    }
    for (const word of [
      '安化县安责险通报：乡镇参保率排名',
      '牵头部门参保率排名（所牵头行业合计）',
      '目标 100%',
      '参保率来源：台账',
    ])
      expect(svg).toContain(word);
    expect(await inkOf(svg)).toBeGreaterThan(0.1);
  });

  it('/排名 with another word says what it takes and starts nothing', async () => {
    const jobs = await t.db.job.count();
    expect((await say('/排名 饼图', 'demo-chat-leaders')).text).toMatch(/^不认识“饼图”。.*\/排名 图/);
    expect(await t.db.job.count()).toBe(jobs);
  });
});

describe('without a CJK font', () => {
  it('says how to install one, and sends no picture', async () => {
    await expect(svgToPng(label('安化县'), null)).rejects.toThrow(UserError);
    const images = () => t.db.outboxMessage.count({ where: { payload: { contains: '"msgtype":"image"' } } });
    const before = await images();
    await say('/覆盖率 图', 'demo-chat-leaders');
    // A configured font file that is not there: no guess at another.
    const [text] = await runJobs(t, { cjkFont: '/nonexistent/font.ttc' });
    expect(text).toContain('sudo apt-get install fonts-noto-cjk');
    expect(text).toContain('BOT_CJK_FONT');
    expect(await images()).toBe(before);
  });
});
