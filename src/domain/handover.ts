import { UserError } from '../core/errors.ts';
import { isUnitRole, joinRoles, splitRoles, type Role, type UnitRole } from '../core/roles.ts';
import type { UndoOp } from '../core/undo.ts';
import type { Tx } from '../db/client.ts';

// /交接: a leaving member of a unit (its 联络员, 责任人 or 分管领导) hands over to a named successor of
// the same unit in one step: their unit roles (and with them every reminder and escalation that
// reached them) and the open items they hold (经办). The leaver keeps any other role; with none
// left their access ends (the row stays). Every change returns the undo op that restores it.

/** How many items a hand-over's messages name; the rest are counted. */
export const HANDOVER_LISTED = 10;

export interface HandoverPlan {
  leaver: { id: number; userId: string; name: string; roles: Role[]; active: boolean };
  successor: { id: number; userId: string; name: string; roles: Role[] };
  unit: { id: number; name: string };
  /** The unit roles that pass, in UNIT_ROLES order. */
  passes: UnitRole[];
  /** What the leaver keeps; empty: their access ends. */
  keeps: Role[];
  /** Open items the leaver holds: the first HANDOVER_LISTED, and how many in all. */
  items: { id: number; title: string; dueOn: string }[];
  count: number;
}

const openHeldBy = (userId: string, unitId: number) => ({
  holderUserId: userId,
  unitId,
  status: { not: 'done' },
  withdrawnAt: null,
});

/** What handing over from one member to another would do, checked; nothing is written. */
export async function planHandover(
  db: Tx,
  from: string,
  to: string,
  county: string | undefined,
): Promise<HandoverPlan> {
  const find = async (userId: string) => {
    const m = await db.member.findUnique({ where: { userId }, include: { unit: true } });
    if (!m || !m.active) throw new UserError('handover.unknown', { userId });
    if (county && m.unit && m.unit.countyCode !== county) throw new UserError('members.other_county', { userId });
    return m;
  };
  const leaver = await find(from);
  const roles = splitRoles(leaver.roles);
  const passes = roles.filter(isUnitRole);
  if (!leaver.unit || !passes.length) throw new UserError('handover.no_unit_role', { name: leaver.name, userId: from });
  if (to === from) throw new UserError('handover.same', { name: leaver.name });
  const successor = await find(to);
  if (successor.unitId !== leaver.unitId)
    throw new UserError('handover.other_unit', {
      name: successor.name,
      userId: to,
      unit: leaver.unit.name,
      theirs: successor.unit?.name ?? '—',
    });
  const where = openHeldBy(from, leaver.unit.id);
  const [items, count] = await Promise.all([
    db.obligation.findMany({
      where,
      select: { id: true, title: true, dueOn: true },
      orderBy: [{ dueOn: 'asc' }, { id: 'asc' }],
      take: HANDOVER_LISTED,
    }),
    db.obligation.count({ where }),
  ]);
  return {
    leaver: { id: leaver.id, userId: from, name: leaver.name, roles, active: leaver.active },
    successor: { id: successor.id, userId: to, name: successor.name, roles: splitRoles(successor.roles) },
    unit: { id: leaver.unit.id, name: leaver.unit.name },
    passes,
    keeps: roles.filter((r) => !isUnitRole(r)),
    items,
    count,
  };
}

/** Hands over as planned: the roles, then the items, a page at a time. Answers the undo ops. */
export async function handOver(db: Tx, plan: HandoverPlan): Promise<UndoOp[]> {
  const { leaver, successor, unit } = plan;
  const undo: UndoOp[] = [];
  await db.member.update({
    where: { id: successor.id },
    data: { roles: joinRoles([...successor.roles, ...plan.passes]) },
  });
  undo.push({
    model: 'member',
    action: 'update',
    where: { id: successor.id },
    data: { roles: joinRoles(successor.roles) },
  });
  await db.member.update({
    where: { id: leaver.id },
    data: { roles: joinRoles(plan.keeps), active: plan.keeps.length > 0 },
  });
  undo.push({
    model: 'member',
    action: 'update',
    where: { id: leaver.id },
    data: { roles: joinRoles(leaver.roles), active: leaver.active },
  });
  // The items by pages of ids (each page leaves the set it was read from, so the next read starts over).
  for (;;) {
    const page = await db.obligation.findMany({
      where: openHeldBy(leaver.userId, unit.id),
      select: { id: true },
      orderBy: { id: 'asc' },
      take: 500,
    });
    if (!page.length) break;
    const ids = page.map((o) => o.id);
    await db.obligation.updateMany({ where: { id: { in: ids } }, data: { holderUserId: successor.userId } });
    for (const id of ids)
      undo.push({ model: 'obligation', action: 'update', where: { id }, data: { holderUserId: leaver.userId } });
  }
  return undo;
}
