import { isUnitRole, joinRoles, ROLES, splitRoles, type Role, type UnitRole } from '../core/roles.ts';
import { UserError } from '../core/errors.ts';
import { wordTable } from '../core/words.ts';
import type { UndoOp } from '../core/undo.ts';
import type { Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';

// Who may use the bot, and which group chats it serves: what admins change with /绑定, /解绑 and
// /群. Every change returns the undo op that restores the row as it was.

/**
 * Whether a role fits a unit: an insurer contact sits in an insurer, an agency's in a
 * third-party agency; a unit's people (联络员, 责任人,
 * 分管领导) in a department, a township or the commission office; the other roles anywhere.
 */
export function roleFitsUnit(role: Role, unit: { kind: string } | null): boolean {
  if (role === 'insurer') return unit?.kind === 'insurer';
  if (role === 'agency') return unit?.kind === 'third_party';
  if (isUnitRole(role)) return !!unit && ['department', 'township', 'commission_office'].includes(unit.kind);
  return true;
}

export interface BindTarget {
  userId: string;
  role: Role;
  /** `+role` adds the role to those held; otherwise the member holds exactly this role. */
  add: boolean;
  unit?: { id: number; name: string; kind: string };
  enterprise?: { id: number; name: string };
  /** The county of the admin binding: a member of another county is not theirs to change. */
  county?: string;
  /** The admin binding: they may not take their own admin role away (another admin does). */
  by?: string;
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

/** What a /绑定 would change: the member's roles and unit before and after. */
export interface BindPlan {
  before: { roles: Role[]; unit: string | null } | null;
  after: { roles: Role[]; unit: string | null };
  /** A role taken away or the unit changed: the admin confirms with /执行. */
  removes: boolean;
}

/**
 * What binding would make of the member, checked but not written: `role` alone sets exactly that
 * role (replacing the others), `+role` adds it. The unit is the one given, else the member's own;
 * for role 'enterprise' the enterprise is set and the unit kept. Refuses a unit that does not fit
 * the roles, saying why.
 */
async function planned(db: Tx, b: BindTarget) {
  const before = await db.member.findUnique({ where: { userId: b.userId }, include: { unit: true } });
  const current = before?.active ? before : null;
  if (current) sameCounty(current, b.county);
  const kept = current ? splitRoles(current.roles) : [];
  const roles = ROLES.filter((r) => r === b.role || (b.add && kept.includes(r)));
  if (b.by === b.userId && kept.includes('admin') && !roles.includes('admin')) throw new UserError('bind.self_admin');
  const unit = b.unit ?? current?.unit ?? null;
  for (const role of roles) {
    if (roleFitsUnit(role, unit)) continue;
    if (!unit) throw new UserError(`bind.no_unit_for_${role}`, { userId: b.userId });
    throw new UserError(`bind.unit_for_${role}`, { unit: unit.name });
  }
  const enterpriseId = b.enterprise?.id ?? (roles.includes('enterprise') ? (current?.enterpriseId ?? null) : null);
  const plan: BindPlan = {
    before: current && { roles: kept, unit: current.unit?.name ?? null },
    after: { roles, unit: unit?.name ?? null },
    removes: !!current && (kept.some((r) => !roles.includes(r)) || (current.unitId ?? null) !== (unit?.id ?? null)),
  };
  return { before, plan, data: { roles: joinRoles(roles), unitId: unit?.id ?? null, active: true, enterpriseId } };
}

/** The change /绑定 would make, for its preview. */
export async function bindPlan(db: Tx, b: BindTarget): Promise<BindPlan> {
  return (await planned(db, b)).plan;
}

/** Creates the member, or sets (or adds to) their roles and unit, reactivating an unbound one. */
export async function bindMember(db: Tx, b: BindTarget): Promise<{ created: boolean; roles: Role[]; undo: UndoOp }> {
  const { before, plan, data } = await planned(db, b);
  const roles = plan.after.roles;
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

/** A unit's people by role (联络员, 责任人, 分管领导), active members only, each list by registration. */
export async function unitPeople(
  db: Tx,
  unitId: number,
): Promise<Record<UnitRole, { userId: string; name: string }[]>> {
  const members = await db.member.findMany({
    where: { unitId, active: true },
    select: { userId: true, name: true, roles: true },
    orderBy: { id: 'asc' },
  });
  const holding = (role: UnitRole) =>
    members.filter((m) => splitRoles(m.roles).includes(role)).map(({ userId, name }) => ({ userId, name }));
  return { liaison: holding('liaison'), responsible: holding('responsible'), in_charge: holding('in_charge') };
}

/** The unit's people in one line, 分管领导 first (as the plan lists them); a role nobody holds shows —. */
export function peopleLine(t: Translate, people: Record<UnitRole, { name: string }[]>): string {
  const names = (role: UnitRole) => people[role].map((p) => p.name).join('、') || '—';
  return t('people.line', {
    in_charge: names('in_charge'),
    responsible: names('responsible'),
    liaison: names('liaison'),
  });
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

const PURPOSE_WORDS = wordTable<'leaders' | 'admins'>({
  leaders: ['领导', '领导群', '县领导', '县领导群'],
  admins: ['管理员', '管理员群'],
});

/** 'leaders' or 'admins' for the words naming those groups; null for anything else (a unit). */
export const chatPurpose = (word: string): ChatPurpose | null => PURPOSE_WORDS.code(word);

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
  // A chat bound to something else takes the name of what it now is; the same binding keeps its name.
  const rebound = existing.purpose !== c.purpose || existing.unitId !== c.unitId;
  await db.groupChat.update({ where: { id: existing.id }, data: { ...data, ...(rebound ? { name: c.name } : {}) } });
  // Restoring a changed key needs the old one: it stays in the undo op, never in the audit detail.
  const previous = {
    purpose: existing.purpose,
    unitId: existing.unitId,
    webhookKey: existing.webhookKey,
    name: existing.name,
  };
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
