import type { GroupRoute, Wire } from '../core/outbound.ts';
import type { Tx } from '../db/client.ts';
import type { Prisma } from '../generated/prisma/client.ts';

// Which group chats the bot can speak in, and how. Keys are returned only to be put into the outbox.

/**
 * How a deployment speaks in its groups: through a group's robot (webhook key) where it has one;
 * else, when the deployment holds the AI bot's long connection, by the group's chatid
 * (aibot_send_msg). A group with neither is not reachable and its unit is told through the app.
 */
export interface GroupReach {
  longconn: boolean;
  /** Sandbox mode: nothing is sent, every channel is printed (and counts as reaching its group). */
  sandbox?: boolean;
  /** How the channels write what the router sends (src/wecom/messages.ts). */
  wire: Wire;
}

export type { GroupRoute };
export type NamedGroup = GroupRoute & { name: string };

const reachable = (reach: GroupReach): Prisma.GroupChatWhereInput =>
  reach.longconn ? { OR: [{ webhookKey: { not: null } }, { chatId: { not: null } }] } : { webhookKey: { not: null } };

export const routeOf = (chat: { webhookKey: string | null; chatId: string | null; name: string }): NamedGroup =>
  chat.webhookKey
    ? { channel: 'webhook', target: chat.webhookKey, name: chat.name }
    : { channel: 'longconn', target: chat.chatId!, name: chat.name };

/** The routes to a unit's group chats. */
export async function unitGroups(db: Tx, unitId: number, reach: GroupReach): Promise<NamedGroup[]> {
  const chats = await db.groupChat.findMany({ where: { unitId, ...reachable(reach) }, orderBy: { id: 'asc' } });
  return chats.map(routeOf);
}

/** The routes to a county's leaders' (or admins') groups; a group with no unit is the deployment's own. */
export async function purposeGroups(
  db: Tx,
  countyCode: string | null,
  reach: GroupReach,
  purposes: string[] = ['leaders'],
): Promise<NamedGroup[]> {
  const county: Prisma.GroupChatWhereInput = countyCode ? { OR: [{ unitId: null }, { unit: { countyCode } }] } : {};
  const chats = await db.groupChat.findMany({
    where: { purpose: { in: purposes }, AND: [reachable(reach), county] },
    orderBy: { id: 'asc' },
  });
  // Admins' groups first when asked for both: they are the first to hear of trouble.
  return chats.sort((a, b) => purposes.indexOf(a.purpose) - purposes.indexOf(b.purpose)).map(routeOf);
}

/** A group's name, by its route. */
export async function groupName(db: Tx, route: { channel: string; target: string }): Promise<string | null> {
  const where =
    route.channel === 'webhook'
      ? { webhookKey: route.target }
      : route.channel === 'longconn'
        ? { chatId: route.target }
        : null;
  return where && ((await db.groupChat.findFirst({ where }))?.name ?? null);
}

/** The county a message goes to: its group's unit's, or its member's unit's; null when neither is known. */
export async function recipientCounty(db: Tx, channel: string, target: string): Promise<string | null> {
  const chat =
    channel === 'webhook'
      ? await db.groupChat.findUnique({ where: { webhookKey: target }, include: { unit: true } })
      : channel === 'longconn'
        ? await db.groupChat.findUnique({ where: { chatId: target }, include: { unit: true } })
        : null;
  if (chat) return chat.unit?.countyCode ?? null;
  if (channel !== 'app' && channel !== 'longconn') return null;
  return (await db.member.findUnique({ where: { userId: target }, include: { unit: true } }))?.unit?.countyCode ?? null;
}
