import { randomUUID } from 'node:crypto';
import { MAX_BUTTONS, type Button } from '../core/notice.ts';

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
