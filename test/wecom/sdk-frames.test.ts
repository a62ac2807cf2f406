import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WSClient, type Logger, type WsFrame } from '@wecom/aibot-node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Inbox } from '../../src/bot/inbox.ts';
import { Registry } from '../../src/bot/registry.ts';
import { botLongConnection, longconnSender, mediaUploader } from '../../src/channels/longconn-bot.ts';
import { buttonCard, botCardUpdate, botReply, closedCard } from '../../src/wecom/cards.ts';
import { CMD, LongConnection, type CallbackFrame } from '../../src/wecom/longconn.ts';
import { MEDIA_CHUNK_BYTES } from '../../src/wecom/longconn-media.ts';
import { longconnMarkdown, longconnMedia } from '../../src/wecom/messages.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';
import { FakeLongConnServer, type Seen } from '../support/fake-longconn.ts';
import { botTextMessage } from '../support/fake-wecom.ts';

// Our long-connection client speaks exactly the frames of the official @wecom/aibot-node-sdk
// 1.0.7: the SDK itself (a dev dependency) runs against the fake server, which records every frame
// it receives; then our client does the same things, and each kind of frame must have the same
// shape on both sides: the same cmd, the same header keys, the same body keys with values of the
// same types, recursively (ids, req_ids, contents and timestamps differ).

const SDK_BOT = { botId: 'aibot-sdk', secret: 'sdk-secret' };
const OUR_WIRE = { botId: 'aibot-ours', secret: 'ours-secret' };
const OUR_BOT = { botId: 'aibot-ours-bot', secret: 'ours-bot-secret' };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
/** Bytes that start as a PNG does, more than one 512 KB piece. */
const png = (bytes: number) => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(bytes - 8)]);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The shape of a JSON value: objects by their sorted keys, arrays by the distinct shapes of their items, the rest by type. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return [...new Set(v.map((x) => JSON.stringify(shape(x))))].sort().map((s) => JSON.parse(s));
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  return v === null ? 'null' : typeof v;
}

/** What a frame is, for pairing ours with the SDK's: its cmd, and for messages their msgtype and whether the stream is finished. */
function kind(s: Seen): string {
  const b = s.body as { msgtype?: string; stream?: { finish?: boolean; msg_item?: unknown } };
  if (s.cmd === CMD.respond)
    return `${s.cmd} ${b.msgtype} finish=${b.stream?.finish}${b.stream?.msg_item ? ' +msg_item' : ''}`;
  if (s.cmd === CMD.send || s.cmd === CMD.respondWelcome) return `${s.cmd} ${b.msgtype}`;
  return s.cmd;
}

/** Each kind of frame on the given connections, with the distinct shapes it had. */
function shapes(frames: readonly Seen[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const f of frames) (out[kind(f)] ??= new Set()).add(JSON.stringify(shape(f.frame)));
  return Object.fromEntries(
    Object.entries(out)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, [...v].sort()]),
  );
}

/** Every kind of frame both sides are made to send below. */
const KINDS = [
  'aibot_respond_msg stream finish=false',
  'aibot_respond_msg stream finish=true',
  'aibot_respond_msg stream finish=true +msg_item',
  'aibot_respond_msg stream_with_template_card finish=true',
  'aibot_respond_update_msg',
  'aibot_respond_welcome_msg text',
  'aibot_send_msg file',
  'aibot_send_msg image',
  'aibot_send_msg markdown',
  'aibot_subscribe',
  'aibot_upload_media_chunk',
  'aibot_upload_media_finish',
  'aibot_upload_media_init',
  'ping',
].sort();

const pressEvent = (msgid: string, taskId: string) => ({
  msgid,
  create_time: 1,
  aibotid: 'AIBOTID',
  chattype: 'group',
  chatid: 'chat-sdk',
  from: { userid: 'demo-leader' },
  response_url: 'https://example.invalid/response',
  msgtype: 'event',
  event: {
    eventtype: 'template_card_event',
    template_card_event: { card_type: 'button_interaction', event_key: 'cmd:/执行', task_id: taskId },
  },
});
const enterEvent = (msgid: string, userid: string) => ({
  msgid,
  create_time: 1,
  aibotid: 'AIBOTID',
  from: { userid },
  msgtype: 'event',
  event: { eventtype: 'enter_chat' },
});

/** A card as ours puts beside a preview (a primary button and a plain one), for the SDK to send. */
const card = buttonCard(
  '请确认',
  [
    { label: '执行', command: '/执行', style: 'primary' },
    { label: '取消', command: '/取消' },
  ],
  'task1',
)!;
const closed = {
  taskId: 'task1',
  title: '请确认',
  lines: ['✅ 已执行（演示·县领导，2026-12-03 10:00）'],
  open: [],
  all: [{ label: '执行', command: '/执行' }],
  done: '已处理',
};

let fake: FakeLongConnServer;
let url: string;
let dir: string;
/** The frames each side sent, recorded by the fake server (by the connections each side opened). */
let sdkFrames: Seen[];
let ourFrames: Seen[];
/** Files both sides upload: an image and a workbook of several pieces each. */
const image = png(MEDIA_CHUNK_BYTES + 70_000);
const workbook = randomBytes(2 * MEDIA_CHUNK_BYTES + 1234);
const small = png(2000);

beforeAll(async () => {
  fake = new FakeLongConnServer({
    [SDK_BOT.botId]: SDK_BOT.secret,
    [OUR_WIRE.botId]: OUR_WIRE.secret,
    [OUR_BOT.botId]: OUR_BOT.secret,
  });
  url = await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'anze-sdk-'));
});
afterAll(async () => {
  await fake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the official SDK against the fake server', () => {
  let sdk: WSClient;
  const callbacks: WsFrame[] = [];

  beforeAll(async () => {
    sdk = new WSClient({
      ...SDK_BOT,
      wsUrl: url,
      heartbeatInterval: 200,
      maxReconnectAttempts: 0,
      logger: quiet,
    });
    sdk.on('message', (f) => void callbacks.push(f));
    sdk.on('event', (f) => void callbacks.push(f));
    const authenticated = new Promise<void>((r) => sdk.once('authenticated', () => r()));
    sdk.connect();
    await authenticated;
  });
  afterAll(() => sdk?.disconnect());

  const received = (reqId: string) =>
    fake.until(() => callbacks.find((f) => f.headers.req_id === reqId), `the SDK to receive ${reqId}`);

  it('subscribes, beats, replies, welcomes, updates a card, sends and uploads; the fake takes every frame', async () => {
    const conn = fake.current(SDK_BOT.botId)!.id;
    await fake.until(() => fake.seen.some((s) => s.conn === conn && s.cmd === 'ping'), 'an SDK heartbeat');

    // A stream: "正在生成…", then the finished text with an image; another finished plainly; one with a card.
    const ask = await received(
      fake.pushMessage(SDK_BOT.botId, botTextMessage({ msgid: 's1', userid: 'u', text: 'x' })),
    );
    await sdk.replyStream(ask, 'stream-s1', '正在生成…', false);
    await sdk.replyStream(ask, 'stream-s1', '覆盖率图', true, [
      { msgtype: 'image', image: { base64: small.toString('base64'), md5: md5(small) } },
    ]);
    const plain = await received(
      fake.pushMessage(SDK_BOT.botId, botTextMessage({ msgid: 's2', userid: 'u', text: 'y' })),
    );
    await sdk.replyStream(plain, 'stream-s2', '完成', true);
    const withCard = await received(
      fake.pushMessage(SDK_BOT.botId, botTextMessage({ msgid: 's3', userid: 'u', text: 'z' })),
    );
    await sdk.replyStreamWithCard(withCard, 'stream-s3', '请确认', true, { templateCard: card as never });

    const enter = await received(fake.pushEvent(SDK_BOT.botId, enterEvent('s4', 'u')));
    await sdk.replyWelcome(enter, { msgtype: 'text', text: { content: '欢迎' } });

    const press = await received(fake.pushEvent(SDK_BOT.botId, pressEvent('s5', 'task1')));
    await sdk.updateTemplateCard(press, closedCard(closed) as never);

    await sdk.sendMessage('chat-sdk', { msgtype: 'markdown', markdown: { content: '提醒' } });
    const img = await sdk.uploadMedia(image, { type: 'image', filename: 'chart.png' });
    await sdk.sendMediaMessage('chat-sdk', 'image', img.media_id);
    const file = await sdk.uploadMedia(workbook, { type: 'file', filename: '台账.xlsx' });
    await sdk.sendMediaMessage('chat-sdk', 'file', file.media_id);

    sdkFrames = fake.seen.filter((s) => s.conn === conn);
    expect(sdkFrames.map((f) => [f.cmd, fake.acks.get(f.reqId)]).filter(([, errcode]) => errcode !== 0)).toEqual([]);
    expect(Object.keys(shapes(sdkFrames))).toEqual(KINDS);
    // Several pieces each, assembled whole by the fake.
    for (const [data, mediaId] of [
      [image, img.media_id],
      [workbook, file.media_id],
    ] as const) {
      const upload = [...fake.uploads.values()].find((u) => u.mediaId === mediaId)!;
      expect(upload.totalChunks).toBeGreaterThan(1);
      expect(md5(upload.file!)).toBe(md5(data));
    }
  });
});

describe('our client, the same', () => {
  let t: TestDb;
  let wire: LongConnection;
  let bot: LongConnection;
  const callbacks: CallbackFrame[] = [];

  beforeAll(async () => {
    t = await testDb({ demo: true });
    const tuning = { heartbeatMs: 200, maxMissedHeartbeats: 50, ackTimeoutMs: 5000 };
    // The wire alone, driven here as the channel drives it; and the channel's own connection answering through the inbox.
    wire = new LongConnection({
      ...OUR_WIRE,
      ...tuning,
      url,
      log: () => {},
      onCallback: (f) => void callbacks.push(f),
    });
    const bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
    bot = botLongConnection({
      channel: { ...OUR_BOT, url },
      inbox: new Inbox({ db: t.db, bus, clock: t.clock }),
      log: () => {},
      tuning,
    });
    wire.start();
    bot.start();
    await fake.until(() => wire.state === 'subscribed' && bot.state === 'subscribed', 'our clients to subscribe');
  });
  afterAll(async () => {
    await wire?.stop();
    await bot?.stop();
    await t?.close();
  });

  const received = (reqId: string) =>
    fake.until(() => callbacks.find((f) => f.reqId === reqId), `our client to receive ${reqId}`);

  it('sends the same frames', async () => {
    const wireConn = fake.current(OUR_WIRE.botId)!.id;
    const botConn = fake.current(OUR_BOT.botId)!.id;
    await fake.until(() => fake.seen.some((s) => s.conn === wireConn && s.cmd === 'ping'), 'our heartbeat');

    const ask = await received(
      fake.pushMessage(OUR_WIRE.botId, botTextMessage({ msgid: 'o1', userid: 'u', text: 'x' })),
    );
    await wire.respond(ask.reqId, botReply('stream-o1', '正在生成…', undefined, undefined, { finish: false }));
    await wire.respond(ask.reqId, botReply('stream-o1', '覆盖率图', undefined, undefined, { images: [small] }));
    // A plain finished stream and one with a card, answered by the channel itself through the inbox.
    const plain = fake.pushMessage(
      OUR_BOT.botId,
      botTextMessage({ msgid: 'o2', userid: 'demo-leader', text: '/我是谁', chatid: 'demo-chat-leaders' }),
    );
    await fake.until(() => fake.frames(CMD.respond, plain)[0], 'the reply to /我是谁');
    const withCard = fake.pushMessage(
      OUR_BOT.botId,
      botTextMessage({ msgid: 'o3', userid: 'demo-admin', text: '/交办 全部乡镇 自查 下周五' }),
    );
    const cardFrame = await fake.until(() => fake.frames(CMD.respond, withCard)[0], 'the preview with its buttons');
    expect(cardFrame.body.msgtype).toBe('stream_with_template_card');
    const enter = fake.pushEvent(OUR_BOT.botId, enterEvent('o4', 'demo-liaison-jtj'));
    await fake.until(() => fake.frames(CMD.respondWelcome, enter)[0], 'the welcome');

    const press = await received(fake.pushEvent(OUR_WIRE.botId, pressEvent('o5', 'task1')));
    await wire.respond(press.reqId, botCardUpdate(closed), CMD.respondUpdate);

    const send = longconnSender(
      wire,
      mediaUploader(wire, () => t.clock.now().getTime()),
    );
    const imagePath = join(dir, 'chart.png');
    const bookPath = join(dir, 'book.xlsx');
    writeFileSync(imagePath, image);
    writeFileSync(bookPath, workbook);
    let id = 0;
    for (const m of [
      longconnMarkdown('chat-ours', '提醒'),
      longconnMedia('chat-ours', 'image', imagePath, 'chart.png'),
      longconnMedia('chat-ours', 'file', bookPath, '台账.xlsx'),
    ])
      expect(
        await send({ id: ++id, channel: m.channel, target: m.target, payload: JSON.stringify(m.payload), attempts: 0 }),
      ).toBe('sent');

    ourFrames = fake.seen.filter((s) => s.conn === wireConn || s.conn === botConn);
    expect(ourFrames.map((f) => [f.cmd, fake.acks.get(f.reqId)]).filter(([, errcode]) => errcode !== 0)).toEqual([]);
    expect(Object.keys(shapes(ourFrames))).toEqual(KINDS);
  });

  it('the fake refuses what WeCom refuses: images with a wrong MD5 or on an unfinished stream, another stream id, a frame after the finished one', async () => {
    const ask = await received(
      fake.pushMessage(OUR_WIRE.botId, botTextMessage({ msgid: 'o6', userid: 'u', text: 'x' })),
    );
    const item = (md: string) => ({ msgtype: 'image', image: { base64: small.toString('base64'), md5: md } });
    const stream = (finish: boolean, msgItem: unknown[]) => ({
      msgtype: 'stream',
      stream: { id: 'stream-o6', finish, content: 'x', msg_item: msgItem },
    });
    await expect(wire.respond(ask.reqId, stream(true, [item(md5(Buffer.from('other')))]))).rejects.toThrow(
      /msg_item: md5 mismatch/,
    );
    await expect(wire.respond(ask.reqId, stream(false, [item(md5(small))]))).rejects.toThrow(
      /msg_item only on a finished stream/,
    );
    await wire.respond(ask.reqId, botReply('stream-o6', '正在生成…', undefined, undefined, { finish: false }));
    await expect(wire.respond(ask.reqId, botReply('stream-other', 'x'))).rejects.toThrow(/stream.id differs/);
    await wire.respond(ask.reqId, botReply('stream-o6', '完成'));
    await expect(wire.respond(ask.reqId, botReply('stream-o6', '再来'))).rejects.toThrow(/invalid req_id/);
    // Ours never builds the refused ones.
    expect(() => botReply('s', 'x', undefined, undefined, { finish: false, images: [small] })).toThrow(RangeError);
    expect(() => botReply('s', 'x', undefined, undefined, { images: Array(11).fill(small) })).toThrow(RangeError);
  });

  it('each kind of frame has the shape the SDK gives it: cmd, header keys, body keys and value types', () => {
    expect(sdkFrames, 'the SDK’s frames were recorded').toBeDefined();
    expect(ourFrames, 'ours were recorded').toBeDefined();
    const sdk = shapes(sdkFrames);
    const ours = shapes(ourFrames);
    for (const k of KINDS) expect(ours[k], k).toEqual(sdk[k]);
    // Not equal by being empty: a stream frame's shape as both sides send it.
    expect(JSON.parse(sdk['aibot_respond_msg stream finish=true +msg_item']![0]!)).toEqual({
      cmd: 'string',
      headers: { req_id: 'string' },
      body: {
        msgtype: 'string',
        stream: {
          id: 'string',
          finish: 'boolean',
          content: 'string',
          msg_item: [{ msgtype: 'string', image: { base64: 'string', md5: 'string' } }],
        },
      },
    });
  });
});
