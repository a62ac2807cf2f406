import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendToAsker } from '../../src/bot/attachments.ts';
import { Bus } from '../../src/bot/bus.ts';
import { Inbox } from '../../src/bot/inbox.ts';
import { Registry } from '../../src/bot/registry.ts';
import { botLongConnection, longconnSender, mediaUploader } from '../../src/channels/longconn-bot.ts';
import { connectDatabase, type Db } from '../../src/db/client.ts';
import { purge } from '../../src/domain/retention.ts';
import { tell } from '../../src/delivery/audience.ts';
import { translator } from '../../src/i18n.ts';
import { instantAt } from '../../src/schedule/scheduler.ts';
import { startService, type Service } from '../../src/service.ts';
import type { LongConnection } from '../../src/wecom/longconn.ts';
import { MediaUploader, MEDIA_CHUNK_BYTES } from '../../src/wecom/longconn-media.ts';
import { wecomWire } from '../../src/wecom/messages.ts';
import { testConfig, testDb, TZ, type TestDb } from '../support/db.ts';
import { FakeLongConnServer } from '../support/fake-longconn.ts';
import { botTextMessage } from '../support/fake-wecom.ts';

// Pictures and files over the AI bot's long connection: the chunked upload as the fake server
// checks it, and a deployment with only the long connection delivering /覆盖率 图 and /导出 into
// the group they were asked in.

const BOT = { botId: 'aibot-media', secret: 'media-secret' };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let fake: FakeLongConnServer;
let url: string;

beforeAll(async () => {
  fake = new FakeLongConnServer({ [BOT.botId]: BOT.secret });
  url = await fake.start();
});
afterAll(() => fake?.stop());

/** The bot's long connection on a test database, subscribed to the fake. */
async function subscribed(t: TestDb): Promise<LongConnection> {
  const bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
  const conn = botLongConnection({
    channel: { ...BOT, url },
    inbox: new Inbox({ db: t.db, bus, clock: t.clock }),
    log: () => {},
    tuning: { ackTimeoutMs: 3000, backoffBaseMs: 20, backoffMaxMs: 200 },
  });
  conn.start();
  await fake.until(() => conn.state === 'subscribed', 'the client to subscribe');
  return conn;
}

describe('the upload', () => {
  let t: TestDb;
  let conn: LongConnection;
  let uploader: MediaUploader;

  beforeAll(async () => {
    t = await testDb({ demo: true });
    conn = await subscribed(t);
    uploader = new MediaUploader({
      request: (cmd, body, reqId) => conn.request(cmd, body, reqId),
      now: () => t.clock.now().getTime(),
      retryDelayMs: 1,
    });
  });
  afterEach(() => (fake.failChunks = 0));
  afterAll(async () => {
    await conn?.stop();
    await t?.close();
  });

  it('sends init, the pieces of 512 KB in order, and finish, as the SDK frames them; the file arrives whole', async () => {
    const data = randomBytes(2 * MEDIA_CHUNK_BYTES + 1234);
    const before = fake.seen.length;
    const mediaId = await uploader.mediaId('file', data, '台账.xlsx');
    const frames = fake.seen.slice(before);
    expect(frames.map((f) => f.cmd)).toEqual([
      'aibot_upload_media_init',
      'aibot_upload_media_chunk',
      'aibot_upload_media_chunk',
      'aibot_upload_media_chunk',
      'aibot_upload_media_finish',
    ]);
    expect(frames[0]!.body).toEqual({
      type: 'file',
      filename: '台账.xlsx',
      total_size: data.length,
      total_chunks: 3,
      md5: md5(data),
    });
    const upload = [...fake.uploads.values()].find((u) => u.mediaId === mediaId)!;
    expect(frames.slice(1, 4).map((f) => f.body)).toEqual(
      [0, 1, 2].map((i) => ({
        upload_id: upload.uploadId,
        chunk_index: i,
        base64_data: data.subarray(i * MEDIA_CHUNK_BYTES, (i + 1) * MEDIA_CHUNK_BYTES).toString('base64'),
      })),
    );
    expect(frames[4]!.body).toEqual({ upload_id: upload.uploadId });
    expect(frames.every((f) => f.reqId.startsWith(`${f.cmd}_`))).toBe(true);
    expect(upload.order).toEqual([0, 1, 2]);
    expect([...upload.pieces.values()].map((p) => p.length)).toEqual([MEDIA_CHUNK_BYTES, MEDIA_CHUNK_BYTES, 1234]);
    expect(md5(upload.file!)).toBe(md5(data));
  });

  it('keeps the media id of the same content for three days, then uploads again', async () => {
    const data = randomBytes(1000);
    const first = await uploader.mediaId('image', data, 'chart.png');
    const uploads = fake.uploads.size;
    t.clock.advance(47 * 3600_000);
    expect(await uploader.mediaId('image', data, 'chart.png')).toBe(first);
    expect(fake.uploads.size).toBe(uploads);
    // Other bytes, or the same as a file, are another upload.
    expect(await uploader.mediaId('file', data, 'chart.png')).not.toBe(first);
    t.clock.advance(25 * 3600_000); // 72 h after the first: WeCom has dropped it
    expect(await uploader.mediaId('image', data, 'chart.png')).not.toBe(first);
    expect(fake.uploads.size).toBe(uploads + 2);
  });

  it('tries a refused piece again, and gives up on it after three tries without finishing', async () => {
    const data = randomBytes(MEDIA_CHUNK_BYTES + 10);
    fake.failChunks = 1;
    const mediaId = await uploader.mediaId('file', data, 'a.bin');
    const upload = [...fake.uploads.values()].find((u) => u.mediaId === mediaId)!;
    expect(upload.order).toEqual([0, 0, 1]);
    expect(md5(upload.file!)).toBe(md5(data));

    fake.failChunks = 3;
    const finishes = fake.frames('aibot_upload_media_finish').length;
    await expect(uploader.mediaId('file', randomBytes(100), 'b.bin')).rejects.toThrow(
      /piece 0 not taken after 3 tries/,
    );
    expect(fake.frames('aibot_upload_media_finish')).toHaveLength(finishes);
  });

  it('refuses an empty file or one over 100 pieces before any frame', async () => {
    const before = fake.seen.length;
    await expect(uploader.mediaId('file', Buffer.alloc(0), 'empty')).rejects.toThrow(/1 B to 100 pieces/);
    await expect(uploader.mediaId('file', Buffer.alloc(100 * MEDIA_CHUNK_BYTES + 1), 'big')).rejects.toThrow(
      /100 pieces/,
    );
    expect(fake.seen.length).toBe(before);
  });

  it('sends a queued file message with the media id of its upload; a file gone from disk fails for good', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anze-media-'));
    try {
      const path = join(dir, 'x.xlsx');
      writeFileSync(path, randomBytes(3000));
      const send = (await import('../../src/channels/longconn-bot.ts')).longconnSender(
        conn,
        mediaUploader(conn, () => t.clock.now().getTime()),
      );
      const m = wecomWire.longconnMedia('chat-x', 'file', path, '台账.xlsx');
      expect(
        await send({ id: 1, channel: m.channel, target: m.target, payload: JSON.stringify(m.payload), attempts: 0 }),
      ).toBe('sent');
      const frame = fake.frames('aibot_send_msg').at(-1)!;
      const upload = [...fake.uploads.values()].at(-1)!;
      expect(frame.body).toEqual({ chatid: 'chat-x', msgtype: 'file', file: { media_id: upload.mediaId } });
      expect(upload.file).toEqual(readFileSync(path));
      rmSync(path);
      const gone = wecomWire.longconnMedia('chat-x', 'file', path, 'gone.xlsx');
      const failure = await send({
        id: 2,
        channel: gone.channel,
        target: gone.target,
        payload: JSON.stringify(gone.payload),
        attempts: 0,
      }).catch((e: unknown) => e);
      expect(wecomWire.permanent(failure)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('media ids kept in the database', () => {
  let t: TestDb;
  let conn: LongConnection;
  let dir: string;

  beforeAll(async () => {
    t = await testDb({ demo: true });
    conn = await subscribed(t);
    dir = mkdtempSync(join(tmpdir(), 'anze-media-'));
  });
  afterAll(async () => {
    await conn?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The longconn sender of a process whose uploader keeps its ids in this database client. */
  const senderOn = (db: Db) =>
    longconnSender(
      conn,
      mediaUploader(conn, () => t.clock.now().getTime(), { db }),
    );
  let row = 0;
  /** Sends the image at `path` to a group; the media id it went with, and whether it was uploaded for it. */
  async function send(sender: ReturnType<typeof senderOn>, path: string) {
    const m = wecomWire.longconnMedia('chat-kept', 'image', path, 'chart.png');
    const uploads = fake.uploads.size;
    expect(
      await sender({
        id: ++row,
        channel: m.channel,
        target: m.target,
        payload: JSON.stringify(m.payload),
        attempts: 0,
      }),
    ).toBe('sent');
    const frame = fake.frames('aibot_send_msg').at(-1)!;
    expect(frame.body.chatid).toBe('chat-kept');
    return { mediaId: (frame.body.image as { media_id: string }).media_id, uploaded: fake.uploads.size > uploads };
  }
  /** A file of several pieces, dated a whole second (kept exactly when set again). */
  const T = new Date('2026-12-01T08:00:00Z');
  function write(path: string, data: Buffer, mtime = T) {
    writeFileSync(path, data);
    utimesSync(path, mtime, mtime);
  }

  it('outlive a restart: a new process on the same database sends an uploaded file without uploading it again', async () => {
    const path = join(dir, 'chart.png');
    const data = randomBytes(MEDIA_CHUNK_BYTES + 5000);
    write(path, data);
    const first = await send(senderOn(t.db), path);
    expect(first.uploaded).toBe(true);
    const upload = [...fake.uploads.values()].find((u) => u.mediaId === first.mediaId)!;
    expect(md5(upload.file!)).toBe(md5(data));
    // One row by content (type, name, MD5), one by the file on disk; both until three days less an hour.
    const rows = await t.db.longConnMedia.findMany();
    expect(rows.map((r) => [r.mediaId, r.expiresAt.getTime() - t.clock.now().getTime()])).toEqual([
      [first.mediaId, 71 * 3600_000],
      [first.mediaId, 71 * 3600_000],
    ]);
    // Restarted: another client of the database, an uploader with nothing in memory.
    const again = await connectDatabase(t.url);
    try {
      expect(await send(senderOn(again), path)).toEqual({ mediaId: first.mediaId, uploaded: false });
    } finally {
      await again.$disconnect();
    }
  });

  it('find a file by its path, size and time without reading it; a touched file is read, and the same content is not uploaded twice', async () => {
    const path = join(dir, 'kept.png');
    write(path, randomBytes(4000));
    const sender = senderOn(t.db);
    const first = await send(sender, path);
    expect(first.uploaded).toBe(true);
    // Other bytes under the same path, size and time: the kept id, so the file was not read.
    const other = randomBytes(4000);
    write(path, other);
    expect(await send(sender, path)).toEqual({ mediaId: first.mediaId, uploaded: false });
    // Touched: read again, and these bytes are uploaded.
    write(path, other, new Date(T.getTime() + 1000));
    const touched = await send(sender, path);
    expect(touched.uploaded).toBe(true);
    expect(md5([...fake.uploads.values()].find((u) => u.mediaId === touched.mediaId)!.file!)).toBe(md5(other));
    // The same bytes in another file: found by content, not uploaded, and that file kept by its path from now on.
    const copy = join(dir, 'copy.png');
    write(copy, other);
    const keys = await t.db.longConnMedia.count();
    expect(await send(sender, copy)).toEqual({ mediaId: touched.mediaId, uploaded: false });
    expect(await t.db.longConnMedia.count()).toBe(keys + 1);
  });

  it('are not used past their time: uploaded again, the row replaced, and expired rows purged', async () => {
    const path = join(dir, 'old.png');
    write(path, randomBytes(3000));
    const sender = senderOn(t.db);
    const first = await send(sender, path);
    t.clock.advance(71 * 3600_000 - 1);
    expect(await send(sender, path)).toEqual({ mediaId: first.mediaId, uploaded: false });
    t.clock.advance(1);
    const second = await send(sender, path);
    expect(second.uploaded).toBe(true);
    expect(second.mediaId).not.toBe(first.mediaId);
    expect(await t.db.longConnMedia.count({ where: { mediaId: first.mediaId } })).toBe(0);
    expect(await t.db.longConnMedia.count({ where: { mediaId: second.mediaId } })).toBe(2);
    // The earlier tests' ids have expired by now too: purge deletes them and keeps the fresh ones.
    const r = await purge(t.db, t.clock);
    expect(r.mediaIds).toBeGreaterThan(0);
    expect((await t.db.longConnMedia.findMany()).map((x) => x.mediaId)).toEqual([second.mediaId, second.mediaId]);
  });
});

describe('a deployment with only the long connection', () => {
  let t: TestDb;
  let service: Service;

  beforeAll(async () => {
    t = await testDb({ demo: true });
    // No group has a robot, and no self-built app is configured.
    await t.db.groupChat.updateMany({ data: { webhookKey: null } });
    service = await startService(
      { ...testConfig(t, 'http://127.0.0.1:9'), botLongConn: { ...BOT, url }, leaseSeconds: 3600 },
      t.clock,
      () => {},
    );
    await fake.until(() => service.longConn?.state === 'subscribed', 'the service to subscribe', 20_000);
  });
  afterAll(async () => {
    await service?.close();
    await t?.close();
  });

  /** Asks in the leaders' group (or, with `single`, one to one); the reply's text. */
  async function ask(msgid: string, text: string, single = false): Promise<string> {
    const reqId = fake.pushMessage(
      BOT.botId,
      botTextMessage({ msgid, userid: 'demo-leader', text, ...(single ? {} : { chatid: 'demo-chat-leaders' }) }),
    );
    const frame = await fake.until(() => fake.frames('aibot_respond_msg', reqId)[0], `the reply to ${msgid}`);
    return (frame.body as { stream: { content: string } }).stream.content;
  }

  /** The job's messages sent: waits until the outbox holds none pending. */
  async function delivered(): Promise<void> {
    await service.jobs.drain();
    for (let i = 0; i < 200; i++) {
      await service.dispatcher.drain();
      const left = await t.db.outboxMessage.count({ where: { state: { in: ['pending', 'sending'] } } });
      if (!left) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the outbox did not empty');
  }

  it.each([
    ['/覆盖率 图', 'media-chart'],
    ['/覆盖率 趋势', 'media-trend'],
    ['/排名 图', 'media-rank'],
  ])(
    '%s: the chart arrives in the group in the reply itself, the stream finished with the picture',
    async (command, msgid) => {
      const images = () => fake.frames('aibot_send_msg').filter((f) => f.body.msgtype === 'image').length;
      const before = images();
      const reqId = fake.pushMessage(
        BOT.botId,
        botTextMessage({
          msgid,
          userid: 'demo-leader',
          text: `@安责险助手 ${command}`,
          chatid: 'demo-chat-leaders',
        }),
      );
      await fake.until(() => fake.frames('aibot_respond_msg', reqId)[0], 'the reply under way');
      await delivered();
      await fake.until(() => fake.frames('aibot_respond_msg', reqId)[1], 'the finished reply');
      const job = await t.db.job.findFirstOrThrow({ orderBy: { id: 'desc' } });
      const path = (JSON.parse(job.result!) as { attachment: { path: string } }).attachment.path;
      const frames = fake.frames('aibot_respond_msg', reqId).map((f) => f.body.stream as Record<string, unknown>);
      expect(frames.map((s) => s.finish)).toEqual([false, true]);
      expect(frames[0]!.content).toContain('正在生成');
      const [item] = frames[1]!.msg_item as { image: { base64: string } }[];
      expect(Buffer.from(item!.image.base64, 'base64')).toEqual(readFileSync(path));
      // Nothing beside it: no detour through a message of its own.
      expect(images()).toBe(before);
      expect(job.deliveredVia).toBe('stream');
    },
  );

  it('the weekly digest’s chart reaches the leaders’ group over the connection, drawn when sent', async () => {
    // The Monday digest plans its text and its chart for the leaders' group, which has no robot.
    const [run] = await service.scheduler.runAt(instantAt('2026-11-30', '09:00', TZ), { dryRun: true });
    const digest = run!.reminders.find((r) => r.rule === 'digest')!;
    expect(digest.messages.map((m) => `${m.channel} ${m.target}`)).toEqual([
      'longconn demo-chat-leaders',
      'longconn demo-chat-leaders',
    ]);
    const chart = digest.messages[1]!.payload.chart as { campaignId: number; day: string; kind: 'trend' };
    expect(chart).toEqual({ campaignId: t.campaignId, day: '2026-11-30', kind: 'trend' });
    // Queued as the run queues it, it is drawn, kept as a file, uploaded and sent as an image.
    const before = fake.frames('aibot_send_msg').length;
    const told = await tell(
      { db: t.db, reach: { longconn: true, wire: wecomWire }, countyCode: null },
      t.clock,
      'leaders',
      { chart },
    );
    expect(told.missed).toEqual([]);
    await delivered();
    const image = fake
      .frames('aibot_send_msg')
      .slice(before)
      .find((f) => f.body.chatid === 'demo-chat-leaders' && f.body.msgtype === 'image')!;
    expect(image, 'the chart in the group').toBeDefined();
    const mediaId = (image.body.image as { media_id: string }).media_id;
    const upload = [...fake.uploads.values()].find((u) => u.mediaId === mediaId)!;
    expect(upload.type).toBe('image');
    expect(upload.file!.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a'); // a PNG
    // The trend chart, kept under its own name.
    expect(upload.filename).toMatch(/^安责险参保率趋势.*\.png$/);
  });

  it('/导出: the workbook arrives in the group as a file', async () => {
    expect(await ask('media-export', '@安责险助手 /导出')).toContain('正在生成');
    await delivered();
    const job = await t.db.job.findFirstOrThrow({ where: { kind: 'export' }, orderBy: { id: 'desc' } });
    const { path, name } = (JSON.parse(job.result!) as { attachment: { path: string; name: string } }).attachment;
    const file = fake
      .frames('aibot_send_msg')
      .find((f) => f.body.chatid === 'demo-chat-leaders' && f.body.msgtype === 'file')!;
    expect(file, 'the workbook in the group').toBeDefined();
    const upload = [...fake.uploads.values()].find(
      (u) => u.mediaId === (file.body.file as { media_id: string }).media_id,
    )!;
    expect(upload).toMatchObject({ type: 'file', filename: name });
    expect(name).toMatch(/\.xlsx$/);
    expect(upload.file).toEqual(readFileSync(path));
  });

  it('/导出 one to one with the bot: the workbook and its text by the asker’s userid, not through the absent app', async () => {
    const before = fake.frames('aibot_send_msg').length;
    expect(await ask('media-export-single', '@安责险助手 /导出', true)).toContain('正在生成');
    await delivered();
    const sends = fake.frames('aibot_send_msg').slice(before);
    expect(sends.map((f) => `${f.body.chatid} ${f.body.msgtype}`)).toEqual([
      'demo-leader file',
      'demo-leader markdown',
    ]);
    expect((sends[1]!.body.markdown as { content: string }).content).toContain('已发到本会话');
    expect(await t.db.outboxMessage.count({ where: { channel: 'app' } })).toBe(0);
  });

  it("a file over WeCom's 20 MB is not queued; the reply says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anze-media-'));
    try {
      const path = join(dir, 'big.xlsx');
      writeFileSync(path, '');
      truncateSync(path, 20 * 1024 * 1024 + 1);
      const before = await t.db.outboxMessage.count();
      const t2 = translator('zh-CN');
      const lines = await sendToAsker(
        {
          t: t2,
          channel: 'bot',
          chatId: 'demo-chat-leaders',
          tell: (to, notice) =>
            tell(
              {
                db: t.db,
                reach: { longconn: true, wire: wecomWire },
                countyCode: null,
                asker: { userId: 'demo-leader', chatId: 'demo-chat-leaders' },
              },
              t.clock,
              to,
              notice,
            ),
        },
        { type: 'file', path, name: 'big.xlsx' },
      );
      expect(lines).toEqual([t2('attachment.too_large', { size: '20.0', limit: 20 })]);
      expect(lines[0]).toContain('超过企业微信单个文件 20 MB 的上限');
      expect(await t.db.outboxMessage.count()).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
