import { minuteIn } from '../clock.ts';
import { UserError } from '../core/errors.ts';
import { toldLines } from '../core/format.ts';
import { trusted, type Trusted } from '../core/neutral.ts';
import { merged, type Told } from '../core/notice.ts';
import { readUndo, UNDO_MINUTES, UNDO_MODELS, type UndoOp } from '../core/undo.ts';
import type { Tx } from '../db/client.ts';
import type { Actor } from './context.ts';
import { refreshCover } from './cover.ts';
import { isArchived, visitLabel } from './visits.ts';
import { claimLabel } from './claims.ts';

// /撤销: a member takes back their own last write, within ten minutes, while it is still their own.
// Once someone else acted on the record (a unit signed for an assignment), it is archived (a visit
// both sides confirmed) or decided (an extension request approved or rejected), it is refused and
// the reply says what to do instead. What is taken back is marked withdrawn, never deleted: it
// stays in the audit trail and the export. Messages the write queued are cancelled; those already
// sent get a short retraction, to the same audience.

/** Outbox states after which a message may have been read: it is retracted, not cancelled. */
const GONE_OUT = ['sending', 'sent', 'failed'];
/** A notice queues a row per destination and part; more than this many for one audience are left as they are. */
const MAX_ROWS_PER_AUDIENCE = 500;

/** Reverts the caller's last write; answers the reply's lines. */
export async function undoLast(ctx: Actor): Promise<string[]> {
  const { db, clock, userId, t } = ctx;
  const since = new Date(clock.now().getTime() - UNDO_MINUTES * 60_000);
  const last = await db.auditEvent.findFirst({
    where: { actorUserId: userId, outcome: 'ok', undo: { not: null }, undoneAt: null, at: { gte: since } },
    orderBy: { id: 'desc' },
  });
  if (!last) throw new UserError('undo.nothing', { minutes: UNDO_MINUTES });
  // Only the latest write is undoable: undoing an older one could clobber what came after it.
  const newer = await db.auditEvent.count({
    where: { actorUserId: userId, outcome: 'ok', undo: { not: null }, undoneAt: null, id: { gt: last.id } },
  });
  if (newer) throw new UserError('undo.nothing', { minutes: UNDO_MINUTES });
  const entry = readUndo(last.undo!);
  // What is taken back, in the caller's words and in the groups' (for the retraction).
  const name = async (tr: Actor['t']) => {
    const what: string[] = [];
    for (const op of entry.ops) {
      const w = await describe({ ...ctx, t: tr }, op);
      if (w) what.push(w);
    }
    // Our own templates' words, each value in them already neutralised.
    return trusted(what.length ? shortList(what) : tr('undo.your_change'));
  };
  const [named, told] = [await name(t), await name(ctx.groupT)];
  for (const op of entry.ops) await assertStillOwn(ctx, op, named, last.at);
  for (const op of [...entry.ops].reverse()) await revert(ctx, op);
  await db.auditEvent.update({ where: { id: last.id }, data: { undoneAt: clock.now() } });

  const lines = [t('undo.done', { what: named })];
  let cancelled = 0;
  const retracted: Told[] = [];
  for (const { to, outbox } of entry.told) {
    const ids = outbox.slice(0, MAX_ROWS_PER_AUDIENCE);
    cancelled += (
      await db.outboxMessage.updateMany({ where: { id: { in: ids }, state: 'pending' }, data: { state: 'cancelled' } })
    ).count;
    const out = await db.outboxMessage.count({ where: { id: { in: ids }, state: { in: GONE_OUT } } });
    if (out)
      retracted.push(
        await ctx.tell(to, {
          markdown: ctx.groupT('undo.retraction', { what: told, by: ctx.member?.name ?? userId }),
        }),
      );
  }
  if (cancelled) lines.push(t('undo.cancelled', { count: cancelled }));
  if (retracted.length) lines.push(t('undo.retracted'), ...toldLines(t, merged(retracted)));
  return lines;
}

/** At most three named, then how many more. */
function shortList(items: string[]): string {
  return items.length <= 3 ? items.join('；') : `${items.slice(0, 3).join('；')}…（${items.length}）`;
}

/** The member's name for a userid, as replies show it. */
async function nameOf(db: Tx, userId: string | null): Promise<string> {
  if (!userId) return '—';
  return (await db.member.findUnique({ where: { userId }, select: { name: true } }))?.name ?? userId;
}

/** What an operation takes back, in words; null when another operation of the same write names it. */
async function describe({ db, t }: Actor, op: UndoOp): Promise<string | null> {
  if (!('where' in op)) return null;
  const { id } = op.where;
  switch (op.model) {
    case 'obligation': {
      if (op.action !== 'withdraw') return null;
      const o = await db.obligation.findUnique({ where: { id }, include: { unit: true } });
      return o && t('undo.what_obligation', { id, unit: o.unit.name, title: o.title });
    }
    case 'obligationEvent': {
      const e = await db.obligationEvent.findUnique({ where: { id } });
      if (!e) return null;
      // A snooze records the status unchanged.
      const step = e.fromStatus === e.toStatus ? 'snooze' : e.toStatus;
      return t('undo.what_step', { id: e.obligationId, step: trusted(t(`undo.step_${step}`)) });
    }
    case 'preventionVisit': {
      const v = await db.preventionVisit.findUnique({ where: { id }, include: { enterprise: true } });
      if (!v) return null;
      return t(op.action === 'withdraw' ? 'undo.what_visit' : 'undo.what_confirmation', { visit: visitLabel(t, v) });
    }
    case 'inspection': {
      const i = await db.inspection.findUnique({ where: { id }, include: { enterprise: true } });
      return i && t('undo.what_inspection', { id, enterprise: i.enterprise.name });
    }
    case 'blacklistProposal': {
      const p = await db.blacklistProposal.findUnique({ where: { id } });
      const e = p && (await db.enterprise.findUnique({ where: { id: p.enterpriseId } }));
      if (!p || !e) return null;
      return t(op.action === 'withdraw' ? 'undo.what_proposal' : 'undo.what_proposal_decision', {
        id,
        enterprise: e.name,
      });
    }
    case 'progressReport': {
      const r = await db.progressReport.findUnique({ where: { id }, include: { sector: true, township: true } });
      return (
        r &&
        t('undo.what_report', {
          sector: r.sector.name,
          insured: r.insured,
          total: r.total,
          township: r.township?.name ?? t('report.county_wide'),
        })
      );
    }
    case 'policy': {
      const p = await db.policy.findUnique({ where: { id }, include: { enterprise: true } });
      return p && t('undo.what_policy', { policyNo: p.policyNo, enterprise: p.enterprise.name });
    }
    case 'servicePlan': {
      const p = await db.servicePlan.findUnique({ where: { id } });
      return p && t('undo.what_plan', { year: p.year });
    }
    case 'member': {
      const m = await db.member.findUnique({ where: { id } });
      return m && t('undo.what_member', { member: m.name || m.userId });
    }
    case 'groupChat': {
      const g = await db.groupChat.findUnique({ where: { id } });
      return g && t('undo.what_group', { group: g.name });
    }
    case 'claim': {
      const c = await db.claim.findUnique({ where: { id }, include: { enterprise: true } });
      return c && t(op.action === 'withdraw' ? 'undo.what_claim' : 'undo.what_payment', { claim: claimLabel(t, c) });
    }
    case 'claimDispute': {
      const d = await db.claimDispute.findUnique({
        where: { id },
        include: { claim: { include: { enterprise: true } } },
      });
      return (
        d && t(op.action === 'withdraw' ? 'undo.what_dispute' : 'undo.what_outcome', { claim: claimLabel(t, d.claim) })
      );
    }
    case 'agencyFinding': {
      const f = await db.agencyFinding.findUnique({ where: { id }, include: { insurer: true } });
      return f && t('undo.what_finding', { id, insurer: f.insurer.name });
    }
  }
}

/**
 * Refuses when the record is no longer the caller's alone: someone else acted on it after this
 * write, or it is archived, or decided. The refusal says what to do instead.
 */
async function assertStillOwn(ctx: Actor, op: UndoOp, what: Trusted, since: Date): Promise<void> {
  if (!('where' in op)) return;
  const { db, userId, timeZone } = ctx;
  const { id } = op.where;
  const acted = async (e: { actorUserId: string | null; toStatus: string; fromStatus: string | null; at: Date }) => {
    const step = e.fromStatus === e.toStatus ? 'snooze' : e.toStatus;
    const words = trusted(ctx.t(`undo.step_${step}`));
    if (step === 'extended' || step === 'extension_rejected')
      throw new UserError('undo.decided', { what, who: await nameOf(db, e.actorUserId), step: words });
    throw new UserError('undo.acted', {
      what,
      who: await nameOf(db, e.actorUserId),
      step: words,
      time: minuteIn(e.at, timeZone).slice(5),
    });
  };
  if (op.model === 'obligation' && op.action === 'withdraw') {
    const other = await db.obligationEvent.findFirst({
      where: { obligationId: id, withdrawnAt: null, actorUserId: { not: userId } },
      orderBy: { id: 'asc' },
    });
    if (other) await acted(other);
  }
  // An item handed over (its holder changed) is no longer the author's once someone else acted on it since.
  if (op.model === 'obligation' && op.action === 'update' && 'holderUserId' in op.data) {
    const other = await db.obligationEvent.findFirst({
      where: { obligationId: id, withdrawnAt: null, actorUserId: { not: userId }, at: { gt: since } },
      orderBy: { id: 'asc' },
    });
    if (other) await acted(other);
  }
  if (op.model === 'obligationEvent') {
    const e = await db.obligationEvent.findUnique({ where: { id } });
    const later =
      e &&
      (await db.obligationEvent.findFirst({
        where: { obligationId: e.obligationId, withdrawnAt: null, id: { gt: id } },
        orderBy: { id: 'asc' },
      }));
    if (later) await acted(later);
  }
  if (op.model === 'blacklistProposal' && op.action === 'withdraw') {
    const p = await db.blacklistProposal.findUnique({ where: { id } });
    if (p?.decidedBy)
      throw new UserError('undo.decided', {
        what,
        who: await nameOf(db, p.decidedBy),
        step: trusted(ctx.t(`undo.step_proposal_${p.state}`)),
      });
  }
  // A claim someone else paid or disputed, and a dispute someone else ended, are theirs too now.
  const step = async (who: string | null, key: string, at: Date | null) => {
    if (at && who && who !== userId)
      throw new UserError('undo.acted', {
        what,
        who: await nameOf(db, who),
        step: trusted(ctx.t(key)),
        time: minuteIn(at, timeZone).slice(5),
      });
  };
  if (op.model === 'claim' && op.action === 'withdraw') {
    const c = await db.claim.findUnique({ where: { id } });
    await step(c?.paidBy ?? null, 'undo.step_paid', c?.paidAt ?? null);
    const d = await db.claimDispute.findFirst({ where: { claimId: id, withdrawnAt: null, openedBy: { not: userId } } });
    await step(d?.openedBy ?? null, 'undo.step_disputed', d?.openedAt ?? null);
  }
  if (op.model === 'claim' && op.action === 'update') {
    const d = await db.claimDispute.findFirst({ where: { claimId: id, withdrawnAt: null, openedBy: { not: userId } } });
    await step(d?.openedBy ?? null, 'undo.step_disputed', d?.openedAt ?? null);
  }
  if (op.model === 'claimDispute' && op.action === 'withdraw') {
    const d = await db.claimDispute.findUnique({ where: { id } });
    await step(d?.closedBy ?? null, 'undo.step_settled', d?.closedAt ?? null);
  }
  if (op.model === 'preventionVisit') {
    const v = await db.preventionVisit.findUnique({ where: { id } });
    if (v && isArchived(v)) throw new UserError('undo.archived', { what });
    if (v && op.action === 'withdraw' && v.enterpriseConfirmedAt)
      throw new UserError('undo.acted', {
        what,
        who: await nameOf(db, v.enterpriseConfirmedBy),
        step: trusted(ctx.t('undo.step_confirmed')),
        time: minuteIn(v.enterpriseConfirmedAt, timeZone).slice(5),
      });
  }
}

async function revert(ctx: Actor, op: UndoOp): Promise<void> {
  const { db, today } = ctx;
  if (!(UNDO_MODELS as readonly string[]).includes(op.model)) throw new Error(`cannot undo ${op.model}`);
  // An enterprise's kept cover follows its policies (src/domain/cover.ts): the owners before and after.
  const owner = async () =>
    'where' in op
      ? (await db.policy.findUnique({ where: op.where, select: { enterpriseId: true } }))?.enterpriseId
      : op.data.enterpriseId;
  const before = op.model === 'policy' ? await owner() : undefined;
  // One delegate shape for every model the spec allows: create, update and delete by id.
  const delegate = (
    db as unknown as Record<
      string,
      {
        create(a: unknown): Promise<unknown>;
        update(a: unknown): Promise<unknown>;
        delete(a: unknown): Promise<unknown>;
      }
    >
  )[op.model]!;
  if (op.action === 'withdraw') {
    const withdrawn = { withdrawnAt: ctx.clock.now(), withdrawnBy: ctx.userId };
    // A policy's status is what every count reads; the other records are filtered on withdrawnAt.
    await delegate.update({
      where: op.where,
      data: op.model === 'policy' ? { ...withdrawn, status: 'withdrawn' } : withdrawn,
    });
  } else if (op.action === 'delete') await delegate.delete({ where: op.where });
  else if (op.action === 'update') await delegate.update({ where: op.where, data: op.data });
  else await delegate.create({ data: op.data });
  if (op.model === 'policy')
    await refreshCover(
      db,
      [before, await owner()].filter((id): id is number => typeof id === 'number'),
      today,
    );
}
