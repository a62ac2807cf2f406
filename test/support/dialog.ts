import { expect } from 'vitest';
import type { Bus, Outgoing } from '../../src/bot/bus.ts';

// A conversation with the bot as a table: who says what, and what the reply must show.

/** One turn: the member's userid, the line typed, and the reply it must get (a text it contains, or a pattern). */
export type Turn = readonly [userId: string, text: string, expected: RegExp | string];

/**
 * Says each line to the bus in order, as typed in the sandbox chat (or in `chatId`), and checks
 * each reply as it comes, naming the turn that failed; answers the replies, for their outcomes.
 */
export async function dialog(bus: Bus, turns: readonly Turn[], chatId: string | null = null): Promise<Outgoing[]> {
  const replies: Outgoing[] = [];
  for (const [userId, text, expected] of turns) {
    const reply = await bus.handle({ channel: 'sandbox', userId, chatId, text });
    const turn = `${userId}: ${text}`;
    if (typeof expected === 'string') expect(reply.text, turn).toContain(expected);
    else expect(reply.text, turn).toMatch(expected);
    replies.push(reply);
  }
  return replies;
}
