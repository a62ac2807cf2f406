// The AI bot over its long connection: callbacks into the same inbox and bus as the callback
// route (/wecom/bot), replies as respond frames, and the outbox's 'longconn' sender.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { Inbox } from '../bot/inbox.ts';
import type { StreamPusher } from '../bot/jobs.ts';
import type { BotLongConnChannel } from '../config.ts';
import type { Sender } from '../delivery/dispatcher.ts';
import { fitBytes } from '../wecom/messages.ts';
import { CallbackRejected } from '../wecom/crypto.ts';
import { botCardUpdate } from '../wecom/cards.ts';
import { readBotMessage, type BotInbound } from '../wecom/inbound.ts';
import { RATE_LIMITS } from '../wecom/messages.ts';
import type { Tx } from '../db/client.ts';
import { longConnMediaIds } from '../domain/media-ids.ts';
import type { MediaIdStore } from '../core/outbound.ts';
import { MediaUploader } from '../wecom/longconn-media.ts';
import { wsAgent } from '../wecom/proxy.ts';
import { askReply, botTurn, pressAnswer, streamReply } from './ai-bot.ts';
import { responseUrlSender } from './bot-callback.ts';
import type { Channel, ChannelDeps } from './channel.ts';
import { CMD, LongConnection, type CallbackFrame, type LongConnOptions } from '../wecom/longconn.ts';

/** A welcome text holds 2048 bytes, like other text messages (a stream reply: STREAM_BYTES). */
const WELCOME_BYTES = 2048;

/**
 * The frames under one req_id, one at a time (as the SDK's reply queue sends them): a stream's
 * finishing frame waits for the ack of the frame that opened it.
 */
const lanes = new WeakMap<LongConnection, Map<string, Promise<unknown>>>();
function respondInTurn(conn: LongConnection, reqId: string, body: unknown, cmd?: string): Promise<unknown> {
  let lane = lanes.get(conn);
  if (!lane) lanes.set(conn, (lane = new Map()));
  const before = lane.get(reqId) ?? Promise.resolve();
  const sent = before.catch(() => undefined).then(() => conn.respond(reqId, body, cmd));
  const tail = sent.catch(() => undefined);
  lane.set(reqId, tail);
  void tail.then(() => lane.get(reqId) === tail && lane.delete(reqId));
  return sent;
}

/** A job's finished stream, pushed under the req_id of the message that asked for it. */
export const streamPusher =
  (conn: LongConnection): StreamPusher =>
  async (stream, answer) =>
    void (await respondInTurn(conn, stream.reqId, streamReply(stream.id, answer)));

export type LongConnTuning = Partial<
  Pick<
    LongConnOptions,
    | 'heartbeatMs'
    | 'maxMissedHeartbeats'
    | 'ackTimeoutMs'
    | 'backoffBaseMs'
    | 'backoffMaxMs'
    | 'random'
    | 'now'
    | 'agent'
  >
>;

/** The bot's long connection, answering what arrives on it through the inbox. Not yet started. */
export function botLongConnection(o: {
  channel: BotLongConnChannel;
  inbox: Inbox;
  log: (m: string) => void;
  tuning?: LongConnTuning;
  /** Whether a slow command's reply is left open for its job to finish (the runner has the pusher). */
  streams?: boolean;
}): LongConnection {
  const conn: LongConnection = new LongConnection({
    ...o.tuning,
    url: o.channel.url,
    botId: o.channel.botId,
    secret: o.channel.secret,
    log: o.log,
    onCallback: (frame) => void answer(conn, o.inbox, frame, o.log, o.streams ?? false),
  });
  return conn;
}

/**
 * As the callback route: text (also mixed, voice, quote) goes to the bus without the leading
 * @mention, and its reply (with its buttons) back as a finished stream under the callback's
 * req_id, or, for a slow command, an unfinished one its job finishes (streamPusher); entering the single chat gets /帮助 as the welcome; a button press runs its command and
 * answers through the event's response_url, updating the pressed card with its outcome. Each message is stored under its msgid first, so a
 * message WeCom pushes again (after a reconnect) gets the stored reply instead of running twice.
 * Images and feedback need no answer.
 */
async function answer(
  conn: LongConnection,
  inbox: Inbox,
  frame: CallbackFrame,
  log: (m: string) => void,
  streams: boolean,
): Promise<void> {
  let msg: BotInbound;
  try {
    msg = readBotMessage(JSON.stringify(frame.body));
  } catch (e) {
    if (!(e instanceof CallbackRejected)) throw e;
    log(`long connection: ${frame.cmd} refused: ${e.message}`);
    return;
  }
  const turn = botTurn(msg, { id: randomUUID(), reqId: frame.reqId });
  try {
    if (turn.kind !== 'ask') {
      if (turn.kind === 'press') {
        // A card event's req_id takes only a card update (aibot_respond_update_msg, within 5 s): the
        // pressed card with its outcome, once the press decided something in time. The answer goes
        // to the response_url.
        const closed = await pressAnswer(inbox, turn.message, log);
        if (closed) await conn.respond(frame.reqId, botCardUpdate(closed), CMD.respondUpdate);
      } else if (turn.kind === 'none' && turn.why) log(`long connection: ${turn.why}`);
      return;
    }
    const answer = await inbox.receive(turn.message);
    if (turn.welcome)
      await conn.respond(
        frame.reqId,
        { msgtype: 'text', text: { content: fitBytes(answer.reply, WELCOME_BYTES) } },
        CMD.respondWelcome,
      );
    else {
      // A message pushed again (after a reconnect) has a new req_id; its job's stream was the old
      // one's, so this reply is finished and the result comes as the follow-up.
      const stream = answer.stream;
      await respondInTurn(
        conn,
        frame.reqId,
        askReply(answer, stream?.id ?? randomUUID(), streams && stream?.reqId === frame.reqId),
      );
    }
  } catch (e) {
    log(`long connection: ${msg.dedupeKey} not answered: ${(e as Error).message}`);
  }
}

/**
 * Proactive messages (aibot_send_msg) to a chatid or userid, acknowledged by WeCom; a non-zero
 * errcode is thrown as a WeComError, so the dispatcher retries or gives up as for the API.
 */
export function longconnSender(conn: LongConnection, media: MediaUploader): Sender {
  return async (row) => {
    await conn.request(CMD.send, await withMediaId(JSON.parse(row.payload) as Record<string, unknown>, media));
    return 'sent';
  };
}

/**
 * An image or file message as the outbox stores it ({ path, name }) with the file uploaded over
 * the connection (or its kept media id, found by the file's path, size and time without reading
 * it) in their place; other messages as they are. A file gone from disk is a failure no retry will fix.
 */
async function withMediaId(payload: Record<string, unknown>, media: MediaUploader): Promise<Record<string, unknown>> {
  const type = payload.msgtype;
  const file = (type === 'image' || type === 'file') && (payload[type] as { path?: string; name?: string });
  if (!file || !file.path) return payload;
  return {
    ...payload,
    [type]: { media_id: await media.fileMediaId(type, file.path, file.name ?? basename(file.path)) },
  };
}

/**
 * The uploader of a connection's media, on the service's clock, keeping its media ids in the
 * database when given one (so they outlive a restart), else in memory.
 */
export const mediaUploader = (
  conn: LongConnection,
  now: () => number,
  o: { log?: (m: string) => void; db?: Tx; store?: MediaIdStore } = {},
): MediaUploader => {
  const store = o.store ?? (o.db ? longConnMediaIds(o.db) : undefined);
  return new MediaUploader({
    request: (cmd, body, reqId) => conn.request(cmd, body, reqId),
    now,
    ...(store ? { store } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
};

/**
 * The AI bot in long-connection mode: a WebSocket the bot holds to WeCom (no public URL needed),
 * held by the leader only (WeCom keeps one per bot and kicks the older). Its proactive sends wait
 * while it is not subscribed.
 */
export function botLongConn(deps: ChannelDeps): (Channel & { connection: LongConnection }) | null {
  const { config, clock, log, inbox } = deps;
  if (!config.botLongConn || !inbox) return null;
  const connection = botLongConnection({
    channel: config.botLongConn,
    inbox,
    streams: !!deps.streams,
    log: log('longconn'),
    tuning: {
      now: () => clock.now().getTime(),
      ...(config.proxy ? { agent: wsAgent(config.botLongConn.url, config.proxy) } : {}),
      ...deps.tuning,
    },
  });
  return {
    name: 'longconn',
    connection,
    pushStream: streamPusher(connection),
    senders: {
      longconn: longconnSender(
        connection,
        mediaUploader(connection, () => clock.now().getTime(), {
          log: log('longconn'),
          ...(deps.db ? { db: deps.db } : {}),
        }),
      ),
      response_url: responseUrlSender,
    },
    perMinute: { longconn: RATE_LIMITS.longconn },
    paused: () => connection.state !== 'subscribed',
    start: () => connection.start(),
    stop: () => connection.stop(),
    health: ({ role, downFor, maxDownMs }) => {
      const c = connection;
      const base = {
        state: c.state,
        since: new Date(c.since).toISOString(),
        reconnects: c.reconnects,
        lastSubscribedAt: c.lastSubscribedAt === null ? null : new Date(c.lastSubscribedAt).toISOString(),
      };
      if (role === 'follower' && (c.state === 'idle' || c.state === 'stopped'))
        return { state: { status: 'standby', ...base } };
      if (c.state === 'subscribed') return { state: { status: 'up', ...base } };
      const down = downFor(c.downSince ?? c.since);
      const state = { status: 'down' as const, ...base, downSeconds: Math.round(down / 1000) };
      return down >= maxDownMs
        ? { state, problem: `long connection ${c.state} for ${Math.round(down / 1000)} s` }
        : { state };
    },
  };
}
