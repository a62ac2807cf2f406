// A stand-in for WeCom's AI bot long-connection server (wss://openws.work.weixin.qq.com) on
// loopback, speaking the protocol as the official @wecom/aibot-node-sdk expects it: subscribe with
// bot_id and secret, ping, message and event callbacks, respond and send frames acknowledged under
// their req_id, the kick of the older connection when a newer one subscribes as the same bot, and
// the chunked media upload (init, chunks, finish) whose media ids image and file sends must carry.
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { LongConnTuning } from '../../src/channels/longconn-bot.ts';

/** The AI bot the long-connection tests subscribe as. */
export const TEST_BOT = { botId: 'aibot-anhua', secret: 'bot-secret' };
/**
 * Fast reconnects, so that loss and kicks play out in a fraction of a second. Heartbeats stay at a
 * second (fast only where staleness is tested): the fake shares this process, and a busy event
 * loop must not pass for a dead socket.
 */
export const FAST_TUNING: LongConnTuning = {
  heartbeatMs: 1000,
  maxMissedHeartbeats: 2,
  ackTimeoutMs: 3000,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
};

interface Frame {
  cmd?: string;
  headers?: { req_id?: string };
  body?: Record<string, unknown>;
}

/** What our side wrote, as the fake saw it. */
export interface Seen {
  cmd: string;
  reqId: string;
  body: Record<string, unknown>;
  conn: number;
  /** The frame exactly as it arrived (parsed JSON): what a comparison of frame shapes reads. */
  frame: Record<string, unknown>;
}

/** An upload as the fake checked it: its init, its pieces as they came, and the assembled file. */
export interface Upload {
  uploadId: string;
  type: string;
  filename: string;
  totalSize: number;
  totalChunks: number;
  md5: string;
  /** Chunk indexes in the order they arrived (retries included). */
  order: number[];
  pieces: Map<number, Buffer>;
  /** Set by finish: the assembled file and the media id given for it. */
  file?: Buffer;
  mediaId?: string;
}

/** WeCom's piece limit before base64 (the SDK's CHUNK_SIZE). */
const CHUNK_BYTES = 512 * 1024;

interface Conn {
  id: number;
  ws: WebSocket;
  botId: string | null;
  /**
   * The callbacks pushed and not yet answered for good, by req_id: a stream reply may be refreshed
   * under the same req_id (and stream id) until one says finish; every other reply closes it.
   * The value is the stream id of the first stream reply, once there is one.
   */
  callbacks: Map<string, string | null>;
  /** The card events pushed, by req_id: the task_id of the card pressed, which only a card update may answer. */
  presses: Map<string, string>;
  /** The enter_chat events pushed, by req_id: only these take a welcome. */
  enters: Set<string>;
  stalled: boolean;
}

export class FakeLongConnServer {
  /** The errcode each of our frames was answered with, by req_id. */
  readonly acks = new Map<string, number>();
  /** Every frame our side sent, in order (pings included). */
  readonly seen: Seen[] = [];
  /** Connections in the order they were opened, and subscriptions as [connection, bot] pairs. */
  readonly connections: Conn[] = [];
  readonly subscriptions: { conn: number; botId: string; ok: boolean }[] = [];
  private server: WebSocketServer | null = null;
  private readonly holder = new Map<string, Conn>();
  private listeners: (() => void)[] = [];
  /** Uploads by upload_id, in the order they were begun. */
  readonly uploads = new Map<string, Upload>();
  /** Chunk frames still to be refused (errcode 50001 'system error'), as WeCom does under load. */
  failChunks = 0;

  constructor(private readonly bots: Record<string, string>) {}

  async start(): Promise<string> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    this.server = server;
    await new Promise<void>((r) => server.once('listening', () => r()));
    server.on('connection', (ws) => {
      const conn: Conn = {
        id: this.connections.length + 1,
        ws,
        botId: null,
        callbacks: new Map(),
        presses: new Map(),
        enters: new Set(),
        stalled: false,
      };
      this.connections.push(conn);
      ws.on('message', (data) => this.onFrame(conn, JSON.parse(data.toString()) as Frame));
      ws.on('close', () => {
        if (conn.botId && this.holder.get(conn.botId) === conn) this.holder.delete(conn.botId);
        this.changed();
      });
      this.changed();
    });
    return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** The connection holding a bot now, if any. */
  current(botId: string): Conn | undefined {
    return this.holder.get(botId);
  }

  /** Pushes a message callback to the bot's connection; returns its req_id. */
  pushMessage(botId: string, body: Record<string, unknown>): string {
    return this.push(botId, 'aibot_msg_callback', body);
  }

  pushEvent(botId: string, body: Record<string, unknown>): string {
    return this.push(botId, 'aibot_event_callback', body);
  }

  /** Network loss: the socket dies without a closing handshake. */
  drop(botId: string): void {
    this.need(botId).ws.terminate();
  }

  /** A half-open socket: this connection stays open but nothing on it is answered any more. */
  stall(botId: string): void {
    this.need(botId).stalled = true;
  }

  /** Frames of one command, optionally only those answering a req_id. */
  frames(cmd: string, reqId?: string): Seen[] {
    return this.seen.filter((s) => s.cmd === cmd && (reqId === undefined || s.reqId === reqId));
  }

  /** Waits until `probe` holds, checking whenever something happens (bounded by `ms`). */
  async until<T>(probe: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = probe();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`gave up waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(done, Math.min(left, 50));
        function done() {
          clearTimeout(t);
          r();
        }
        this.listeners.push(done);
      });
    }
  }

  private push(botId: string, cmd: string, body: Record<string, unknown>): string {
    const conn = this.need(botId);
    const reqId = randomUUID();
    conn.callbacks.set(reqId, null);
    const event = body.event as { eventtype?: string; template_card_event?: { task_id?: string } } | undefined;
    if (event?.eventtype === 'template_card_event') conn.presses.set(reqId, event.template_card_event?.task_id ?? '');
    if (event?.eventtype === 'enter_chat') conn.enters.add(reqId);
    conn.ws.send(JSON.stringify({ cmd, headers: { req_id: reqId }, body }));
    return reqId;
  }

  private need(botId: string): Conn {
    const c = this.holder.get(botId);
    if (!c) throw new Error(`no connection holds bot ${botId}`);
    return c;
  }

  private changed(): void {
    const l = this.listeners;
    this.listeners = [];
    for (const f of l) f();
  }

  private ack(conn: Conn, reqId: string, errcode = 0, errmsg = 'ok'): void {
    this.acks.set(reqId, errcode);
    conn.ws.send(JSON.stringify({ headers: { req_id: reqId }, errcode, errmsg }));
  }

  private onFrame(conn: Conn, f: Frame): void {
    const cmd = f.cmd ?? '';
    const reqId = f.headers?.req_id ?? '';
    this.seen.push({ cmd, reqId, body: f.body ?? {}, conn: conn.id, frame: f as Record<string, unknown> });
    this.changed();
    if (conn.stalled) return;
    if (!reqId) return void conn.ws.close(4000, 'frame without req_id');
    if (cmd === 'aibot_subscribe') {
      const botId = String(f.body?.bot_id ?? '');
      const ok = botId in this.bots && this.bots[botId] === f.body?.secret;
      this.subscriptions.push({ conn: conn.id, botId, ok });
      if (!ok) return this.ack(conn, reqId, 40001, 'invalid bot_id or secret');
      // One connection per bot: the older one is told, then closed.
      const older = this.holder.get(botId);
      if (older && older !== conn) {
        older.ws.send(
          JSON.stringify({
            cmd: 'aibot_event_callback',
            headers: { req_id: randomUUID() },
            body: {
              msgid: randomUUID(),
              create_time: 0,
              aibotid: botId,
              from: { userid: 'sys' },
              msgtype: 'event',
              event: { eventtype: 'disconnected_event' },
            },
          }),
        );
        older.ws.close(1000, 'replaced');
      }
      conn.botId = botId;
      this.holder.set(botId, conn);
      return this.ack(conn, reqId);
    }
    if (!conn.botId || this.holder.get(conn.botId) !== conn) return this.ack(conn, reqId, 40001, 'not subscribed');
    switch (cmd) {
      case 'ping':
        return this.ack(conn, reqId);
      case 'aibot_respond_msg':
        return this.respond(conn, reqId, f.body ?? {});
      case 'aibot_respond_welcome_msg':
        // Only the req_id of an enter_chat event takes a welcome, once.
        if (!conn.enters.has(reqId) || !conn.callbacks.delete(reqId))
          return this.ack(conn, reqId, 40001, 'invalid req_id');
        return this.ack(conn, reqId);
      case 'aibot_respond_update_msg': {
        // The whole card, of the pressed card's type and task_id (the SDK's updateTemplateCard).
        const b = f.body ?? {};
        const card = b.template_card as { card_type?: string; task_id?: string } | undefined;
        if (!conn.presses.has(reqId) || !conn.callbacks.delete(reqId))
          return this.ack(conn, reqId, 40001, 'invalid req_id');
        if (
          b.response_type !== 'update_template_card' ||
          card?.card_type !== 'button_interaction' ||
          card.task_id !== conn.presses.get(reqId)
        )
          return this.ack(conn, reqId, 40058, 'invalid template_card');
        return this.ack(conn, reqId);
      }
      case 'aibot_send_msg': {
        const b = f.body ?? {};
        if (typeof b.chatid !== 'string' || !b.chatid) return this.ack(conn, reqId, 40001, 'missing chatid');
        // Proactive sends take markdown, template cards, and media by an uploaded media id (text is refused, 40008).
        if (b.msgtype === 'image' || b.msgtype === 'file') {
          const mediaId = (b[b.msgtype] as { media_id?: unknown } | undefined)?.media_id;
          const known = [...this.uploads.values()].some((u) => u.mediaId === mediaId && u.type === b.msgtype);
          return known ? this.ack(conn, reqId) : this.ack(conn, reqId, 40007, 'invalid media_id');
        }
        if (b.msgtype !== 'markdown' && b.msgtype !== 'template_card')
          return this.ack(conn, reqId, 40008, 'invalid message type');
        return this.ack(conn, reqId);
      }
      case 'aibot_upload_media_init':
        return this.uploadInit(conn, reqId, f.body ?? {});
      case 'aibot_upload_media_chunk':
        return this.uploadChunk(conn, reqId, f.body ?? {});
      case 'aibot_upload_media_finish':
        return this.uploadFinish(conn, reqId, f.body ?? {});
      default:
        return this.ack(conn, reqId, 40001, `unknown cmd ${cmd}`);
    }
  }

  /**
   * A reply to a message callback (or an enter_chat event): a stream, refreshed under the same
   * req_id and stream id until a frame says finish (only that one may carry msg_item images, at
   * most ten, each base64 with the MD5 of its bytes), or any other reply, once.
   */
  private respond(conn: Conn, reqId: string, b: Record<string, unknown>): void {
    // A reply must carry the req_id of a callback pushed on this connection; a card event's takes only a card update.
    if (conn.presses.has(reqId)) return this.ack(conn, reqId, 846605, 'card event accepts only update');
    if (!conn.callbacks.has(reqId)) return this.ack(conn, reqId, 40001, 'invalid req_id');
    const stream = (b.msgtype === 'stream' || b.msgtype === 'stream_with_template_card') && b.stream;
    if (!stream) {
      conn.callbacks.delete(reqId);
      return this.ack(conn, reqId);
    }
    const s = stream as { id: string; finish?: unknown };
    const wrong = streamFault(b, conn.callbacks.get(reqId) ?? undefined);
    if (wrong) return this.ack(conn, reqId, 40001, wrong);
    if (s.finish === true) conn.callbacks.delete(reqId);
    else conn.callbacks.set(reqId, s.id);
    return this.ack(conn, reqId);
  }

  private answer(conn: Conn, reqId: string, body: Record<string, unknown>): void {
    this.acks.set(reqId, 0);
    conn.ws.send(JSON.stringify({ headers: { req_id: reqId }, errcode: 0, errmsg: 'ok', body }));
  }

  private uploadInit(conn: Conn, reqId: string, b: Record<string, unknown>): void {
    const { type, filename, total_size: size, total_chunks: chunks, md5 } = b;
    if (type !== 'image' && type !== 'file' && type !== 'voice' && type !== 'video')
      return this.ack(conn, reqId, 40004, 'invalid media type');
    if (typeof filename !== 'string' || !filename) return this.ack(conn, reqId, 40001, 'missing filename');
    if (
      typeof size !== 'number' ||
      typeof chunks !== 'number' ||
      typeof md5 !== 'string' ||
      !/^[0-9a-f]{32}$/.test(md5)
    )
      return this.ack(conn, reqId, 40001, 'invalid size, chunks or md5');
    if (chunks !== Math.ceil(size / CHUNK_BYTES) || chunks < 1 || chunks > 100)
      return this.ack(conn, reqId, 40001, 'total_chunks does not fit total_size');
    const uploadId = `upload-${this.uploads.size + 1}`;
    this.uploads.set(uploadId, {
      uploadId,
      type,
      filename,
      totalSize: size,
      totalChunks: chunks,
      md5,
      order: [],
      pieces: new Map(),
    });
    this.answer(conn, reqId, { upload_id: uploadId });
  }

  private uploadChunk(conn: Conn, reqId: string, b: Record<string, unknown>): void {
    const u = this.uploads.get(String(b.upload_id));
    if (!u || u.mediaId) return this.ack(conn, reqId, 40001, 'invalid upload_id');
    const index = b.chunk_index;
    if (typeof index !== 'number' || index < 0 || index >= u.totalChunks)
      return this.ack(conn, reqId, 40001, 'invalid chunk_index');
    if (typeof b.base64_data !== 'string') return this.ack(conn, reqId, 40001, 'missing base64_data');
    const piece = Buffer.from(b.base64_data, 'base64');
    if (piece.toString('base64') !== b.base64_data || piece.length > CHUNK_BYTES || piece.length === 0)
      return this.ack(conn, reqId, 40001, 'invalid base64_data');
    u.order.push(index);
    if (this.failChunks > 0) {
      this.failChunks--;
      return this.ack(conn, reqId, 50001, 'system error');
    }
    u.pieces.set(index, piece);
    this.ack(conn, reqId);
  }

  private uploadFinish(conn: Conn, reqId: string, b: Record<string, unknown>): void {
    const u = this.uploads.get(String(b.upload_id));
    if (!u || u.mediaId) return this.ack(conn, reqId, 40001, 'invalid upload_id');
    if (u.pieces.size !== u.totalChunks) return this.ack(conn, reqId, 40001, 'chunks missing');
    const file = Buffer.concat([...Array(u.totalChunks).keys()].map((i) => u.pieces.get(i)!));
    if (file.length !== u.totalSize || createHash('md5').update(file).digest('hex') !== u.md5)
      return this.ack(conn, reqId, 40001, 'md5 or size mismatch');
    u.file = file;
    u.mediaId = `media-${u.uploadId}`;
    this.answer(conn, reqId, { type: u.type, media_id: u.mediaId, created_at: '1764374400' });
  }
}

/** WeCom's largest picture in a stream (before base64), and how many a finished stream carries. */
const STREAM_IMAGE_BYTES = 10 * 1024 * 1024;
const STREAM_IMAGES = 10;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPG = Buffer.from([0xff, 0xd8, 0xff]);

/**
 * What is wrong with a respond frame's stream, as WeCom would refuse it: a stream id other than the
 * one its req_id's stream began with, msg_item on an unfinished frame, more than ten pictures, one
 * not JPG or PNG, over 10 MB, or whose md5 is not that of its bytes. Null when it is right.
 */
function streamFault(body: Record<string, unknown>, began: string | undefined): string | null {
  const stream = body.stream as { id?: unknown; finish?: unknown; msg_item?: unknown } | undefined;
  if (body.msgtype !== 'stream' && body.msgtype !== 'stream_with_template_card') return 'invalid message type';
  if (!stream || typeof stream.id !== 'string' || !stream.id) return 'missing stream.id';
  if (began !== undefined && stream.id !== began) return 'stream.id differs from the stream begun under this req_id';
  if (stream.msg_item === undefined) return null;
  if (stream.finish !== true) return 'msg_item only on a finished stream';
  const items = stream.msg_item as { msgtype?: unknown; image?: { base64?: unknown; md5?: unknown } }[];
  if (!Array.isArray(items) || items.length < 1 || items.length > STREAM_IMAGES) return 'msg_item: 1 to 10 items';
  for (const item of items) {
    if (item.msgtype !== 'image' || typeof item.image?.base64 !== 'string') return 'msg_item: image with base64';
    const bytes = Buffer.from(item.image.base64, 'base64');
    if (bytes.toString('base64') !== item.image.base64) return 'msg_item: invalid base64';
    if (bytes.length > STREAM_IMAGE_BYTES) return 'msg_item: image over 10 MB';
    if (!bytes.subarray(0, 8).equals(PNG) && !bytes.subarray(0, 3).equals(JPG)) return 'msg_item: not JPG or PNG';
    if (item.image.md5 !== createHash('md5').update(bytes).digest('hex')) return 'msg_item: md5 mismatch';
  }
  return null;
}
