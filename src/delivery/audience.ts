import type { Audience, Missed, Notice, Reached, Told } from '../core/notice.ts';
import { splitRoles, type Role } from '../core/roles.ts';
import type { Tx } from '../db/client.ts';
import type { Outbound, Wire } from '../core/outbound.ts';
import { purposeGroups, routeOf, unitGroups, type GroupReach, type NamedGroup } from './groups.ts';
import { enqueue } from './outbox.ts';
import type { Clock } from '../clock.ts';

// The audience router: the one place that decides where a notice goes. A unit is told in its group
// chats (by robot, or by chatid over the long connection where the deployment holds one), else its
// liaisons (an insurer's staff) through the app; its 责任人 or 分管领导 through the app; the leaders
// and the admins in their groups, else the members holding that role; the county office (县安委办) as
// its unit, else as the leaders; a member through the app; the asker in the chat they asked in (one
// to one with the AI bot: by their userid over its long connection, where the deployment holds it).
// Every call answers who was reached, and who was not and why, so a notice never goes unheard
// without a word.

/** What routing needs: the database, how groups are reached, the county, and who asked (for 'asker'). */
export interface Routing {
  db: Tx;
  reach: GroupReach;
  /** The county whose groups and members hear it; null for the deployment's own (a message of unknown county). */
  countyCode: string | null;
  /**
   * Who asked, in which chat (null: one to one), and whether over the AI bot: with its long
   * connection held, a one-to-one chat with the bot is reached by the asker's userid.
   */
  asker?: { userId: string; chatId: string | null; overBot?: boolean };
}

/** The people who hear about a unit when it has no group: its liaisons, or an insurer's staff. */
const UNIT_VOICES: Role[] = ['liaison', 'insurer'];

interface Person {
  userId: string;
  name: string;
}

/** The outbox messages of a notice for every destination, and who they reach; nothing is written. */
export async function route(r: Routing, to: Audience, notice: Notice): Promise<{ messages: Outbound[]; told: Told }> {
  const dest = await destinations(r, to, notice);
  const messages: Outbound[] = [];
  const reached: Reached[] = [];
  const missed: Missed[] = [...dest.missed];
  const mentions = 'markdown' in notice && notice.mention ? dest.mentions : [];
  for (const g of dest.groups) {
    messages.push(toGroup(r.reach.wire, g, notice, mentions));
    reached.push({ via: 'group', name: g.name });
  }
  for (const p of dest.people) {
    const m = toMember(r.reach.wire, p.userId, notice);
    if (m.length) {
      messages.push(...m);
      reached.push({ via: 'member', name: p.name || p.userId });
    }
  }
  return { messages, told: { reached, missed } };
}

/** Routes a notice and queues its messages in the transaction; answers who was reached. */
export async function tell(r: Routing, clock: Clock, to: Audience, notice: Notice): Promise<Told> {
  return (await tellQueued(r, clock, to, notice)).told;
}

/** As `tell`, also answering the outbox rows it queued (so /撤销 can cancel or retract them). */
export async function tellQueued(
  r: Routing,
  clock: Clock,
  to: Audience,
  notice: Notice,
): Promise<{ told: Told; outbox: number[] }> {
  const { messages, told } = await route(r, to, notice);
  const outbox: number[] = [];
  for (const m of messages) outbox.push(...(await enqueue(r.db, m, clock)).map((row) => row.id));
  return { told, outbox };
}

interface Destinations {
  groups: NamedGroup[];
  people: Person[];
  /** Who to @-mention in a group message (the people who would be told without a group). */
  mentions: string[];
  missed: Missed[];
}

async function destinations(r: Routing, to: Audience, notice: Notice): Promise<Destinations> {
  const { db, reach, countyCode } = r;
  const none = (who: string, why: Missed['why']): Destinations => ({
    groups: [],
    people: [],
    mentions: [],
    missed: [{ who, why }],
  });
  if (to === 'leaders' || to === 'admins') {
    const role: Role = to === 'leaders' ? 'leader' : 'admin';
    const groups = await purposeGroups(db, countyCode, reach, [to]);
    if (groups.length) return { groups, people: [], mentions: [], missed: [] };
    const people = await holders(db, countyCode ? { unit: { countyCode } } : {}, [role]);
    return people.length ? { groups: [], people, mentions: [], missed: [] } : none(to, 'no_destination');
  }
  if (to === 'office') {
    // The county's commission office (县安委办) hears as a unit; a county without one, or one nobody
    // hears, is the leaders' to hear.
    const office = countyCode
      ? await db.unit.findFirst({ where: { countyCode, kind: 'commission_office' }, select: { id: true } })
      : null;
    const asUnit = office ? await destinations(r, { unit: office.id }, notice) : null;
    return asUnit && !asUnit.missed.length ? asUnit : destinations(r, 'leaders', notice);
  }
  if (to === 'asker') {
    if (!r.asker) return none('asker', 'unknown_member');
    // In the chat asked in, where its channel carries the notice; else to the asker through the app.
    const chat = r.asker.chatId ? await reachableChat(db, r.asker.chatId, reach) : null;
    if (chat) return { groups: [chat], people: [], mentions: [], missed: [] };
    if (!r.asker.chatId && r.asker.overBot && reach.longconn && !reach.sandbox) {
      const single = { channel: 'longconn' as const, target: r.asker.userId, name: r.asker.userId };
      return { groups: [single], people: [], mentions: [], missed: [] };
    }
    return { groups: [], people: [{ userId: r.asker.userId, name: r.asker.userId }], mentions: [], missed: [] };
  }
  if ('member' in to) {
    const m = await db.member.findUnique({ where: { userId: to.member }, select: { userId: true, name: true } });
    return { groups: [], people: [m ?? { userId: to.member, name: to.member }], mentions: [], missed: [] };
  }
  if ('group' in to) {
    const chat = await reachableChat(db, to.group, reach);
    return chat ? { groups: [chat], people: [], mentions: [], missed: [] } : none(to.group, 'unreachable_chat');
  }
  if ('people' in to) {
    // A unit's 责任人 or 分管领导, each through the app: an escalation is for them, not the unit's group.
    const people = await holders(db, { unitId: to.unit }, [to.people]);
    if (people.length) return { groups: [], people, mentions: [], missed: [] };
    const unit = await db.unit.findUnique({ where: { id: to.unit }, select: { name: true } });
    return none(unit?.name ?? String(to.unit), `no_${to.people}`);
  }
  const [groups, people] = await Promise.all([
    unitGroups(db, to.unit, reach),
    holders(db, { unitId: to.unit }, UNIT_VOICES),
  ]);
  if (groups.length) return { groups, people: [], mentions: people.map((p) => p.userId), missed: [] };
  if (people.length) return { groups: [], people, mentions: [], missed: [] };
  // Only a unit nobody hears is looked up, to be named in the reply.
  const unit = await db.unit.findUnique({ where: { id: to.unit }, select: { name: true } });
  return none(unit?.name ?? String(to.unit), 'no_destination');
}

/** Active members holding one of the roles, where they are. */
async function holders(
  db: Tx,
  where: { unitId: number } | { unit: { countyCode: string } } | Record<string, never>,
  roles: Role[],
): Promise<Person[]> {
  const members = await db.member.findMany({
    where: { ...where, active: true },
    select: { userId: true, name: true, roles: true },
    orderBy: { id: 'asc' },
  });
  return members.filter((m) => splitRoles(m.roles).some((x) => roles.includes(x)));
}

async function reachableChat(db: Tx, chatId: string, reach: GroupReach): Promise<NamedGroup | null> {
  const chat = await db.groupChat.findFirst({ where: { chatId } });
  if (!chat) return null;
  if (chat.webhookKey) return routeOf(chat);
  return reach.longconn ? routeOf(chat) : null;
}

/**
 * A group's message for a notice. Over the long connection a picture or file (the weekly chart
 * included, drawn when sent) is uploaded when sent; a picture too large for an image goes as a file.
 */
function toGroup(wire: Wire, g: NamedGroup, notice: Notice, mentions: string[]): Outbound {
  if ('markdown' in notice) {
    const text = mentions.length ? `${notice.markdown}\n${mentions.map((u) => `<@${u}>`).join(' ')}` : notice.markdown;
    return wire.groupMarkdown(g, text);
  }
  if (g.channel === 'longconn') {
    if ('chart' in notice) return wire.longconnChart(g.target, notice.chart);
    if ('image' in notice)
      return wire.longconnMedia(
        g.target,
        notice.image.length <= wire.longconnImageBytes ? 'image' : 'file',
        notice.path,
        notice.name,
      );
    return wire.longconnMedia(g.target, 'file', notice.file, notice.name);
  }
  if ('chart' in notice) return wire.webhookChart(g.target, notice.chart);
  if ('image' in notice)
    return notice.image.length <= wire.webhookImageBytes
      ? wire.webhookImage(g.target, notice.image)
      : wire.webhookFile(g.target, notice.path, notice.name);
  return wire.webhookFile(g.target, notice.file, notice.name);
}

/** A member's messages through the app: markdown becomes text without mentions, its buttons a card. */
function toMember(wire: Wire, userId: string, notice: Notice): Outbound[] {
  if ('markdown' in notice) {
    const text = notice.markdown.replace(/<@[^>]+>/g, '').trim();
    const card = notice.buttons?.length ? wire.appCard(userId, text, notice.buttons) : null;
    return [wire.appText(userId, text), ...(card ? [card] : [])];
  }
  if ('image' in notice) return [wire.appMedia(userId, 'image', notice.path, notice.name)];
  if ('file' in notice) return [wire.appMedia(userId, 'file', notice.file, notice.name)];
  return [];
}
