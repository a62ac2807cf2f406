import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';

export type OutboxChannel = 'webhook' | 'app' | 'response_url';

/** A message on its way out: the channel, its target (webhook key, userid, URL) and the WeCom body. */
export interface Outbound { channel: OutboxChannel; target: string; payload: Record<string, unknown> }

/**
 * Every outbound message is written here first, in the transaction of the change that caused
 * it; the dispatcher sends it later. So nothing is lost when the process dies in between.
 */
export async function enqueue(tx: Tx, msg: Outbound, clock: Clock) {
  const now = clock.now();
  return tx.outboxMessage.create({
    data: { channel: msg.channel, target: msg.target, payload: JSON.stringify(msg.payload), nextAttemptAt: now, createdAt: now },
  });
}

/** A text message to one member through the self-built app. */
export function appText(userId: string, content: string): Outbound {
  return { channel: 'app', target: userId, payload: { touser: userId, msgtype: 'text', text: { content } } };
}

/** A markdown message to a group through its webhook robot. */
export function webhookMarkdown(webhookKey: string, content: string): Outbound {
  return { channel: 'webhook', target: webhookKey, payload: { msgtype: 'markdown', markdown: { content } } };
}
