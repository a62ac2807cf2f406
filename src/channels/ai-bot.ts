// The AI bot's inbound handling, the same whether WeCom calls our URL (src/channels/callbacks.ts)
// or pushes over the long connection (src/channels/longconn-bot.ts): what a message or event asks
// the inbox for, and how its answer goes back.
import type { Accepted, Answer, Inbox } from '../bot/inbox.ts';
import type { StreamAnswer } from '../bot/jobs.ts';
import type { ReplyStream } from '../bot/spec.ts';
import { stripMentions } from '../core/mention.ts';
import type { BotInbound } from '../wecom/inbound.ts';
import { botReply, commandOfKey, type ClosedCard } from '../wecom/cards.ts';
import { fitBytes, STREAM_BYTES } from '../wecom/messages.ts';

/** The command a member's first visit to the single chat answers with: its short form fits a welcome message (2,048 bytes). */
const WELCOME = '/帮助 简要';

/**
 * How long a card press's answer waits for its command, to carry the updated card: WeCom waits
 * 5 s for it (the HTTP answer in callback mode, aibot_respond_update_msg over the long connection)
 * and does not retry; past this the card stays as it was and the answer still goes to the
 * response_url.
 */
export const PRESS_ANSWER_MS = 3000;

/**
 * What one message or event of the AI bot asks for:
 * - `ask`: a line for the bus, answered in the reply to this message (a stream, or the welcome
 *   text when the member entered the single chat);
 * - `press`: a button's command, run as if the presser had typed it; its answer goes to the
 *   event's response_url, since a passive reply may only update the card (doc 101031): with the
 *   outcome, once the press decided something;
 * - `refresh`: WeCom asking for a stream left open (callback mode), answered from its job;
 * - `none`: nothing to answer (feedback, images), with why when it is worth a log line.
 */
export type BotTurn =
  | { kind: 'ask'; message: Accepted; welcome: boolean }
  | { kind: 'press'; message: Accepted }
  | { kind: 'refresh'; streamId: string }
  | { kind: 'none'; why?: string };

/** The turn a message or event asks for; `stream` is the reply stream a message would be answered in. */
export function botTurn(msg: BotInbound, stream?: ReplyStream): BotTurn {
  const from = { dedupeKey: msg.dedupeKey, channel: 'bot' as const, userId: msg.fromUser, chatId: msg.chatId ?? null };
  if (msg.msgType === 'event' && msg.event === 'enter_chat')
    return { kind: 'ask', message: { ...from, text: WELCOME, replyVia: 'passive' }, welcome: true };
  if (msg.msgType === 'stream') return msg.streamId ? { kind: 'refresh', streamId: msg.streamId } : { kind: 'none' };
  if (msg.text !== undefined && msg.msgType !== 'event')
    return {
      kind: 'ask',
      message: { ...from, text: stripMentions(msg.text), replyVia: 'passive', ...(stream ? { stream } : {}) },
      welcome: false,
    };
  if (msg.event !== 'template_card_event') return { kind: 'none' };
  const command = commandOfKey(msg.eventKey);
  if (!command || !msg.responseUrl)
    return {
      kind: 'none',
      why: `card press ${msg.dedupeKey} ignored: ${command ? 'no response_url' : 'not a command key'}`,
    };
  return {
    kind: 'press',
    message: {
      ...from,
      text: command,
      replyVia: 'response_url',
      responseUrl: msg.responseUrl,
      ...(msg.taskId ? { card: { taskId: msg.taskId } } : {}),
    },
  };
}

/**
 * Runs a card press and waits for it at most PRESS_ANSWER_MS: the pressed card with its outcome
 * when the command was done in time and decided something, else nothing (its answer still goes
 * to the response_url whenever it is done).
 */
export async function pressAnswer(
  inbox: Inbox,
  message: Accepted,
  log: (m: string) => void,
): Promise<ClosedCard | undefined> {
  const { row } = await inbox.accept(message);
  const run = inbox.process(row);
  run.catch((e) => log(`bot card press ${message.dedupeKey}: ${(e as Error).message}`));
  return (await within(run, PRESS_ANSWER_MS))?.closedCard;
}

/** The promise's value when it settles within `ms`, else undefined (its failure too: it is logged where it is made). */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([p.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

/**
 * The stream reply to a message: finished with the whole answer (and its buttons), or, for a job
 * under way whose stream may still be finished (`open`), left unfinished for its result.
 */
export function askReply(answer: Omit<Answer, 'text'> & { reply: string }, streamId: string, open: boolean) {
  const content = fitBytes(answer.reply, STREAM_BYTES);
  return answer.job && open
    ? botReply(streamId, content, undefined, undefined, { finish: false })
    : botReply(streamId, content, answer.buttons, answer.taskId);
}

/** A job's stream as WeCom is to show it (a refresh's answer, the long connection's finishing frame). */
export const streamReply = (streamId: string, a: StreamAnswer): Record<string, unknown> =>
  botReply(streamId, fitBytes(a.text, STREAM_BYTES), undefined, undefined, {
    finish: a.finish,
    images: a.image ? [a.image] : [],
  });
