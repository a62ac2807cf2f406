// A stand-in for WeCom's AI bot long-connection server (wss://openws.work.weixin.qq.com) on
// loopback, speaking the protocol as the official @wecom/aibot-node-sdk expects it: subscribe with
// bot_id and secret, ping, message and event callbacks, respond and send frames acknowledged under
// their req_id, and the kick of the older connection when a newer one subscribes as the same bot.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

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
}

interface Conn {
  id: number;
  ws: WebSocket;
  botId: string | null;
  callbacks: Set<string>;
  /** The card events pushed, by req_id: the task_id of the card pressed, which only a card update may answer. */
  presses: Map<string, string>;
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
        callbacks: new Set(),
        presses: new Map(),
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
    conn.callbacks.add(reqId);
    const event = body.event as { eventtype?: string; template_card_event?: { task_id?: string } } | undefined;
    if (event?.eventtype === 'template_card_event') conn.presses.set(reqId, event.template_card_event?.task_id ?? '');
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
    this.seen.push({ cmd, reqId, body: f.body ?? {}, conn: conn.id });
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
      case 'aibot_respond_welcome_msg':
        // A reply must carry the req_id of a callback pushed on this connection; a card event's takes only a card update.
        if (conn.presses.has(reqId)) return this.ack(conn, reqId, 846605, 'card event accepts only update');
        return conn.callbacks.delete(reqId) ? this.ack(conn, reqId) : this.ack(conn, reqId, 40001, 'invalid req_id');
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
        // Proactive sends take markdown or template cards only (text is refused, 40008).
        if (b.msgtype !== 'markdown' && b.msgtype !== 'template_card')
          return this.ack(conn, reqId, 40008, 'invalid message type');
        return this.ack(conn, reqId);
      }
      default:
        return this.ack(conn, reqId, 40001, `unknown cmd ${cmd}`);
    }
  }
}
