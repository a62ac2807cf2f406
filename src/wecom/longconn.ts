// The AI bot's WebSocket long connection (doc 101463; frames as in the official
// @wecom/aibot-node-sdk): every frame is JSON `{ cmd, headers: { req_id }, body }`; WeCom answers
// each of ours with `{ headers: { req_id }, errcode, errmsg }` under the same req_id, and pushes
// `aibot_msg_callback` / `aibot_event_callback` frames whose req_id our reply must carry.
// This module is the wire only: connect, subscribe, heartbeats, reconnects, acks.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Agent } from 'node:http';
import type WebSocket from 'ws';
import { WeComError } from './api.ts';

export const CMD = {
  subscribe: 'aibot_subscribe',
  ping: 'ping',
  respond: 'aibot_respond_msg',
  respondWelcome: 'aibot_respond_welcome_msg',
  respondUpdate: 'aibot_respond_update_msg',
  send: 'aibot_send_msg',
  uploadInit: 'aibot_upload_media_init',
  uploadChunk: 'aibot_upload_media_chunk',
  uploadFinish: 'aibot_upload_media_finish',
  message: 'aibot_msg_callback',
  event: 'aibot_event_callback',
} as const;

/** What WeCom pushes: a message or an event, with the req_id that a reply to it must carry. */
export interface CallbackFrame {
  cmd: typeof CMD.message | typeof CMD.event;
  reqId: string;
  body: Record<string, unknown>;
}

export interface Frame {
  cmd?: string;
  headers?: { req_id?: string };
  body?: unknown;
  errcode?: number;
  errmsg?: string;
}

export type LongConnState = 'idle' | 'connecting' | 'subscribed' | 'waiting' | 'kicked' | 'stopped';

export interface LongConnOptions {
  url: string;
  botId: string;
  secret: string;
  /** Message and event callbacks (never the kick, which this class handles). */
  onCallback: (frame: CallbackFrame) => void;
  log: (m: string) => void;
  /** The SDK pings every 30 s. */
  heartbeatMs?: number;
  /** Heartbeats without any frame from WeCom before the socket is taken for dead and replaced. */
  maxMissedHeartbeats?: number;
  /** How long an ack (subscribe, respond, send) may take. */
  ackTimeoutMs?: number;
  /** Reconnect delays: base·2^n, capped, with jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  /** The time of state changes, for /readyz (the service's clock). */
  now?: () => number;
  /** How the socket reaches WeCom: through an HTTP proxy's CONNECT when one applies (src/wecom/proxy.ts). */
  agent?: Agent;
}

interface Pending {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One long connection for one bot. It reconnects by itself after network loss (exponential
 * backoff with jitter, without end), replaces a socket that stopped answering, and stops for good
 * when WeCom says a newer connection took the bot over (`disconnected_event`): two holders would
 * otherwise kick each other in a loop.
 */
export class LongConnection {
  private ws: WebSocket | null = null;
  private stateNow: LongConnState = 'idle';
  /** When the state last changed; with `state`, how long the connection has been down. */
  private stateAt: number;
  /** Connections made again after one was lost (not the first, not after stop or kick). */
  reconnects = 0;
  /** Since when the connection has been wanted but not subscribed (through reconnect attempts); null while up or stopped. */
  downSince: number | null = null;
  /** When WeCom last accepted our subscription; null before the first. */
  lastSubscribedAt: number | null = null;
  private attempts = 0;
  private missed = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly o: Required<Omit<LongConnOptions, 'agent'>> & Pick<LongConnOptions, 'agent'>;

  constructor(options: LongConnOptions) {
    this.o = {
      heartbeatMs: 30_000,
      maxMissedHeartbeats: 2,
      ackTimeoutMs: 10_000,
      backoffBaseMs: 1000,
      backoffMaxMs: 60_000,
      random: Math.random,
      now: Date.now,
      ...options,
    };
    this.stateAt = this.o.now();
  }

  get state(): LongConnState {
    return this.stateNow;
  }

  /** Since when the connection has been in its present state (ms since the epoch). */
  get since(): number {
    return this.stateAt;
  }

  private set(state: LongConnState): void {
    const now = this.o.now();
    if (state !== this.stateNow) this.stateAt = now;
    if (state === 'subscribed' || state === 'stopped' || state === 'idle') this.downSince = null;
    else this.downSince ??= now;
    this.stateNow = state;
  }

  start(): void {
    if (this.stateNow !== 'idle' && this.stateNow !== 'stopped' && this.stateNow !== 'kicked') return;
    this.attempts = 0;
    this.connect();
  }

  /** Closes the socket and cancels what waits on it; nothing reconnects afterwards. */
  async stop(): Promise<void> {
    this.drop('stopped', 'stopped');
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState !== ws.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'stopped');
        setTimeout(() => (ws.terminate(), resolve()), 1000).unref();
      });
    }
  }

  /** Sends a frame and waits for WeCom's ack; a non-zero errcode becomes a WeComError. */
  async request(cmd: string, body: unknown, reqId = `${cmd}_${randomUUID()}`): Promise<Frame> {
    const ws = this.ws;
    if (!ws || this.stateNow !== 'subscribed') throw new Error(`long connection not subscribed (${this.stateNow})`);
    if (this.pending.has(reqId)) throw new Error(`a frame for ${reqId} is already waiting for its ack`);
    return this.exchange(ws, { cmd, headers: { req_id: reqId }, body });
  }

  /** The reply to a callback: the same req_id, WeCom's ack awaited. */
  respond(reqId: string, body: unknown, cmd: string = CMD.respond): Promise<Frame> {
    return this.request(cmd, body, reqId);
  }

  private exchange(ws: WebSocket, frame: Frame & { headers: { req_id: string } }): Promise<Frame> {
    const reqId = frame.headers.req_id;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(new Error(`no ack for ${frame.cmd} within ${this.o.ackTimeoutMs} ms`));
      }, this.o.ackTimeoutMs);
      this.pending.set(reqId, { resolve, reject, timer });
      ws.send(JSON.stringify(frame), (e) => e && this.settle(reqId, e));
    }).then((ack) => {
      if (ack.errcode) throw new WeComError(ack.errcode, ack.errmsg ?? '');
      return ack;
    });
  }

  private settle(reqId: string, outcome: Frame | Error): void {
    const p = this.pending.get(reqId);
    if (!p) return;
    this.pending.delete(reqId);
    clearTimeout(p.timer);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  private connect(): void {
    this.set('connecting');
    // ws is loaded on the first connection, not with the service: most deployments use callbacks.
    const Socket = createRequire(import.meta.url)('ws') as typeof WebSocket;
    const ws = new Socket(this.o.url, {
      handshakeTimeout: this.o.ackTimeoutMs,
      ...(this.o.agent ? { agent: this.o.agent } : {}),
    });
    this.ws = ws;
    ws.on('open', () => {
      this.exchange(ws, {
        cmd: CMD.subscribe,
        headers: { req_id: `${CMD.subscribe}_${randomUUID()}` },
        body: { bot_id: this.o.botId, secret: this.o.secret },
      })
        .then(() => {
          if (this.ws !== ws) return;
          this.attempts = 0;
          this.missed = 0;
          this.set('subscribed');
          this.lastSubscribedAt = this.o.now();
          this.o.log(`long connection: subscribed as bot ${this.o.botId}`);
          this.heartbeat = setInterval(() => this.beat(ws), this.o.heartbeatMs);
        })
        .catch((e: Error) => {
          if (this.ws !== ws || this.stateNow !== 'connecting') return; // closed meanwhile: 'close' reconnects
          this.o.log(`long connection: subscribe failed: ${e.message}`);
          ws.terminate();
        });
    });
    ws.on('message', (data) => {
      if (this.ws !== ws) return;
      this.missed = 0; // any frame shows the socket is alive
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString()) as Frame;
      } catch {
        this.o.log('long connection: a frame that is not JSON was ignored');
        return;
      }
      this.onFrame(ws, frame);
    });
    ws.on('error', (e) => this.ws === ws && this.o.log(`long connection: ${e.message}`));
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.drop('waiting', `closed (${code})`);
      this.scheduleReconnect(`connection closed (${code})`);
    });
  }

  private onFrame(ws: WebSocket, frame: Frame): void {
    const reqId = frame.headers?.req_id ?? '';
    if (frame.cmd === CMD.message || frame.cmd === CMD.event) {
      const body = (frame.body ?? {}) as Record<string, unknown>;
      if (
        frame.cmd === CMD.event &&
        (body.event as { eventtype?: string } | undefined)?.eventtype === 'disconnected_event'
      ) {
        this.o.log(
          `long connection: WeCom handed bot ${this.o.botId} to a newer connection; this one stops and will not reconnect`,
        );
        this.drop('kicked', 'kicked by a newer connection');
        this.ws = null;
        ws.terminate();
        return;
      }
      this.o.onCallback({ cmd: frame.cmd, reqId, body });
      return;
    }
    this.settle(reqId, frame);
  }

  private beat(ws: WebSocket): void {
    if (this.ws !== ws) return;
    if (this.missed >= this.o.maxMissedHeartbeats) {
      this.o.log(`long connection: nothing from WeCom for ${this.missed} heartbeats; replacing the socket`);
      ws.terminate(); // 'close' follows and reconnects
      return;
    }
    this.missed++;
    // Its ack only needs to arrive; any frame resets the count.
    this.exchange(ws, { cmd: CMD.ping, headers: { req_id: `${CMD.ping}_${randomUUID()}` } }).catch(() => {});
  }

  /** Ends the current socket's timers and waiting acks. */
  private drop(state: LongConnState, why: string): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retry) clearTimeout(this.retry);
    this.heartbeat = this.retry = null;
    for (const reqId of [...this.pending.keys()]) this.settle(reqId, new Error(`long connection ${why}`));
    this.set(state);
  }

  private scheduleReconnect(why: string): void {
    const cap = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** this.attempts);
    const delay = Math.round(cap / 2 + (this.o.random() * cap) / 2); // "equal jitter": never zero, never in step with other clients
    this.attempts++;
    this.o.log(`long connection: ${why}; reconnecting in ${delay} ms (attempt ${this.attempts})`);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.stateNow !== 'waiting') return;
      this.reconnects++;
      this.connect();
    }, delay);
  }
}
