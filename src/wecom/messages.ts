// WeCom's message bodies, one builder per kind, as the outbox stores them and the senders post them:
// app messages (doc 90236), group robots (doc 91770), the AI bot's long connection (aibot_send_msg)
// and a callback's response_url. With WeCom's limits and the failures no retry will fix, they make
// the wire the router and the dispatcher are given (src/core/outbound.ts).
import { createHash } from 'node:crypto';
import type { Button, ChartRef } from '../core/notice.ts';
import type { GroupRoute, Outbound, Wire } from '../core/outbound.ts';
import { MEDIA_IMAGE_BYTES, PermanentError, WeComError } from './api.ts';
import { buttonCard, cardTitle, closedCard, cutLabel, type ClosedCard } from './cards.ts';

/** A text message to one member through the self-built app. */
export function appText(userId: string, content: string): Outbound {
  return { channel: 'app', target: userId, payload: { touser: userId, msgtype: 'text', text: { content } } };
}

/**
 * Buttons for a member through the self-built app: a button_interaction template card under the
 * reply's first line; null when no button fits. Its text goes separately (appText), whole.
 */
export function appCard(userId: string, text: string, buttons: readonly Button[], taskId?: string): Outbound | null {
  const card = buttonCard(cardTitle(text), buttons, taskId);
  return (
    card && {
      channel: 'app',
      target: userId,
      payload: { touser: userId, msgtype: 'template_card', template_card: card },
    }
  );
}

/**
 * The update of a card a member pressed in the app (message/update_template_card, doc 94888), with
 * the press's response_code: usable once, within 72 hours. The sender adds the agentid.
 */
export function appCardUpdate(userId: string, responseCode: string, card: ClosedCard): Outbound {
  return {
    channel: 'app',
    target: userId,
    payload: { userids: [userId], response_code: responseCode, template_card: closedCard(card) },
  };
}

/**
 * The buttons of a member's pressed app card greyed out under `replaceName` (doc 94888), for a card
 * whose content the bot did not keep (a notice's).
 */
export function appButtonsDone(userId: string, responseCode: string, replaceName: string): Outbound {
  return {
    channel: 'app',
    target: userId,
    payload: { userids: [userId], response_code: responseCode, button: { replace_name: cutLabel(replaceName) } },
  };
}

/** What an AI bot's stream reply or response_url markdown holds. */
export const STREAM_BYTES = 20480;

/** An AI bot answer through a callback's response_url (once, within an hour): markdown up to STREAM_BYTES. */
export function responseUrlMarkdown(url: string, content: string): Outbound {
  return {
    channel: 'response_url',
    target: url,
    payload: { msgtype: 'markdown', markdown: { content: fitBytes(content, STREAM_BYTES) } },
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

/**
 * A file or image on disk for a group's chatid or a member's userid over the long connection
 * (aibot_send_msg): the sender uploads it in pieces first and sends its media_id.
 */
export function longconnMedia(chatId: string, type: 'file' | 'image', path: string, name: string): Outbound {
  return { channel: 'longconn', target: chatId, payload: { chatid: chatId, msgtype: type, [type]: { path, name } } };
}

/** A markdown message to a group by its route. */
export const groupMarkdown = (route: GroupRoute, content: string): Outbound =>
  route.channel === 'webhook' ? webhookMarkdown(route.target, content) : longconnMarkdown(route.target, content);

/** WeCom's webhook image limit, before base64. */
const WEBHOOK_IMAGE_BYTES = 2 * 1024 * 1024;

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
 * A chart of a campaign's day (the coverage chart, or the trend: `chart.kind`) for a group's robot, drawn when it is sent (the
 * dispatcher's `prepare`): drawing takes a second and 150 MB, which the morning's sweep should not
 * wait for, and the picture shows the figures of the moment it is posted.
 */
export function webhookChart(webhookKey: string, chart: ChartRef): Outbound {
  return { channel: 'webhook', target: webhookKey, payload: { msgtype: 'image', chart } };
}

/** The weekly chart for a group over the long connection: drawn, kept as a file and uploaded when sent (drawCharts). */
export function longconnChart(chatId: string, chart: ChartRef): Outbound {
  return { channel: 'longconn', target: chatId, payload: { chatid: chatId, msgtype: 'image', chart } };
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

/** Errors that no retry will fix: a removed robot, a member not in the group, no valid recipient… */
const PERMANENT = new Set([93000, 93004, 93008, 81013, 60020, 40003, 40008, 40058, 44004, 301002]);

/**
 * Whether a failed send is final. Others (45009, 5xx, timeouts, a dropped connection) are retried:
 * the dispatcher gives up on them only after a day.
 */
export const permanent = (e: unknown): boolean =>
  (e instanceof WeComError && PERMANENT.has(e.errcode)) || e instanceof PermanentError;

/**
 * WeCom's limits per destination and minute: 20 per webhook robot, 30 per member for app messages.
 * The AI bot's proactive sends (long connection) have no documented limit: 20 per chat, as for robots.
 */
export const RATE_LIMITS = { webhook: 20, app: 30, longconn: 20 } as const;

/** WeCom as the router and the dispatcher write to it. */
export const wecomWire: Wire = {
  groupMarkdown,
  webhookImageBytes: WEBHOOK_IMAGE_BYTES,
  webhookImage,
  webhookFile,
  webhookChart,
  longconnChart,
  longconnMedia,
  longconnImageBytes: MEDIA_IMAGE_BYTES,
  appText,
  appCard,
  appMedia,
  permanent,
  perMinute: RATE_LIMITS,
};

/** How a deployment without the AI bot's long connection reaches its groups: by their robots. */
export const robotsOnly = { longconn: false, wire: wecomWire } as const;
