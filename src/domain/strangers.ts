import type { Tx } from '../db/client.ts';

// People who wrote to the bot without being registered: what admins see with /待登记, to bind one
// with a press. One row per WeCom userid, counting attempts, the last text clipped, and at most
// MAX_STRANGERS rows (the longest silent go first): a spammer adds one row, not one per message.

/** How much of what a stranger tried is kept. */
export const STRANGER_TEXT = 100;
/** The most rows kept; beyond it the one silent longest goes. */
export const MAX_STRANGERS = 1000;
/** How many /待登记 lists. */
export const STRANGERS_LISTED = 20;

export interface Attempt {
  /** WeCom's message callbacks carry the userid only, no name. */
  userId: string;
  chatId: string | null;
  channel: string;
  text: string;
  at: Date;
}

/** Counts one attempt of someone who is not an active member. */
export async function recordStranger(db: Tx, a: Attempt): Promise<void> {
  const seen = { chatId: a.chatId, channel: a.channel, lastText: a.text.slice(0, STRANGER_TEXT), lastAt: a.at };
  // An upsert on the one unique key, which Prisma sends as the database's own (ON CONFLICT): two first
  // messages at once make one row.
  const row = await db.stranger.upsert({
    where: { userId: a.userId },
    create: { userId: a.userId, firstAt: a.at, ...seen },
    update: { ...seen, attempts: { increment: 1 } },
    select: { attempts: true },
  });
  if (row.attempts > 1) return;
  const count = await db.stranger.count();
  if (count > MAX_STRANGERS) {
    const oldest = await db.stranger.findMany({
      orderBy: [{ lastAt: 'asc' }, { id: 'asc' }],
      take: count - MAX_STRANGERS,
      select: { id: true },
    });
    await db.stranger.deleteMany({ where: { id: { in: oldest.map((o) => o.id) } } });
  }
}

export interface StrangerRow {
  userId: string;
  attempts: number;
  lastText: string;
  lastAt: Date;
  channel: string;
  /** The group chat they last wrote in, and the unit it serves (theirs, most likely). */
  chat: { name: string; unit: { code: string; name: string; kind: string } | null } | null;
}

/**
 * The people who wrote and are not active members, latest first: those of the admin's county (by
 * the group they wrote in) and those whose county is unknown (the app, an unbound chat); all of
 * them for the deployment's admin (no county).
 */
export async function unregistered(db: Tx, county: string | undefined): Promise<StrangerRow[]> {
  const out: StrangerRow[] = [];
  // Keyset pages, latest first, until the list is full: members and chats are asked per page.
  let after: { lastAt: Date; id: number } | null = null;
  for (;;) {
    const page: Awaited<ReturnType<typeof db.stranger.findMany>> = await db.stranger.findMany({
      where: after ? { OR: [{ lastAt: { lt: after.lastAt } }, { lastAt: after.lastAt, id: { lt: after.id } }] } : {},
      orderBy: [{ lastAt: 'desc' }, { id: 'desc' }],
      take: 100,
    });
    if (!page.length) return out;
    const members = new Set(
      (
        await db.member.findMany({
          where: { userId: { in: page.map((s) => s.userId) }, active: true },
          select: { userId: true },
        })
      ).map((m) => m.userId),
    );
    const chatIds = [...new Set(page.flatMap((s) => (s.chatId ? [s.chatId] : [])))];
    const chats = new Map(
      (await db.groupChat.findMany({ where: { chatId: { in: chatIds } }, include: { unit: true } })).map((c) => [
        c.chatId,
        c,
      ]),
    );
    for (const s of page) {
      if (members.has(s.userId)) continue;
      const chat = s.chatId ? chats.get(s.chatId) : undefined;
      if (county && chat?.unit && chat.unit.countyCode !== county) continue;
      out.push({
        userId: s.userId,
        attempts: s.attempts,
        lastText: s.lastText,
        lastAt: s.lastAt,
        channel: s.channel,
        chat: chat ? { name: chat.name, unit: chat.purpose === 'unit' ? chat.unit : null } : null,
      });
      if (out.length === STRANGERS_LISTED) return out;
    }
    const tail = page.at(-1)!;
    after = { lastAt: tail.lastAt, id: tail.id };
  }
}
