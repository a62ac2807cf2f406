import { randomBytes, randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../clock.ts';
import type { Inbox } from '../bot/inbox.ts';
import { CallbackRejected, WeComCipher } from '../wecom/crypto.ts';
import type { JobStreams } from '../bot/jobs.ts';
import { botCardUpdate, commandOfKey } from '../wecom/cards.ts';
import { openAppEnvelope, openBotEnvelope, sealBotReply } from '../wecom/envelope.ts';
import { readAppMessage, readBotMessage } from '../wecom/inbound.ts';
import { askReply, botTurn, pressAnswer, streamReply } from './ai-bot.ts';
import type { ChannelDeps } from './channel.ts';
import { BodyTooLarge, readBody } from '../http/body.ts';

/** WeCom's callbacks are small; anything larger is refused before it is read. */
const BODY_LIMIT = 64 * 1024;

export interface CallbackOptions {
  inbox: Inbox;
  /** The jobs' streams, which WeCom's refresh callbacks ask for. */
  streams?: Pick<JobStreams, 'refresh'> | undefined;
  clock: Clock;
  /** Seconds a callback's timestamp may differ from now; 0 turns the check off. */
  maxSkewSeconds: number;
  bot?: { token: string; encodingAesKey: string };
  app?: { token: string; encodingAesKey: string; corpId: string };
  log: (m: string) => void;
  /** Told of each callback refused by its checks (for the metrics). */
  onRefused?: (channel: 'bot' | 'app') => void;
}

interface Signed {
  signature: string;
  timestamp: string;
  nonce: string;
}

/** Query values as WeCom signs them: a '+' that a proxy left unencoded must not become a space. */
function query(ctx: Context, name: string): string {
  const v = ctx.query[name];
  return ((Array.isArray(v) ? v[0] : v) ?? '').replace(/ /g, '+');
}

function signed(ctx: Context, o: CallbackOptions): Signed {
  const s = { signature: query(ctx, 'msg_signature'), timestamp: query(ctx, 'timestamp'), nonce: query(ctx, 'nonce') };
  if (!s.signature || !/^\d{1,12}$/.test(s.timestamp) || !s.nonce)
    throw new CallbackRejected('signature', 'missing or malformed signature parameters');
  if (o.maxSkewSeconds > 0 && Math.abs(o.clock.now().getTime() / 1000 - Number(s.timestamp)) > o.maxSkewSeconds)
    throw new CallbackRejected('timestamp', 'timestamp outside the accepted window');
  return s;
}

/** The AI bot (智能机器人, JSON) and self-built app (自建应用, XML) callbacks. */
function wecomCallbacks(o: CallbackOptions): Router {
  const router = new Router();
  const guard = async (ctx: Context, channel: 'bot' | 'app', work: () => Promise<void>) => {
    try {
      await work();
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        ctx.status = 413;
        ctx.body = 'payload too large';
        // Not another byte of it: Node would read (and drop) the rest of a declared body, or leave
        // a chunked one hanging. Close the connection once the answer is out.
        ctx.set('Connection', 'close');
        ctx.res.once('finish', () => ctx.req.destroy());
      } else if (e instanceof CallbackRejected) {
        ctx.status = e.reason === 'signature' || e.reason === 'timestamp' ? 403 : 400;
        ctx.body = `rejected: ${e.reason}`;
      } else throw e;
      o.onRefused?.(channel);
      o.log(`${channel} callback refused (${ctx.status}): ${(e as Error).message}`);
    }
  };
  const verifyUrl = (cipher: WeComCipher) => async (ctx: Context) => {
    const s = signed(ctx, o);
    const echostr = query(ctx, 'echostr');
    cipher.verify(s.signature, s.timestamp, s.nonce, echostr);
    ctx.type = 'text/plain';
    ctx.body = cipher.decrypt(echostr);
  };

  if (o.bot) {
    const cipher = new WeComCipher({ ...o.bot, receiveId: '' });
    const seal = (reply: string) =>
      sealBotReply(cipher, reply, String(Math.floor(o.clock.now().getTime() / 1000)), randomBytes(8).toString('hex'));
    router.get('/wecom/bot', (ctx) => guard(ctx, 'bot', () => verifyUrl(cipher)(ctx)));
    router.post('/wecom/bot', (ctx) =>
      guard(ctx, 'bot', async () => {
        const s = signed(ctx, o);
        const { encrypt } = openBotEnvelope(await readBody(ctx.req, BODY_LIMIT));
        cipher.verify(s.signature, s.timestamp, s.nonce, encrypt);
        const msg = readBotMessage(cipher.decrypt(encrypt));
        const turn = botTurn(msg, { id: randomUUID() });
        if (turn.kind === 'refresh') {
          // A stream left open for a job: under way, or finished with its result (refreshes come for
          // at most 6 minutes). One no job has is left unanswered.
          const answer = await o.streams?.refresh(turn.streamId);
          ctx.body = '';
          if (answer) {
            ctx.type = 'application/json';
            ctx.body = seal(JSON.stringify(streamReply(turn.streamId, answer)));
          }
          return;
        }
        if (turn.kind !== 'ask') {
          ctx.body = '';
          if (turn.kind === 'press') {
            // WeCom waits 5 s for this answer and does not retry: the card is updated in it when the
            // command is done in time; its answer goes to the response_url whenever it is done.
            const closed = await pressAnswer(o.inbox, turn.message, o.log);
            if (closed) {
              ctx.type = 'application/json';
              ctx.body = seal(JSON.stringify(botCardUpdate(closed)));
            }
          } else if (turn.why) o.log(`bot ${turn.why}`);
          // Feedback and the like need no answer.
          return;
        }
        const answer = await o.inbox.receive(turn.message);
        // A retry of the message gets the first answer's stream, which the job may still finish.
        const streamId = answer.stream?.id ?? turn.message.stream?.id ?? randomUUID();
        ctx.type = 'application/json';
        ctx.body = seal(JSON.stringify(askReply(answer, streamId, !!o.streams)));
      }),
    );
  }

  if (o.app) {
    const cipher = new WeComCipher({
      token: o.app.token,
      encodingAesKey: o.app.encodingAesKey,
      receiveId: o.app.corpId,
    });
    router.get('/wecom/app', (ctx) => guard(ctx, 'app', () => verifyUrl(cipher)(ctx)));
    router.post('/wecom/app', (ctx) =>
      guard(ctx, 'app', async () => {
        const s = signed(ctx, o);
        const { encrypt } = openAppEnvelope(await readBody(ctx.req, BODY_LIMIT));
        cipher.verify(s.signature, s.timestamp, s.nonce, encrypt);
        const msg = readAppMessage(cipher.decrypt(encrypt));
        // Acknowledge at once (WeCom retries after 5 s); the reply goes out through the outbox.
        ctx.body = '';
        // A button press (template_card_event) runs its command as if the member had typed it.
        const text =
          msg.msgType === 'text'
            ? msg.content
            : msg.event === 'template_card_event'
              ? commandOfKey(msg.eventKey)
              : null;
        if (!text) return;
        const { row } = await o.inbox.accept({
          dedupeKey: msg.dedupeKey,
          channel: 'app',
          userId: msg.fromUser,
          chatId: null,
          text,
          replyVia: 'app',
          ...(msg.event === 'template_card_event' && msg.taskId
            ? { card: { taskId: msg.taskId, ...(msg.responseCode ? { responseCode: msg.responseCode } : {}) } }
            : {}),
        });
        void o.inbox.process(row).catch((e) => o.log(`app message ${msg.dedupeKey}: ${(e as Error).message}`));
      }),
    );
  }
  return router;
}

/** A channel's callback routes (`bot` or `app`), built from its deps; none without an inbox, for a channel that only sends. */
export function callbackRoutes(deps: ChannelDeps, channel: Pick<CallbackOptions, 'bot' | 'app'>): { routes?: Router } {
  const { inbox, config, clock, log, onRefused, streams } = deps;
  if (!inbox) return {};
  return {
    routes: wecomCallbacks({
      inbox,
      streams,
      clock,
      maxSkewSeconds: config.callbackMaxSkewSeconds,
      ...channel,
      log: log('callbacks'),
      ...(onRefused ? { onRefused } : {}),
    }),
  };
}
