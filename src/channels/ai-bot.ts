// The AI bot's inbound handling, the same whether WeCom calls our URL (src/channels/callbacks.ts)
// or pushes over the long connection (src/channels/longconn-bot.ts): what a message or event asks
// the inbox for, and how its answer goes back.
import type { Accepted } from '../bot/inbox.ts';
import { stripMentions } from '../core/mention.ts';
import type { BotInbound } from '../wecom/inbound.ts';
import { commandOfKey } from '../wecom/cards.ts';

/** The command a member's first visit to the single chat answers with: its short form fits a welcome message (2,048 bytes). */
const WELCOME = '/帮助 简要';

/**
 * What one message or event of the AI bot asks for:
 * - `ask`: a line for the bus, answered in the reply to this message (a stream, or the welcome
 *   text when the member entered the single chat);
 * - `press`: a button's command, run as if the presser had typed it; its answer goes to the
 *   event's response_url, since a passive reply may only update the card (doc 101031): with the
 *   outcome, once the press decided something;
 * - `none`: nothing to answer (stream refreshes, feedback, images), with why when it is worth a log line.
 */
export type BotTurn =
  | { kind: 'ask'; message: Accepted; welcome: boolean }
  | { kind: 'press'; message: Accepted }
  | { kind: 'none'; why?: string };

export function botTurn(msg: BotInbound): BotTurn {
  const from = { dedupeKey: msg.dedupeKey, channel: 'bot' as const, userId: msg.fromUser, chatId: msg.chatId ?? null };
  if (msg.msgType === 'event' && msg.event === 'enter_chat')
    return { kind: 'ask', message: { ...from, text: WELCOME, replyVia: 'passive' }, welcome: true };
  if (msg.text !== undefined && msg.msgType !== 'event' && msg.msgType !== 'stream')
    return { kind: 'ask', message: { ...from, text: stripMentions(msg.text), replyVia: 'passive' }, welcome: false };
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
