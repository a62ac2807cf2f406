import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { buttonCard, cardTitle, type CardButton } from '../wecom/envelope.ts';

export const OUTBOX_CHANNELS = ['webhook', 'app', 'response_url', 'longconn'] as const;
export type OutboxChannel = (typeof OUTBOX_CHANNELS)[number];

/** A message on its way out: the channel, its target (webhook key, userid, URL) and the WeCom body. */
export interface Outbound {
  channel: OutboxChannel;
  target: string;
  payload: Record<string, unknown>;
}

/** WeCom's byte limits on message content, by message type. */
const LIMITS: Record<string, number> = { text: 2048, markdown: 4096 };

/**
 * Every outbound message is written here first, in the transaction of the change that caused
 * it; the dispatcher sends it later. So nothing is lost when the process dies in between.
 * Content over WeCom's limit becomes several messages, split between lines.
 */
export async function enqueue(tx: Tx, msg: Outbound, clock: Clock, notBefore?: Date): Promise<{ id: number }[]> {
  const now = clock.now();
  const due = notBefore && notBefore > now ? notBefore : now;
  const type = String(msg.payload.msgtype);
  const body = msg.payload[type] as { content?: string } | undefined;
  // A response_url can be used once: its one message is never split (responseUrlMarkdown fits it).
  const limit = msg.channel === 'response_url' ? undefined : LIMITS[type];
  const parts = limit && body?.content ? splitLines(body.content, limit) : [undefined];
  // A split text @-mentions its members once, with its last part.
  const { mentioned_list: _, mentioned_mobile_list: __, ...unmentioned } = (body ?? {}) as Record<string, unknown>;
  const rows = [];
  for (const [i, content] of parts.entries()) {
    const payload =
      content === undefined
        ? msg.payload
        : { ...msg.payload, [type]: { ...(i === parts.length - 1 ? body : unmentioned), content } };
    rows.push(
      await tx.outboxMessage.create({
        data: {
          channel: msg.channel,
          target: msg.target,
          payload: JSON.stringify(payload),
          nextAttemptAt: due,
          createdAt: now,
        },
      }),
    );
  }
  return rows;
}

/** Splits text into pieces of at most `maxBytes` UTF-8 bytes, between lines where it can. */
export function splitLines(text: string, maxBytes: number): string[] {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  const pieces: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const joined = current ? `${current}\n${line}` : line;
    if (bytes(joined) <= maxBytes) {
      current = joined;
      continue;
    }
    if (current) pieces.push(current);
    current = line;
    // A single line longer than the limit is cut between characters.
    while (bytes(current) > maxBytes) {
      let cut = '';
      for (const ch of current) {
        if (bytes(cut + ch) > maxBytes) break;
        cut += ch;
      }
      pieces.push(cut);
      current = current.slice(cut.length);
    }
  }
  if (current || !pieces.length) pieces.push(current);
  return pieces;
}

/** A text message to one member through the self-built app. */
export function appText(userId: string, content: string): Outbound {
  return { channel: 'app', target: userId, payload: { touser: userId, msgtype: 'text', text: { content } } };
}

/**
 * Buttons for a member through the self-built app: a button_interaction template card under the
 * reply's first line; null when no button fits. Its text goes separately (appText), whole.
 */
export function appCard(userId: string, text: string, buttons: readonly CardButton[]): Outbound | null {
  const card = buttonCard(cardTitle(text), buttons);
  return (
    card && {
      channel: 'app',
      target: userId,
      payload: { touser: userId, msgtype: 'template_card', template_card: card },
    }
  );
}

/** An AI bot answer through a callback's response_url (once, within an hour): markdown up to 20480 bytes. */
export function responseUrlMarkdown(url: string, content: string): Outbound {
  return {
    channel: 'response_url',
    target: url,
    payload: { msgtype: 'markdown', markdown: { content: fitBytes(content, 20480) } },
  };
}

/** Cuts text to at most `max` UTF-8 bytes without splitting a character. */
export function fitBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max - 3;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}…`;
}

/** A markdown message to a group through its webhook robot. */
export function webhookMarkdown(webhookKey: string, content: string): Outbound {
  return { channel: 'webhook', target: webhookKey, payload: { msgtype: 'markdown', markdown: { content } } };
}

/**
 * A markdown message through the AI bot's long connection (aibot_send_msg) to a group's chatid or
 * a member's userid. WeCom delivers it only where a member has talked to the bot before.
 */
export function longconnMarkdown(chatId: string, content: string): Outbound {
  return {
    channel: 'longconn',
    target: chatId,
    payload: { chatid: chatId, msgtype: 'markdown', markdown: { content } },
  };
}

/** WeCom's webhook image limit, before base64. */
export const WEBHOOK_IMAGE_BYTES = 2 * 1024 * 1024;

/** An image a group's robot posts inline: base64 with its MD5, at most 2 MB. */
export function webhookImage(webhookKey: string, png: Buffer): Outbound {
  if (png.length > WEBHOOK_IMAGE_BYTES)
    throw new RangeError(`image of ${png.length} bytes: a group robot takes at most 2 MB`);
  const md5 = createHash('md5').update(png).digest('hex');
  return {
    channel: 'webhook',
    target: webhookKey,
    payload: { msgtype: 'image', image: { base64: png.toString('base64'), md5 } },
  };
}

/**
 * The coverage chart of a campaign's day for a group's robot, drawn when it is sent (the
 * dispatcher's `prepare`): drawing takes a second and 150 MB, which the morning's sweep should not
 * wait for, and the picture shows the figures of the moment it is posted.
 */
export function webhookChart(webhookKey: string, chart: { campaignId: number; day: string }): Outbound {
  return { channel: 'webhook', target: webhookKey, payload: { msgtype: 'image', chart } };
}

/** A file on disk for a group's robot: the sender uploads it (upload_media) and posts its media_id. */
export function webhookFile(webhookKey: string, path: string, name: string): Outbound {
  return { channel: 'webhook', target: webhookKey, payload: { msgtype: 'file', file: { path, name } } };
}

/** A file or image on disk for one member through the app: the sender uploads it (media/upload) first. */
export function appMedia(userId: string, type: 'file' | 'image', path: string, name: string): Outbound {
  return { channel: 'app', target: userId, payload: { touser: userId, msgtype: type, [type]: { path, name } } };
}

/** A text message to a group through its robot, @-mentioning members by userid ('@all': everyone). */
export function webhookText(webhookKey: string, content: string, mentions: string[] = []): Outbound {
  return {
    channel: 'webhook',
    target: webhookKey,
    payload: { msgtype: 'text', text: { content, ...(mentions.length ? { mentioned_list: mentions } : {}) } },
  };
}
