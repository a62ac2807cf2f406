import type { Tx } from '../db/client.ts';

// Which group robots speak for whom. Keys are returned only to be put into the outbox.

/** The webhook keys of a unit's group chats. */
export async function unitWebhooks(db: Tx, unitId: number): Promise<string[]> {
  const chats = await db.groupChat.findMany({ where: { unitId, webhookKey: { not: null } }, orderBy: { id: 'asc' } });
  return chats.map((c) => c.webhookKey!);
}

/** The webhook keys of a county's leaders' (or admins') groups. */
export async function purposeWebhooks(db: Tx, countyCode: string, purposes: string[] = ['leaders']): Promise<string[]> {
  const chats = await db.groupChat.findMany({
    where: { purpose: { in: purposes }, webhookKey: { not: null }, OR: [{ unitId: null }, { unit: { countyCode } }] },
    orderBy: { id: 'asc' },
  });
  // Admins' groups first when asked for both: they are the first to hear of trouble.
  return chats.sort((a, b) => purposes.indexOf(a.purpose) - purposes.indexOf(b.purpose)).map((c) => c.webhookKey!);
}

/** The webhook key of the group chat a message came from, when it has a robot. */
export async function chatWebhook(db: Tx, chatId: string | null): Promise<string | null> {
  if (!chatId) return null;
  return (await db.groupChat.findFirst({ where: { chatId, webhookKey: { not: null } } }))?.webhookKey ?? null;
}

/** The county a message goes to: its group's unit's, or its member's unit's; null when neither is known. */
export async function recipientCounty(db: Tx, channel: string, target: string): Promise<string | null> {
  const chat = channel === 'webhook' ? await db.groupChat.findUnique({ where: { webhookKey: target }, include: { unit: true } })
    : channel === 'longconn' ? await db.groupChat.findUnique({ where: { chatId: target }, include: { unit: true } }) : null;
  if (chat) return chat.unit?.countyCode ?? null;
  if (channel !== 'app' && channel !== 'longconn') return null;
  return (await db.member.findUnique({ where: { userId: target }, include: { unit: true } }))?.unit?.countyCode ?? null;
}
