import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Inbox } from '../../src/bot/inbox.ts';
import { JobRunner, STREAM_WINDOW_MS } from '../../src/bot/jobs.ts';
import { Registry } from '../../src/bot/registry.ts';
import { botLongConnection, streamPusher } from '../../src/channels/longconn-bot.ts';
import { findCjkFont } from '../../src/domain/raster.ts';
import { startService, type Service } from '../../src/service.ts';
import type { LongConnection } from '../../src/wecom/longconn.ts';
import { testConfig, testDb, TZ, type TestDb } from '../support/db.ts';
import { FAST_TUNING, FakeLongConnServer, TEST_BOT, type Seen } from '../support/fake-longconn.ts';
import { botTextMessage } from '../support/fake-wecom.ts';
import { expectCjkGlyphs } from '../support/glyphs.ts';

// A slow command asked over the AI bot's long connection: the reply is an unfinished stream frame
// under the message's req_id, and the job's result finishes it under the same req_id and stream
// id (the chart as msg_item), as the SDK's replyStream does; when WeCom no longer takes it there
// (the window passed, the connection changed, the service restarted) the result goes as the
// follow-up through the outbox. Either way once.

const font = findCjkFont();
const skip = !font && process.env.CI !== 'true';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const NOW = '2026-11-29T08:00:00+08:00';
const BOT = TEST_BOT;
const FAST = FAST_TUNING;

let t: TestDb;
let fake: FakeLongConnServer;
let url: string;
let registry: Registry;

interface StreamFrame {
  msgtype: string;
  stream: {
    id: string;
    finish: boolean;
    content: string;
    msg_item?: { msgtype: string; image: { base64: string; md5: string } }[];
  };
}
const streamOf = (s: Seen) => s.body as unknown as StreamFrame;

/** Pushes the leader's message in the leaders' group; its req_id and the first frame answering it. */
async function ask(msgid: string, text: string): Promise<{ reqId: string; first: StreamFrame }> {
  const reqId = fake.pushMessage(
    BOT.botId,
    botTextMessage({ msgid, userid: 'demo-leader', chatid: 'demo-chat-leaders', text }),
  );
  const frame = await fake.until(() => fake.frames('aibot_respond_msg', reqId)[0], `the reply to ${msgid}`);
  return { reqId, first: streamOf(frame) };
}

const images = () => t.db.outboxMessage.count({ where: { payload: { contains: '"msgtype":"image"' } } });

/** A picture in a finished frame, checked as WeCom takes it: JPG or PNG, md5 of its bytes, ≤ 10 MB. */
function pictureOf(frame: StreamFrame): Buffer {
  expect(frame.stream.msg_item).toHaveLength(1);
  const { msgtype, image } = frame.stream.msg_item![0]!;
  expect(msgtype).toBe('image');
  const png = Buffer.from(image.base64, 'base64');
  expect(png.subarray(0, 8)).toEqual(PNG);
  expect(image.md5).toBe(createHash('md5').update(png).digest('hex'));
  expect(png.length).toBeLessThanOrEqual(10 * 1024 * 1024);
  return png;
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  registry = await Registry.load();
  fake = new FakeLongConnServer({ [BOT.botId]: BOT.secret });
  url = await fake.start();
});

afterAll(async () => {
  await fake?.stop();
  await t?.close();
});

describe.skipIf(skip)('the service in websocket mode', { timeout: 120_000 }, () => {
  let service: Service;

  beforeAll(async () => {
    service = await startService({ ...testConfig(t), botLongConn: { ...BOT, url } }, t.clock, () => {});
    await fake.until(() => service.longConn!.state === 'subscribed', 'the connection');
  });
  afterAll(() => service?.close());

  it('answers /覆盖率 图 with an unfinished stream frame, then finishes it under the same req_id and stream id with the chart', async () => {
    t.clock.set(NOW);
    const before = await images();
    const { reqId, first } = await ask('ws-stream-1', '@安责险助手 /覆盖率 图');
    expect(first.msgtype).toBe('stream');
    expect(first.stream.finish).toBe(false);
    expect(first.stream.content).toMatch(/^⏳ 正在生成…，完成后发到这里。/);
    expect(first.stream).not.toHaveProperty('msg_item');

    // The service's own runner makes the chart and pushes the finishing frame.
    const last = await fake.until(() => fake.frames('aibot_respond_msg', reqId)[1], 'the finishing frame', 90_000);
    const done = streamOf(last);
    expect(done.stream.id).toBe(first.stream.id);
    expect(done.stream.finish).toBe(true);
    expect(done.stream.content).toMatch(/^📊 参保率图.*\n⚠️ 含演示数据，仅供试用。$/);
    const png = pictureOf(done);
    // Drawn with the CJK font: different words make different pictures, and not a blank one.
    await expectCjkGlyphs();
    expect(png.length).toBeGreaterThan(30_000);
    await fake.until(
      () => fake.acks.get(reqId) === 0 && fake.frames('aibot_respond_msg', reqId).length === 2,
      'the ack',
    );

    const job = await t.db.job.findFirstOrThrow({ where: { streamId: first.stream.id } });
    expect(job).toMatchObject({ kind: 'coverage', state: 'done', deliveredVia: 'stream', streamReqId: reqId });
    // Nothing through the outbox, and no later frame.
    await service.jobs.drain();
    expect(await images()).toBe(before);
    expect(fake.frames('aibot_respond_msg', reqId)).toHaveLength(2);
  });
});

describe.skipIf(skip)('a result the stream no longer takes', { timeout: 120_000 }, () => {
  const clients: LongConnection[] = [];
  const logs: string[] = [];
  let conn: LongConnection;

  /** The long connection as the service builds it, its stream pushes for the runners below. */
  beforeAll(async () => {
    const bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry });
    conn = botLongConnection({
      channel: { ...BOT, url },
      inbox: new Inbox({ db: t.db, bus, clock: t.clock }),
      log: (m) => logs.push(m),
      tuning: FAST,
      streams: true,
    });
    clients.push(conn);
    conn.start();
    await fake.until(() => conn.state === 'subscribed', 'the connection');
  });
  afterEach(() => t.clock.set(NOW));
  afterAll(async () => {
    for (const c of clients) await c.stop();
  });

  /** A runner (a process's) over the test database, pushing streams over `conn`; the texts it delivered. */
  const runner = (delivered: string[]) =>
    new JobRunner({
      db: t.db,
      registry,
      clock: t.clock,
      timeZone: TZ,
      databaseUrl: t.url,
      pushStream: streamPusher(conn),
      delivered: (text) => delivered.push(text),
      log: (m) => logs.push(m),
    });

  /** The job's result went as the follow-up, once: its picture queued in the outbox, no finishing frame. */
  async function followedUp(reqId: string, streamId: string, before: number, delivered: string[]) {
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatch(/^📊 参保率图.*\n已发到本群。/);
    expect(await images()).toBe(before + 1);
    expect(await t.db.job.findFirstOrThrow({ where: { streamId } })).toMatchObject({
      state: 'done',
      deliveredVia: 'outbox',
    });
    expect(fake.frames('aibot_respond_msg', reqId).filter((f) => streamOf(f).stream.finish)).toEqual([]);
    // Another pass (or process) sends nothing more.
    const again: string[] = [];
    await runner(again).drain();
    expect(again).toEqual([]);
    expect(await images()).toBe(before + 1);
  }

  it('past its window: the follow-up through the outbox', async () => {
    t.clock.set(NOW);
    const before = await images();
    const { reqId, first } = await ask('ws-late-1', '@安责险助手 /覆盖率 图');
    expect(first.stream.finish).toBe(false);
    t.clock.advance(STREAM_WINDOW_MS + 1000);
    const delivered: string[] = [];
    await runner(delivered).drain();
    await followedUp(reqId, first.stream.id, before, delivered);
    expect(fake.frames('aibot_respond_msg', reqId)).toHaveLength(1);
  });

  it('on another connection than the message’s: WeCom refuses the frame, and the result follows up', async () => {
    t.clock.set(NOW);
    const before = await images();
    const { reqId, first } = await ask('ws-moved-1', '@安责险助手 /覆盖率 图');
    expect(first.stream.finish).toBe(false);
    const old = fake.current(BOT.botId)!.id;
    fake.drop(BOT.botId);
    await fake.until(
      () => conn.state === 'subscribed' && (fake.current(BOT.botId)?.id ?? 0) > old,
      'the connection to come back',
    );
    const delivered: string[] = [];
    await runner(delivered).drain();
    // The finishing frame went out on the new connection, which knows no such req_id.
    const pushed = fake.frames('aibot_respond_msg', reqId);
    expect(pushed).toHaveLength(2);
    expect(pushed[1]!.conn).toBeGreaterThan(old);
    expect(streamOf(pushed[1]!).stream).toMatchObject({ id: first.stream.id, finish: true });
    expect(fake.acks.get(reqId)).toBe(40001);
    expect(logs.some((l) => l.includes('not given in its stream'))).toBe(true);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatch(/^📊 参保率图.*\n已发到本群。/);
    expect(await images()).toBe(before + 1);
    expect(await t.db.job.findFirstOrThrow({ where: { streamId: first.stream.id } })).toMatchObject({
      state: 'done',
      deliveredVia: 'outbox',
    });
    const again: string[] = [];
    await runner(again).drain();
    expect(again).toEqual([]);
    expect(await images()).toBe(before + 1);
  });

  it('after a restart within the window: the new process’s connection cannot finish the stream, so the result follows up at once', async () => {
    t.clock.set(NOW);
    const before = await images();
    const { reqId, first } = await ask('ws-restart-1', '@安责险助手 /覆盖率 图');
    expect(first.stream.finish).toBe(false);
    const delivered: string[] = [];
    const next = runner(delivered);
    await next.start();
    await next.drain();
    await next.close();
    await followedUp(reqId, first.stream.id, before, delivered);
    expect(fake.frames('aibot_respond_msg', reqId)).toHaveLength(1);
  });
});
