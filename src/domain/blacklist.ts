import { UserError } from '../core/errors.ts';
import type { Tx } from '../db/client.ts';
import type { Actor } from './context.ts';
import { ownOpenObligation } from './obligations.ts';

/** A leader's words for deciding a proposal (/黑名单 批准 3, /黑名单 驳回 3 …). */
export const APPROVE = ['批准', '同意', 'approve'];
export const REJECT = ['驳回', '不同意', 'reject'];

// The blacklist proposal (plan §三(四)): an enterprise that refuses to rectify may be proposed for
// the work-safety joint-punishment blacklist (联合惩戒“黑名单”) by the unit that owns its
// rectification item; a leader approves or rejects. The bot records who proposed and who decided,
// and lists them for the county office. It publishes nothing: no notice goes to any group or member,
// and putting an enterprise on the blacklist itself is the emergency-management department's act.

/** How many proposals /黑名单 lists of each kind: the open ones, and the latest decided. */
const LIST_OPEN = 30;
const LIST_DECIDED = 10;

type Ctx = Pick<Actor, 'db' | 'campaign' | 'member' | 'clock' | 'userId' | 'undoable'>;

/** Proposes the enterprise of an open rectification item the caller's unit owns; one open proposal per item. */
export async function propose(ctx: Ctx, itemId: number, reason: string) {
  const { db, campaign, clock, userId } = ctx;
  const item = await ownOpenObligation(ctx, itemId);
  if (item.inspectionId === null) throw new UserError('blacklist.not_rectification', { id: itemId });
  const open = await db.blacklistProposal.findFirst({
    where: { obligationId: item.id, state: 'proposed', withdrawnAt: null },
  });
  if (open) throw new UserError('blacklist.already_proposed', { id: open.id, item: itemId });
  const inspection = await db.inspection.findUniqueOrThrow({
    where: { id: item.inspectionId },
    include: { enterprise: true },
  });
  const p = await db.blacklistProposal.create({
    data: {
      campaignId: campaign.id,
      enterpriseId: inspection.enterpriseId,
      obligationId: item.id,
      unitId: item.unitId,
      reason,
      proposedBy: userId,
      proposedAt: clock.now(),
      isDemo: item.isDemo,
    },
  });
  ctx.undoable({ model: 'blacklistProposal', action: 'withdraw', where: { id: p.id } });
  return { proposal: p, item, enterprise: inspection.enterprise };
}

/** A leader's decision on an open proposal; one decided is refused, naming who decided it. */
export async function decide(ctx: Ctx, id: number, approve: boolean, note: string | null) {
  const { db, campaign, clock, userId } = ctx;
  const p = await db.blacklistProposal.findFirst({ where: { id, campaignId: campaign.id, withdrawnAt: null } });
  if (!p) throw new UserError('blacklist.not_found', { id });
  if (p.state !== 'proposed') {
    const who = await db.member.findUnique({ where: { userId: p.decidedBy ?? '' }, select: { name: true } });
    throw new UserError(p.state === 'approved' ? 'blacklist.already_approved' : 'blacklist.already_rejected', {
      id,
      who: who?.name ?? p.decidedBy ?? '—',
    });
  }
  await db.blacklistProposal.update({
    where: { id },
    data: { state: approve ? 'approved' : 'rejected', decidedBy: userId, decidedAt: clock.now(), decisionNote: note },
  });
  ctx.undoable({
    model: 'blacklistProposal',
    action: 'update',
    where: { id },
    data: { state: 'proposed', decidedBy: null, decidedAt: null, decisionNote: null },
  });
  return p;
}

/** The open proposals, oldest first, and the latest decided: bounded lists for /黑名单. */
export async function proposals(db: Tx, campaignId: number) {
  const where = { campaignId, withdrawnAt: null };
  const [open, decided, openCount] = await Promise.all([
    db.blacklistProposal.findMany({ where: { ...where, state: 'proposed' }, orderBy: { id: 'asc' }, take: LIST_OPEN }),
    db.blacklistProposal.findMany({
      where: { ...where, state: { not: 'proposed' } },
      orderBy: { decidedAt: 'desc' },
      take: LIST_DECIDED,
    }),
    db.blacklistProposal.count({ where: { ...where, state: 'proposed' } }),
  ]);
  const ids = [...new Set([...open, ...decided].map((p) => p.enterpriseId))];
  const units = [...new Set([...open, ...decided].map((p) => p.unitId))];
  const people = [...new Set([...open, ...decided].flatMap((p) => [p.proposedBy, p.decidedBy ?? '']))];
  const [enterprises, unitRows, members] = await Promise.all([
    db.enterprise.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }),
    db.unit.findMany({ where: { id: { in: units } }, select: { id: true, name: true } }),
    db.member.findMany({ where: { userId: { in: people } }, select: { userId: true, name: true } }),
  ]);
  const nameOf = (userId: string | null) =>
    userId === null ? null : (members.find((m) => m.userId === userId)?.name ?? userId);
  const named = <P extends { enterpriseId: number; unitId: number; proposedBy: string; decidedBy: string | null }>(
    p: P,
  ) => ({
    ...p,
    proposer: nameOf(p.proposedBy)!,
    decider: nameOf(p.decidedBy),
    enterprise: enterprises.find((e) => e.id === p.enterpriseId)?.name ?? '—',
    unit: unitRows.find((u) => u.id === p.unitId)?.name ?? '—',
  });
  return { open: open.map(named), decided: decided.map(named), openCount };
}
