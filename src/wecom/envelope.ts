// WeCom callback envelopes: the outer (encrypted) wrappers, the replies, and the decrypted messages.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CallbackRejected, type WeComCipher } from './crypto.ts';
import { MAX_BUTTONS, type Button } from '../core/notice.ts';

// ---------------------------------------------------------------------------------------------
// XML: a deliberately small parser for WeCom's flat `<xml>` documents. No DTDs, no comments, no
// attributes, no processing instructions besides a leading `<?xml ...?>`, no custom entities.
// Leaf values stay strings (MsgId may exceed 2^53). Nested elements (some app events, e.g.
// ScanCodeInfo) are flattened to dotted keys such as "ScanCodeInfo.ScanType".

const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const MAX_DEPTH = 8;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const xmlFail = (why: string): never => {
  throw new CallbackRejected('xml', `XML rejected: ${why}`);
};

/** Decode the five predefined entities and numeric character references; anything else is refused. */
function decodeText(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);|&/g, (_m, ref?: string) => {
    if (!ref) return xmlFail('undeclared entity or bare "&"');
    if (ref[0] !== '#') return PREDEFINED[ref]!;
    const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) xmlFail(`invalid character reference ${ref}`);
    return String.fromCodePoint(cp);
  });
}

export function parseXml(xml: string): Record<string, string> {
  const s = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  const out = new Map<string, string>();
  let i = 0;

  const skipWs = () => {
    while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++;
  };
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(s);
    if (!m) return xmlFail(`expected a tag name at ${i}`);
    i += m[0].length;
    return m[0];
  };

  // Reads `<Name>`, `<Name/>` (whitespace allowed before the end); attributes are not supported.
  const startTag = (): { name: string; empty: boolean } => {
    i++; // '<'
    const name = readName();
    skipWs();
    if (s.startsWith('/>', i)) {
      i += 2;
      return { name, empty: true };
    }
    if (s[i] !== '>') return xmlFail(`unexpected content in <${name}> tag`);
    i++;
    return { name, empty: false };
  };

  // key === null marks the root; its children are stored under their own names.
  const element = (key: string | null, depth: number): void => {
    const { name, empty } = startTag();
    if (key === null && name !== 'xml') xmlFail('root element is not <xml>');
    const path = key === null ? '' : key ? `${key}.${name}` : name;
    let text = '';
    let children = false;
    while (!empty) {
      if (i >= s.length) xmlFail(`unclosed <${name}>`);
      if (s.startsWith('<![CDATA[', i)) {
        const end = s.indexOf(']]>', i + 9);
        if (end < 0) xmlFail('unterminated CDATA');
        text += s.slice(i + 9, end); // CDATA is literal: no entity processing
        i = end + 3;
      } else if (s.startsWith('</', i)) {
        i += 2;
        const closing = readName();
        skipWs();
        if (closing !== name || s[i] !== '>') xmlFail(`</${closing}> does not close <${name}>`);
        i++;
        break;
      } else if (s[i] === '<') {
        if (s[i + 1] === '!' || s[i + 1] === '?') xmlFail('DOCTYPE, ENTITY, comment or processing instruction');
        if (depth >= MAX_DEPTH) xmlFail('nesting too deep');
        element(path, depth + 1);
        children = true;
      } else {
        const next = s.indexOf('<', i);
        const end = next < 0 ? s.length : next;
        text += decodeText(s.slice(i, end));
        i = end;
      }
    }
    if (key === null || children) {
      if (text.trim() !== '') xmlFail(`mixed text and elements in <${name}>`);
      return;
    }
    if (out.has(path)) {
      // A repeated top-level field (two <Encrypt>, two <MsgType>) is ambiguous: refuse it.
      // Repeated nested items (list entries) keep the first occurrence.
      if (depth === 1) xmlFail(`duplicate <${name}>`);
      return;
    }
    out.set(path, text);
  };

  skipWs();
  if (s.startsWith('<?xml', i) && /[\s?]/.test(s[i + 5] ?? '')) {
    const end = s.indexOf('?>', i);
    if (end < 0) xmlFail('unterminated XML declaration');
    i = end + 2;
    skipWs();
  }
  if (s[i] !== '<' || s[i + 1] === '!' || s[i + 1] === '?') xmlFail('expected the <xml> root element');
  element(null, 0);
  skipWs();
  if (i !== s.length) xmlFail('content after the root element');
  return Object.fromEntries(out); // own data properties only, so "__proto__" cannot pollute
}

// ---------------------------------------------------------------------------------------------
// Outer envelopes and replies

const envelopeFail = (why: string): never => {
  throw new CallbackRejected('envelope', `envelope rejected: ${why}`);
};

/** Self-built app POST body: `<xml><ToUserName/><Encrypt/><AgentID/></xml>`. */
export function openAppEnvelope(body: string): { encrypt: string; toUserName?: string; agentId?: string } {
  const x = parseXml(body);
  const encrypt = x['Encrypt'];
  if (!encrypt) return envelopeFail('missing <Encrypt>');
  const result: { encrypt: string; toUserName?: string; agentId?: string } = { encrypt };
  if (x['ToUserName'] !== undefined) result.toUserName = x['ToUserName'];
  if (x['AgentID'] !== undefined) result.agentId = x['AgentID'];
  return result;
}

/** AI bot POST body: `{"encrypt":"..."}`. */
export function openBotEnvelope(body: string): { encrypt: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return envelopeFail('body is not JSON');
  }
  const encrypt = (parsed as { encrypt?: unknown } | null)?.encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') return envelopeFail('missing string "encrypt"');
  return { encrypt };
}

// `]]>` cannot occur inside CDATA: split it across two sections.
const cdata = (v: string) => `<![CDATA[${v.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
const escapeXml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function sealAppReply(cipher: WeComCipher, plaintextXml: string, timestamp: string, nonce: string): string {
  const { encrypt, signature } = cipher.seal(plaintextXml, timestamp, nonce);
  return (
    `<xml><Encrypt>${cdata(encrypt)}</Encrypt><MsgSignature>${cdata(signature)}</MsgSignature>` +
    `<TimeStamp>${escapeXml(timestamp)}</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`
  );
}

export function sealBotReply(cipher: WeComCipher, plaintextJson: string, timestamp: string, nonce: string): string {
  const { encrypt, signature } = cipher.seal(plaintextJson, timestamp, nonce);
  // WeCom sends timestamps as numbers; only convert when it is exactly representable
  const ts = /^\d{1,15}$/.test(timestamp) ? Number(timestamp) : timestamp;
  return JSON.stringify({ encrypt, msgsignature: signature, timestamp: ts, nonce });
}

// ---------------------------------------------------------------------------------------------
// Decrypted messages

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

// ---------------------------------------------------------------------------------------------
// Template cards with buttons (card_type button_interaction), for AI bot replies (doc 101031,
// 101032) and app messages (doc 90236). A button's key is the command line it runs, behind a
// marker: a press comes back as that key (event_key / EventKey) and is handled as if the presser
// had typed the line, with the presser's own permissions, so a forged key can do nothing the
// presser could not type.

/** What a button carries: the label, the command line, and an optional look (src/core/notice.ts). */
export type CardButton = Button;

/** Marks a key as a command line. */
export const BUTTON_KEY_PREFIX = 'cmd:';
/** WeCom's limits: six buttons, keys up to 1024 bytes, titles ~26 characters, labels ~10. */
const MAX_KEY_BYTES = 1024;
const MAX_TITLE_CHARS = 26;
const MAX_LABEL_CHARS = 10;
/** Style 1 is the documented default; the doc shows the four styles (1–4) only as a picture. */
const STYLES = { primary: 1, danger: 3 } as const;

/** The command line behind a pressed button's key; null for a key that is not ours. */
export function commandOfKey(key: string | undefined): string | null {
  if (!key?.startsWith(BUTTON_KEY_PREFIX)) return null;
  const line = key.slice(BUTTON_KEY_PREFIX.length).trim();
  return line && !/[\r\n]/.test(line) ? line : null;
}

const cut = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

/** The first line of a reply, without markdown marks, as a card's title. */
export function cardTitle(text: string): string {
  const first =
    text
      .split('\n')
      .map((l) => l.replace(/<[^>]*>|[*#>`]/g, '').trim())
      .find(Boolean) ?? '';
  return cut(first, MAX_TITLE_CHARS);
}

/**
 * A button_interaction card: a title, up to six buttons (keys over 1024 bytes and repeated
 * commands are dropped, never cut), and a task_id of letters and digits (≤ 128 bytes, unique).
 * Null when no button remains.
 */
export function buttonCard(
  title: string,
  buttons: readonly CardButton[],
  taskId: string = randomUUID().replace(/-/g, ''),
): Record<string, unknown> | null {
  const seen = new Set<string>();
  const list = [];
  for (const b of buttons) {
    const key = `${BUTTON_KEY_PREFIX}${b.command}`;
    if (seen.has(key) || Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) continue;
    seen.add(key);
    list.push({ text: cut(b.label, MAX_LABEL_CHARS), ...(b.style ? { style: STYLES[b.style] } : {}), key });
    if (list.length === MAX_BUTTONS) break;
  }
  if (!list.length) return null;
  return { card_type: 'button_interaction', main_title: { title: title || '—' }, button_list: list, task_id: taskId };
}

/**
 * The AI bot's passive reply to a message: a finished stream with the whole text (≤ 20480 bytes),
 * and, when there are buttons, the card beside it (msgtype stream_with_template_card, allowed in
 * reply to a message callback). The text stays in the stream, where its length and markdown are
 * kept; the card only carries the buttons under the reply's first line.
 */
export function botReply(streamId: string, content: string, buttons?: readonly CardButton[]): Record<string, unknown> {
  const stream = { id: streamId, finish: true, content };
  const card = buttons?.length ? buttonCard(cardTitle(content), buttons) : null;
  return card ? { msgtype: 'stream_with_template_card', stream, template_card: card } : { msgtype: 'stream', stream };
}
