import { ROLES, splitRoles, type Role } from '../core/roles.ts';
import { UserError } from '../core/errors.ts';
import type { UndoOp } from '../core/undo.ts';
import type { Tx } from '../db/client.ts';

// Who may use the bot, and which group chats it serves: what admins change with /绑定, /解绑 and
// /群. Every change returns the undo op that restores the row as it was.

/** The unit kinds a role needs: an insurer contact sits in an insurer, a liaison in a department or township. */
const ROLE_UNIT_KINDS: Partial<Record<Role, string[]>> = {
  insurer: ['insurer'],
  liaison: ['department', 'township', 'commission_office'],
};

export interface BindTarget {
  userId: string;
  role: Role;
  unit?: { id: number; name: string; kind: string };
  enterprise?: { id: number; name: string };
  /** The county of the admin binding: a member of another county is not theirs to change. */
  county?: string;
}

/**
 * An admin of one county (their unit's) manages that county's members only; an admin with no unit
 * is the deployment's and manages everyone. A member with no unit belongs to no county.
 */
export function adminCounty(admin: { unit: { countyCode: string } | null } | null): string | undefined {
  return admin?.unit?.countyCode;
}

function sameCounty(member: { userId: string; unit: { countyCode: string } | null }, county: string | undefined): void {
  if (county && member.unit && member.unit.countyCode !== county)
    throw new UserError('members.other_county', { userId: member.userId });
}

/**
 * Creates the member or adds the role (reactivating an unbound one). For role 'enterprise' the
 * enterprise is set and the unit kept; otherwise the unit is set. Refuses a unit that does not fit
 * the member's roles, saying why.
 */
export async function bindMember(db: Tx, b: BindTarget): Promise<{ created: boolean; roles: Role[]; undo: UndoOp }> {
  const before = await db.member.findUnique({ where: { userId: b.userId }, include: { unit: true } });
  if (before?.active) sameCounty(before, b.county);
  const kept = before?.active ? splitRoles(before.roles) : [];
  const roles = ROLES.filter((r) => r === b.role || kept.includes(r));
  const unit = b.unit ?? (before?.unit && before.active ? before.unit : null);
  for (const role of roles) {
    const kinds = ROLE_UNIT_KINDS[role];
    if (kinds && (!unit || !kinds.includes(unit.kind))) {
      throw new UserError(`bind.unit_for_${role}`, { unit: unit?.name ?? '—' });
    }
  }
  const data = {
    roles: roles.join('|'),
    unitId: unit?.id ?? null,
    active: true,
    enterpriseId: b.enterprise?.id ?? (before?.active ? before.enterpriseId : null),
  };
  if (!before) {
    const m = await db.member.create({ data: { userId: b.userId, name: b.userId, ...data } });
    return { created: true, roles, undo: { model: 'member', action: 'delete', where: { id: m.id } } };
  }
  await db.member.update({ where: { id: before.id }, data });
  const previous = {
    roles: before.roles,
    unitId: before.unitId,
    active: before.active,
    enterpriseId: before.enterpriseId,
  };
  return {
    created: false,
    roles,
    undo: { model: 'member', action: 'update', where: { id: before.id }, data: previous },
  };
}

/** An active member to unbind, or a refusal saying why. */
export async function memberToUnbind(db: Tx, userId: string, by: string, county?: string) {
  if (userId === by) throw new UserError('unbind.self');
  const m = await db.member.findUnique({ where: { userId }, include: { unit: true } });
  if (!m || !m.active) throw new UserError('unbind.unknown', { userId });
  sameCounty(m, county);
  return m;
}

/** Access ends; the row stays for the audit trail. */
export async function unbindMember(db: Tx, id: number): Promise<UndoOp> {
  await db.member.update({ where: { id }, data: { active: false } });
  return { model: 'member', action: 'update', where: { id }, data: { active: true } };
}

/**
 * A webhook key from what an admin pastes: the key itself, or the robot's whole URL
 * (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=XXX). Null when it is neither.
 */
export function parseWebhookKey(text: string): string | null {
  const s = text.trim();
  const fromUrl = /^https?:\/\/\S+\/cgi-bin\/webhook\/send\?(?:\S*&)?key=([^&#\s]+)/.exec(s)?.[1];
  const key = fromUrl ?? s;
  return /^[A-Za-z0-9-]{8,64}$/.test(key) ? key : null;
}

/** What a reply may show of a key: its last four characters. */
export const keyTail = (key: string): string => key.slice(-4);

export type ChatPurpose = 'unit' | 'leaders' | 'admins';

/** `name` names a chat the bot has not seen before; a known chat keeps its name. */
export interface ChatBinding {
  chatId: string;
  purpose: ChatPurpose;
  unitId: number | null;
  name: string;
  webhookKey?: string;
}

const PURPOSE_WORDS: Record<string, ChatPurpose> = {
  领导: 'leaders',
  领导群: 'leaders',
  县领导: 'leaders',
  县领导群: 'leaders',
  leaders: 'leaders',
  管理员: 'admins',
  管理员群: 'admins',
  admins: 'admins',
};

/** 'leaders' or 'admins' for the words naming those groups; null for anything else (a unit). */
export const chatPurpose = (word: string): ChatPurpose | null => PURPOSE_WORDS[word.trim().toLowerCase()] ?? null;

/**
 * Binds a chat to a unit or a purpose and, when given, sets its webhook key (one key serves one
 * chat). Returns the binding it replaced, for the reply.
 */
export async function bindChat(
  db: Tx,
  c: ChatBinding,
): Promise<{
  before: { purpose: string; unitName: string | null; hadKey: boolean } | null;
  hasKey: boolean;
  undo: UndoOp;
}> {
  const existing = await db.groupChat.findUnique({ where: { chatId: c.chatId }, include: { unit: true } });
  if (c.webhookKey) {
    const other = await db.groupChat.findUnique({ where: { webhookKey: c.webhookKey } });
    if (other && other.id !== existing?.id) throw new UserError('group.key_taken', { chat: other.name });
  }
  const data = { purpose: c.purpose, unitId: c.unitId, ...(c.webhookKey ? { webhookKey: c.webhookKey } : {}) };
  if (!existing) {
    const chat = await db.groupChat.create({ data: { chatId: c.chatId, name: c.name, ...data } });
    return {
      before: null,
      hasKey: Boolean(chat.webhookKey),
      undo: { model: 'groupChat', action: 'delete', where: { id: chat.id } },
    };
  }
  await db.groupChat.update({ where: { id: existing.id }, data });
  // Restoring a changed key needs the old one: it stays in the undo op, never in the audit detail.
  const previous = { purpose: existing.purpose, unitId: existing.unitId, webhookKey: existing.webhookKey };
  return {
    before: { purpose: existing.purpose, unitName: existing.unit?.name ?? null, hadKey: Boolean(existing.webhookKey) },
    hasKey: Boolean(c.webhookKey ?? existing.webhookKey),
    undo: { model: 'groupChat', action: 'update', where: { id: existing.id }, data: previous },
  };
}

/**
 * The audience a chat serves now (a unit, the leaders, the admins) when binding it to something
 * else would leave that audience without any group chat; null when another group still serves it.
 */
export async function leftWithoutGroup(
  db: Tx,
  chatId: string,
  next: { purpose: ChatPurpose; unitId: number | null },
  countyCode: string,
): Promise<{ purpose: string; unitName: string | null } | null> {
  const chat = await db.groupChat.findUnique({ where: { chatId }, include: { unit: true } });
  if (!chat || (chat.purpose === next.purpose && (chat.purpose !== 'unit' || chat.unitId === next.unitId))) return null;
  const others = await db.groupChat.count({
    where: {
      id: { not: chat.id },
      purpose: chat.purpose,
      ...(chat.purpose === 'unit' ? { unitId: chat.unitId } : { OR: [{ unitId: null }, { unit: { countyCode } }] }),
    },
  });
  return others ? null : { purpose: chat.purpose, unitName: chat.unit?.name ?? null };
}

/** The latest audit events, newest first, with the actor's name where the bot knows them. */
/** The latest audit events: of a county's members when a county is given, else all. */
export async function latestAuditEvents(db: Tx, n: number, county?: string) {
  const actors = county
    ? (await db.member.findMany({ where: { unit: { countyCode: county } }, select: { userId: true } })).map(
        (m) => m.userId,
      )
    : undefined;
  const events = await db.auditEvent.findMany({
    where: actors ? { actorUserId: { in: actors } } : {},
    orderBy: { id: 'desc' },
    take: n,
  });
  const ids = [...new Set(events.map((e) => e.actorUserId).filter((u): u is string => Boolean(u)))];
  const names = new Map(
    (await db.member.findMany({ where: { userId: { in: ids } }, select: { userId: true, name: true } })).map((m) => [
      m.userId,
      m.name,
    ]),
  );
  return events.map((e) => ({ ...e, actorName: e.actorUserId ? (names.get(e.actorUserId) ?? e.actorUserId) : null }));
}
