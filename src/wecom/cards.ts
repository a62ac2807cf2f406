import { createHash, randomUUID } from 'node:crypto';
import { MAX_BUTTONS, type Button } from '../core/notice.ts';

// Template cards with buttons (card_type button_interaction), for AI bot replies (doc 101031,
// 101032) and app messages (doc 90236). A button's key is the command line it runs, behind a
// marker: a press comes back as that key (event_key / EventKey) and is handled as if the presser
// had typed the line, with the presser's own permissions, so a forged key can do nothing the
// presser could not type.

/** What a button carries: the label, the command line, and an optional look (src/core/notice.ts). */
export type CardButton = Button;

/** Marks a key as a command line. */
const BUTTON_KEY_PREFIX = 'cmd:';
/** WeCom's limits: six buttons, keys up to 1024 bytes, titles ~26 characters, labels ~10. */
const MAX_KEY_BYTES = 1024;
const MAX_TITLE_CHARS = 26;
const MAX_LABEL_CHARS = 10;

export const cutLabel = (label: string): string => cut(label, MAX_LABEL_CHARS);

/** Style 1 is the documented default; the doc shows the four styles (1–4) only as a picture. */
const STYLES = { primary: 1, danger: 3 } as const;

/** The command line behind a pressed button's key; null for a key that is not ours. */
export function commandOfKey(key: string | undefined): string | null {
  if (!key?.startsWith(BUTTON_KEY_PREFIX)) return null;
  const line = key.slice(BUTTON_KEY_PREFIX.length).trim();
  return line && !/[\r\n]/.test(line) ? line : null;
}

const cut = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

/**
 * The first line of a text, without markdown marks (tags, bold, code, a heading's or quote's
 * leading marks; a '#' of a record number stays), at most `chars` characters.
 */
export function firstLineOf(text: string, chars: number): string {
  const first =
    text
      .split('\n')
      .map((l) =>
        l
          .replace(/<[^>]*>|[*`]/g, '')
          .replace(/^[\s#>]+/, '')
          .trim(),
      )
      .find(Boolean) ?? '';
  return cut(first, chars);
}

/** The first line of a reply, without markdown marks, as a card's title. */
export const cardTitle = (text: string): string => firstLineOf(text, MAX_TITLE_CHARS);

/**
 * A button_interaction card: a title, up to six buttons (keys over 1024 bytes and repeated
 * commands are dropped, never cut), and a task_id of letters and digits (≤ 128 bytes, unique).
 * Null when no button remains.
 */
export function buttonCard(
  title: string,
  buttons: readonly CardButton[],
  taskId: string = newTaskId(),
): Record<string, unknown> | null {
  const list = buttonList(buttons);
  if (!list.length) return null;
  return { card_type: 'button_interaction', main_title: { title: title || '—' }, button_list: list, task_id: taskId };
}

/** A task_id WeCom accepts (letters and digits, unique per bot or app). */
const newTaskId = (): string => randomUUID().replace(/-/g, '');

function buttonList(buttons: readonly CardButton[]) {
  const seen = new Set<string>();
  const list = [];
  for (const b of buttons) {
    const key = `${BUTTON_KEY_PREFIX}${b.command}`;
    if (seen.has(key) || Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) continue;
    seen.add(key);
    list.push({ text: cutLabel(b.label), ...(b.style ? { style: STYLES[b.style] } : {}), key });
    if (list.length === MAX_BUTTONS) break;
  }
  return list;
}

/** A button's label as WeCom shows it (about ten characters). */

/** WeCom shows a card's sub_title_text up to 112 characters. */
const MAX_SUBTITLE_CHARS = 112;

/** A card after presses: its title, a line per decision taken, and the buttons still open. */
export interface ClosedCard {
  taskId: string;
  title: string;
  /** One per decision, oldest first ("✅ 已签收 #17（张三，2026-12-02 20:45）"). */
  lines: string[];
  /** The card's buttons whose decision is still open. */
  open: CardButton[];
  /** All its buttons, greyed out under `done` once none is open. */
  all: CardButton[];
  done: string;
}

/**
 * The card that replaces a pressed one (same card_type and task_id, as WeCom requires): the
 * decisions taken under the title, newest kept when they outgrow the line, and the open buttons;
 * once none is open, the buttons greyed out with `replace_text` (doc 94888), so nobody presses a
 * decided card again.
 */
export function closedCard(c: ClosedCard): Record<string, unknown> {
  const lines = [...c.lines];
  while (lines.length > 1 && [...lines.join('\n')].length > MAX_SUBTITLE_CHARS) lines.shift();
  const open = buttonList(c.open);
  return {
    card_type: 'button_interaction',
    main_title: { title: c.title || '—' },
    sub_title_text: cut(lines.join('\n'), MAX_SUBTITLE_CHARS),
    ...(open.length ? { button_list: open } : { button_list: buttonList(c.all), replace_text: cutLabel(c.done) }),
    task_id: c.taskId,
  };
}

/**
 * The AI bot's update of a pressed card: the passive reply to the template_card_event in callback
 * mode (doc 101031), the body of aibot_respond_update_msg on the long connection, within 5 s.
 */
export const botCardUpdate = (card: ClosedCard): Record<string, unknown> => ({
  response_type: 'update_template_card',
  template_card: closedCard(card),
});

/** Images a finished stream reply carries (msg_item), and the most it takes (the SDK's ReplyMsgItem). */
const MAX_STREAM_IMAGES = 10;
export const STREAM_IMAGE_BYTES = 10 * 1024 * 1024;

/** What else a stream reply says: not finished yet (more frames follow under the same stream id), or images with the finished text. */
export interface StreamMore {
  /** False for a frame the stream refreshes later ("正在生成…"); the default is a finished stream. */
  finish?: boolean;
  /** JPG or PNG bytes shown with the finished text (at most ten, each ≤ 10 MB); only a finished frame takes them. */
  images?: readonly Buffer[];
}

/**
 * The AI bot's passive reply to a message: a stream with the whole text (≤ 20480 bytes), finished
 * unless `more.finish` is false, with `more.images` as msg_item (base64 and MD5, as the SDK's
 * replyStream sends them) when finished; and, when there are buttons, the card beside it (msgtype
 * stream_with_template_card, allowed in reply to a message callback). The text stays in the
 * stream, where its length and markdown are kept; the card only carries the buttons under the
 * reply's first line.
 */
export function botReply(
  streamId: string,
  content: string,
  buttons?: readonly CardButton[],
  taskId?: string,
  more: StreamMore = {},
): Record<string, unknown> {
  const finish = more.finish ?? true;
  const images = more.images ?? [];
  if (images.length && !finish) throw new RangeError('only a finished stream reply carries images');
  if (images.length > MAX_STREAM_IMAGES || images.some((b) => b.length > STREAM_IMAGE_BYTES))
    throw new RangeError(`a stream reply carries at most ${MAX_STREAM_IMAGES} images of 10 MB`);
  const stream = {
    id: streamId,
    finish,
    content,
    ...(images.length ? { msg_item: images.map(streamImage) } : {}),
  };
  const card = buttons?.length ? buttonCard(cardTitle(content), buttons, taskId) : null;
  return card ? { msgtype: 'stream_with_template_card', stream, template_card: card } : { msgtype: 'stream', stream };
}

const streamImage = (bytes: Buffer) => ({
  msgtype: 'image',
  image: { base64: bytes.toString('base64'), md5: createHash('md5').update(bytes).digest('hex') },
});
