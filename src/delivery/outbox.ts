import type { Clock } from '../clock.ts';
import type { Outbound } from '../core/outbound.ts';
import type { Tx } from '../db/client.ts';

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
  // A response_url can be used once: its one message is never split (src/wecom/messages.ts fits it).
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
