import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import { JobRunner, STREAM_WINDOW_MS } from '../../src/bot/jobs.ts';
import { chartText, coverageChartSvg } from '../../src/domain/chart.ts';
import { coverageGrid } from '../../src/domain/coverage.ts';
import { findCjkFont, rasterise } from '../../src/domain/raster.ts';
import { translator } from '../../src/i18n.ts';
import type { Service } from '../../src/service.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';
import { botTextMessage, FakeWeComApi, WeComSender } from '../support/fake-wecom.ts';
import { BOT, wecomConfig } from '../support/service.ts';
import { startService } from '../../src/service.ts';
import { expectCjkGlyphs } from '../support/glyphs.ts';

// A slow command asked of the AI bot in callback mode (/wecom/bot), over real HTTP with the real
// crypto: the reply is an unfinished stream, WeCom's refresh callbacks are answered from the job
// (under way, then finished with the chart as the stream's msg_item), and a result the stream can
// no longer take, or cannot carry (a workbook), goes as the follow-up through the outbox. Either
// way once.

const font = findCjkFont();
const skip = !font && process.env.CI !== 'true';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const START = '2026-11-29T08:00:00+08:00';

let t: TestDb;
let service: Service;
let api: FakeWeComApi;
let bot: WeComSender;
const clock = fixedClock(START);

interface Stream {
  msgtype: string;
  stream: {
    id: string;
    finish: boolean;
    content: string;
    msg_item?: { msgtype: string; image: { base64: string; md5: string } }[];
  };
}

/** The leader asks in the leaders' group; WeCom's view of our (decrypted) answer. */
async function ask(msgid: string, text: string): Promise<Stream> {
  const res = await bot.postBot(botTextMessage({ msgid, userid: 'demo-leader', chatid: 'demo-chat-leaders', text }));
  expect(res.status).toBe(200);
  return bot.openBotReply(await res.json()) as Stream;
}

let refreshes = 0;
/** WeCom's stream refresh callback (doc 100719, 流式消息刷新); null when we answered nothing. */
async function refresh(streamId: string): Promise<Stream | null> {
  const res = await bot.postBot({
    msgid: `refresh-${++refreshes}`,
    aibotid: 'AIBOTID',
    chatid: 'demo-chat-leaders',
    chattype: 'group',
    from: { userid: 'demo-leader' },
    msgtype: 'stream',
    stream: { id: streamId },
  });
  expect(res.status).toBe(200);
  const body = await res.text();
  return body ? (bot.openBotReply(JSON.parse(body)) as Stream) : null;
}

/** The service's job runner as it runs (the service's own is stopped, so that the test says when jobs run); the texts it delivered. */
async function runJobs(): Promise<string[]> {
  const delivered: string[] = [];
  const runner = new JobRunner({
    db: service.db,
    registry: service.registry,
    clock,
    timeZone: TZ,
    databaseUrl: t.url,
    delivered: (text) => delivered.push(text),
  });
  await runner.drain();
  return delivered;
}

/** Messages the outbox holds with a picture, and texts naming the chart or the export. */
const outbox = async () => ({
  images: await service.db.outboxMessage.count({ where: { payload: { contains: '"msgtype":"image"' } } }),
  files: await service.db.outboxMessage.count({ where: { payload: { contains: '"msgtype":"file"' } } }),
  texts: await service.db.outboxMessage.count({ where: { payload: { contains: '参保率图' } } }),
});

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi('ww1436e0e65a779aee', 'app-secret');
  // A lease longer than the clock's jumps here, so the service keeps the lead (and its runner stays stopped).
  service = await startService({ ...wecomConfig(t, await api.start()), leaseSeconds: 86_400 }, clock, () => {});
  await service.jobs.close();
  bot = new WeComSender(service.url, '/wecom/bot', { ...BOT, receiveId: '' }, () => clock.now().getTime());
});

afterAll(async () => {
  await service?.close();
  await api?.stop();
  await t?.close();
});

describe.skipIf(skip)('a chart asked of the AI bot in callback mode', { timeout: 120_000 }, () => {
  it('is answered with an unfinished stream, refreshed as under way, then finished with the picture in place, once', async () => {
    clock.set(START);
    const before = await outbox();
    const first = await ask('stream-chart-1', '@安责险助手 /覆盖率 图');
    expect(first.msgtype).toBe('stream');
    expect(first.stream.finish).toBe(false);
    expect(first.stream.content).toMatch(/^⏳ 正在生成…，完成后发到这里。/);
    expect(first.stream).not.toHaveProperty('msg_item');
    const id = first.stream.id;
    const job = await service.db.job.findFirstOrThrow({ where: { streamId: id } });
    expect(job).toMatchObject({ kind: 'coverage', state: 'pending', streamReqId: null });
    expect(job.streamUntil!.getTime() - job.createdAt.getTime()).toBe(STREAM_WINDOW_MS);

    // WeCom asks while the job waits: still under way, in the same stream.
    const waiting = await refresh(id);
    expect(waiting!.stream).toEqual({ id, finish: false, content: '⏳ 正在生成…，完成后发到这里。' });

    // The job is made; its result waits for the stream and goes nowhere else.
    clock.set(new Date(clock.now().getTime() + 20_000));
    expect(await runJobs()).toEqual([]);
    expect(await service.db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ state: 'ready' });

    const done = await refresh(id);
    expect(done!.msgtype).toBe('stream');
    expect(done!.stream.id).toBe(id);
    expect(done!.stream.finish).toBe(true);
    expect(done!.stream.content).toMatch(/^📊 参保率图.*\n⚠️ 含演示数据，仅供试用。$/);
    expect(done!.stream.msg_item).toHaveLength(1);
    const { msgtype, image } = done!.stream.msg_item![0]!;
    expect(msgtype).toBe('image');
    const png = Buffer.from(image.base64, 'base64');
    expect(png.subarray(0, 8)).toEqual(PNG);
    expect(image.md5).toBe(createHash('md5').update(png).digest('hex'));
    expect(png.length).toBeLessThanOrEqual(10 * 1024 * 1024);

    // The picture is the chart with its Chinese labels drawn (the font has the glyphs: different
    // words make different pictures, and not a blank one).
    await expectCjkGlyphs();
    const grid = await coverageGrid(service.db, { id: t.campaignId, countyCode: '430923' }, '2026-11-29', clock.now());
    const svg = coverageChartSvg(grid, chartText(translator('zh-CN'), '安化县', grid, clock.now(), TZ));
    expect(svg).toContain('安化县安责险参保率（按行业）');
    expect((await rasterise(svg, font)).png.equals(png)).toBe(true);

    expect(await service.db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      state: 'done',
      deliveredVia: 'stream',
    });
    // A refresh after it (our answer lost on the way) gets the same; nothing goes through the outbox, then or later.
    expect(await refresh(id)).toEqual(done);
    clock.set(new Date(clock.now().getTime() + STREAM_WINDOW_MS));
    expect(await runJobs()).toEqual([]);
    expect(await outbox()).toEqual(before);
  });

  it('past the stream’s window, sends the result as the follow-up through the outbox, once, and finishes the stream saying so', async () => {
    clock.set(START);
    const before = await outbox();
    const { stream } = await ask('stream-chart-2', '@安责险助手 /覆盖率 图');
    expect(stream.finish).toBe(false);
    expect(await runJobs()).toEqual([]);

    // WeCom stops asking after 6 minutes; our window ends half a minute before. A refresh now does
    // not take the result (the runner is about to send it), nor does the runner twice.
    clock.set(new Date(new Date(START).getTime() + STREAM_WINDOW_MS + 1000));
    expect((await refresh(stream.id))!.stream.finish).toBe(false);
    const [text, ...more] = await runJobs();
    expect(more).toEqual([]);
    expect(text).toMatch(/^📊 参保率图.*\n已发到本群。/);
    expect(await service.db.job.findFirstOrThrow({ where: { streamId: stream.id } })).toMatchObject({
      state: 'done',
      deliveredVia: 'outbox',
    });
    expect(await outbox()).toEqual({ ...before, images: before.images + 1, texts: before.texts + 1 });

    const last = await refresh(stream.id);
    expect(last!.stream).toEqual({ id: stream.id, finish: true, content: '✅ 已完成，结果已另行发送。' });
    expect(await runJobs()).toEqual([]);
    expect(await outbox()).toEqual({ ...before, images: before.images + 1, texts: before.texts + 1 });
  });

  it('sends a workbook, which a stream cannot carry, as the follow-up at once; the stream then says so', async () => {
    clock.set(START);
    const before = await outbox();
    const { stream } = await ask('stream-export-1', '@安责险助手 /导出');
    expect(stream.finish).toBe(false);
    const [text] = await runJobs();
    expect(text).toContain('台账已导出');
    expect(await outbox()).toEqual({ ...before, files: before.files + 1 });
    expect((await refresh(stream.id))!.stream).toEqual({
      id: stream.id,
      finish: true,
      content: '✅ 已完成，结果已另行发送。',
    });
  });

  it('answers no refresh of a stream no job has', async () => {
    expect(await refresh('no-such-stream')).toBeNull();
  });
});
