import type { Button, ChartRef } from './notice.ts';

// A message on its way out, as the outbox stores it, and the wire that writes it. The router and the
// dispatcher (src/delivery) decide where a message goes, when, and how often; the wire (src/wecom)
// knows how WeCom writes it and which of its failures are final, and is handed to them.

export const OUTBOX_CHANNELS = ['webhook', 'app', 'response_url', 'longconn'] as const;
export type OutboxChannel = (typeof OUTBOX_CHANNELS)[number];

/** A message on its way out: the channel, its target (webhook key, userid, URL) and the body the channel takes. */
export interface Outbound {
  channel: OutboxChannel;
  target: string;
  payload: Record<string, unknown>;
}

/** A group chat as the outbox addresses it: by its robot's key, or by its chatid over the long connection. */
export interface GroupRoute {
  channel: 'webhook' | 'longconn';
  target: string;
}

/** How the deployment's channels write messages and count their failures (src/wecom/messages.ts). */
export interface Wire {
  /** Markdown for a group, by its robot or over the long connection. */
  groupMarkdown(route: GroupRoute, content: string): Outbound;
  /** The largest image a group's robot posts inline; a larger one goes as a file. */
  webhookImageBytes: number;
  webhookImage(webhookKey: string, png: Buffer): Outbound;
  webhookFile(webhookKey: string, path: string, name: string): Outbound;
  /** A chart of a campaign's day (which: `chart.kind`), drawn when it is sent (the dispatcher's `prepare`). */
  webhookChart(webhookKey: string, chart: ChartRef): Outbound;
  longconnChart(chatId: string, chart: ChartRef): Outbound;
  /** A file or image for a chatid or userid over the long connection, uploaded when it is sent. */
  longconnMedia(chatId: string, type: 'file' | 'image', path: string, name: string): Outbound;
  /** The largest image the long connection sends as an image; a larger one goes as a file. */
  longconnImageBytes: number;
  appText(userId: string, content: string): Outbound;
  /** The buttons under a member's text, as a card of their own; null when none fits. */
  appCard(userId: string, text: string, buttons: readonly Button[]): Outbound | null;
  appMedia(userId: string, type: 'file' | 'image', path: string, name: string): Outbound;
  /** A failure no retry will fix (a removed robot, a member not in the group, a missing file). */
  permanent(error: unknown): boolean;
  /** Messages per destination and minute, by channel; a channel not listed has no limit. */
  perMinute: Partial<Record<OutboxChannel, number>>;
}

/** A media id the long connection got for an upload, and when it stops being used (ms since the epoch). */
export interface KeptMediaId {
  mediaId: string;
  expiresAt: number;
}

/**
 * Where the long connection keeps its media ids until they expire, by key: the service's database
 * (src/domain/media-ids.ts), so an id outlives a restart; in memory without one. `find` answers
 * only an id still valid at `now`.
 */
export interface MediaIdStore {
  find(key: string, now: number): Promise<KeptMediaId | null>;
  /** Keeps the id under each key until `expiresAt` (replacing what a key held). */
  keep(keys: readonly string[], mediaId: string, expiresAt: number): Promise<void>;
}
