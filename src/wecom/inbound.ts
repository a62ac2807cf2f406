// The decrypted messages of WeCom's callbacks: the self-built app's XML, the AI bot's JSON.
import { z } from 'zod';
import { envelopeFail } from './envelope.ts';
import { parseXml } from './xml.ts';

export interface AppInbound {
  msgId?: string;
  msgType: string;
  fromUser: string;
  toUser: string;
  createTime: number;
  content?: string;
  event?: string;
  agentId?: string;
  /** template_card_event: the pressed button's key and the card's task_id. */
  eventKey?: string;
  taskId?: string;
  /** template_card_event: the code that may update the pressed card once, within 72 hours (doc 94888). */
  responseCode?: string;
  /**
   * 'app:'+MsgId, or for events 'app-event:'+FromUserName+':'+CreateTime+':'+Event, and for card
   * events also ':'+TaskId+':'+EventKey, so two buttons pressed within one second both count.
   */
  dedupeKey: string;
}

/** Reads a decrypted self-built-app message or event. */
export function readAppMessage(xml: string): AppInbound {
  const x = parseXml(xml);
  const need = (k: string): string => x[k] || envelopeFail(`missing <${k}>`);
  const msgType = need('MsgType');
  const fromUser = need('FromUserName');
  const toUser = need('ToUserName');
  const ct = need('CreateTime');
  if (!/^\d{1,15}$/.test(ct)) envelopeFail('CreateTime is not a number');
  const createTime = Number(ct);
  const msgId = x['MsgId'] || undefined;
  const event = x['Event'] || undefined;

  let dedupeKey: string;
  if (msgId) dedupeKey = `app:${msgId}`;
  else if (msgType === 'event') dedupeKey = `app-event:${fromUser}:${createTime}:${need('Event')}`;
  else return envelopeFail('message without MsgId');
  if (!msgId && event === 'template_card_event') dedupeKey += `:${x['TaskId'] ?? ''}:${x['EventKey'] ?? ''}`;

  const m: AppInbound = { msgType, fromUser, toUser, createTime, dedupeKey };
  if (msgId) m.msgId = msgId;
  if (x['Content'] !== undefined) m.content = x['Content'];
  if (event) m.event = event;
  if (x['AgentID']) m.agentId = x['AgentID'];
  if (x['EventKey']) m.eventKey = x['EventKey'];
  if (x['TaskId']) m.taskId = x['TaskId'];
  if (x['ResponseCode']) m.responseCode = x['ResponseCode'];
  return m;
}

export interface BotInbound {
  msgId: string;
  aibotId?: string;
  chatId?: string;
  chatType: 'single' | 'group';
  fromUser: string;
  msgType: string;
  text?: string;
  responseUrl?: string;
  event?: string;
  /** template_card_event: the pressed button's key and the card's task_id. */
  eventKey?: string;
  taskId?: string;
  streamId?: string;
  /** 'bot:'+msgid */
  dedupeKey: string;
}

const textPart = z.object({ content: z.string() });
const mixedPart = z.object({ msg_item: z.array(z.object({ msgtype: z.string(), text: textPart.optional() })) });
const quotePart = z.object({
  msgtype: z.string().optional(),
  text: textPart.optional(),
  voice: textPart.optional(),
  mixed: mixedPart.optional(),
});
// Unknown keys (image, file, card payloads, create_time...) are ignored.
const botMessage = z.object({
  msgid: z.string().min(1),
  aibotid: z.string().optional(),
  chatid: z.string().optional(),
  chattype: z.enum(['single', 'group']).optional(), // absent on enter_chat events (single chat)
  from: z.object({ userid: z.string().min(1) }),
  response_url: z.string().optional(),
  msgtype: z.string().min(1),
  text: textPart.optional(),
  mixed: mixedPart.optional(),
  voice: textPart.optional(),
  quote: quotePart.optional(),
  // doc 101027: event.template_card_event = { card_type, event_key, task_id, selected_items }; the
  // WebSocket SDK types put event_key/task_id on the event itself, so both places are read.
  event: z
    .object({
      eventtype: z.string().min(1),
      event_key: z.string().optional(),
      task_id: z.string().optional(),
      template_card_event: z.object({ event_key: z.string().optional(), task_id: z.string().optional() }).optional(),
    })
    .optional(),
  stream: z.object({ id: z.string().min(1) }).optional(),
});

const mixedText = (m: z.infer<typeof mixedPart>): string =>
  m.msg_item.flatMap((it) => (it.msgtype === 'text' && it.text ? [it.text.content] : [])).join('\n');

/** Reads a decrypted AI bot callback (doc 100719 / 101027). */
export function readBotMessage(json: string): BotInbound {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return envelopeFail('bot message is not JSON');
  }
  const parsed = botMessage.safeParse(raw);
  if (!parsed.success) return envelopeFail(`bot message shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const b = parsed.data;

  let text: string | undefined;
  switch (b.msgtype) {
    case 'text':
      text = b.text?.content;
      break;
    case 'mixed':
      text = b.mixed && mixedText(b.mixed);
      break;
    case 'voice':
      text = b.voice?.content;
      break;
    case 'quote': {
      const q = b.quote;
      text = b.text?.content ?? q?.text?.content ?? q?.voice?.content ?? (q?.mixed && mixedText(q.mixed));
      break;
    }
  }
  // These message types must carry the object named like the type
  if (
    ['text', 'mixed', 'voice', 'event', 'stream'].includes(b.msgtype) &&
    b[b.msgtype as keyof typeof b] === undefined
  ) {
    envelopeFail(`${b.msgtype} message without "${b.msgtype}"`);
  }

  const m: BotInbound = {
    msgId: b.msgid,
    chatType: b.chattype ?? 'single',
    fromUser: b.from.userid,
    msgType: b.msgtype,
    dedupeKey: `bot:${b.msgid}`,
  };
  if (b.aibotid !== undefined) m.aibotId = b.aibotid;
  if (b.chatid !== undefined) m.chatId = b.chatid;
  if (text !== undefined) m.text = text;
  if (b.response_url !== undefined) m.responseUrl = b.response_url;
  if (b.event) m.event = b.event.eventtype;
  const card = b.event?.template_card_event ?? b.event;
  if (b.event?.eventtype === 'template_card_event' && card?.event_key) m.eventKey = card.event_key;
  if (b.event?.eventtype === 'template_card_event' && card?.task_id) m.taskId = card.task_id;
  if (b.stream) m.streamId = b.stream.id;
  return m;
}
