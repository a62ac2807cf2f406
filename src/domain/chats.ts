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
