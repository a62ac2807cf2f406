import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';

export type OutboxChannel = 'webhook' | 'app' | 'response_url';

/** A message on its way out: the channel, its target (webhook key, userid, URL) and the WeCom body. */
export interface Outbound { channel: OutboxChannel; target: string; payload: Record<string, unknown> }

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
  const limit = LIMITS[type];
  const parts = limit && body?.content ? splitLines(body.content, limit) : [undefined];
  const rows = [];
  for (const content of parts) {
    const payload = content === undefined ? msg.payload : { ...msg.payload, [type]: { ...body, content } };
    rows.push(await tx.outboxMessage.create({
      data: { channel: msg.channel, target: msg.target, payload: JSON.stringify(payload), nextAttemptAt: due, createdAt: now },
    }));
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

/** A markdown message to a group through its webhook robot. */
export function webhookMarkdown(webhookKey: string, content: string): Outbound {
  return { channel: 'webhook', target: webhookKey, payload: { msgtype: 'markdown', markdown: { content } } };
}
