// Retention: what `anze purge` deletes, and what it must keep. The periods are minimums set by law
// and standard, and the configuration can only lengthen them (src/config.ts refuses less):
//
// - prevention visits and their confirmations: five years (AQ 9010-2019, 安全生产责任保险事故
//   预防技术服务规范), counted from the youngest of the visit, its record and its confirmations;
// - the audit trail and the pending confirmations of commands: six months (网络安全法 第二十一条:
//   network logs at least six months);
// - inbound and outbound messages, logs of what was said and sent: six months likewise; an outbound
//   message not yet sent or given up on is never deleted; and who wrote without being registered
//   (/待登记), by their last attempt.
//
// Besides: the long connection's media ids once expired (no period: WeCom has dropped them).
//
// A record younger than its period is never deleted: every condition is "older than the cutoff".
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { BULK_TRANSACTION } from '../db/transactions.ts';
import { purgeMediaIds } from './media-ids.ts';

/** Retention periods (BOT_RETAIN_* in src/config.ts): each at least its legal minimum. */
export interface Retention {
  visitsYears: number;
  auditMonths: number;
  messagesMonths: number;
}

/** The legal minimums, which are also the defaults. */
export const MINIMUM_RETENTION: Retention = { visitsYears: 5, auditMonths: 6, messagesMonths: 6 };

export interface PurgeCutoffs {
  visits: Date;
  audit: Date;
  messages: Date;
}

export interface PurgeResult {
  cutoffs: PurgeCutoffs;
  visits: number;
  auditEvents: number;
  pendingActions: number;
  inboundMessages: number;
  outboxMessages: number;
  strangers: number;
  /** The long connection's media ids expired by now. */
  mediaIds: number;
}

/** `months` calendar months before `at` (the same day and time, or the month's last day when it has no such day). */
export function monthsBefore(at: Date, months: number): Date {
  const d = new Date(at);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

export function purgeCutoffs(now: Date, retention: Retention = MINIMUM_RETENTION): PurgeCutoffs {
  const r = {
    visitsYears: Math.max(retention.visitsYears, MINIMUM_RETENTION.visitsYears),
    auditMonths: Math.max(retention.auditMonths, MINIMUM_RETENTION.auditMonths),
    messagesMonths: Math.max(retention.messagesMonths, MINIMUM_RETENTION.messagesMonths),
  };
  return {
    visits: monthsBefore(now, 12 * r.visitsYears),
    audit: monthsBefore(now, r.auditMonths),
    messages: monthsBefore(now, r.messagesMonths),
  };
}

/**
 * Deletes the records older than their retention period as of the clock's now (with `dryRun`,
 * only counts them). Visit dates are calendar days: a visit on the cutoff's day is kept.
 */
export async function purge(
  db: Db,
  clock: Clock,
  retention: Retention = MINIMUM_RETENTION,
  opts: { dryRun?: boolean } = {},
): Promise<PurgeResult> {
  const cutoffs = purgeCutoffs(clock.now(), retention);
  const visitDay = cutoffs.visits.toISOString().slice(0, 10);
  const before = (at: Date) => ({ lt: at });
  const visits = {
    createdAt: before(cutoffs.visits),
    AND: [
      { OR: [{ visitedOn: null }, { visitedOn: { lt: visitDay } }] },
      { OR: [{ plannedOn: null }, { plannedOn: { lt: visitDay } }] },
      { OR: [{ insurerConfirmedAt: null }, { insurerConfirmedAt: before(cutoffs.visits) }] },
      { OR: [{ enterpriseConfirmedAt: null }, { enterpriseConfirmedAt: before(cutoffs.visits) }] },
    ],
  };
  const audit = { at: before(cutoffs.audit) };
  const pending = { expiresAt: before(cutoffs.audit) };
  const inbound = { receivedAt: before(cutoffs.messages) };
  const outbox = { createdAt: before(cutoffs.messages), state: { in: ['sent', 'failed'] } };
  const strangers = { lastAt: before(cutoffs.messages) };
  if (opts.dryRun) {
    const [v, a, p, i, o, s, m] = await Promise.all([
      db.preventionVisit.count({ where: visits }),
      db.auditEvent.count({ where: audit }),
      db.pendingAction.count({ where: pending }),
      db.inboundMessage.count({ where: inbound }),
      db.outboxMessage.count({ where: outbox }),
      db.stranger.count({ where: strangers }),
      purgeMediaIds(db, clock.now(), { dryRun: true }),
    ]);
    return {
      cutoffs,
      visits: v,
      auditEvents: a,
      pendingActions: p,
      inboundMessages: i,
      outboxMessages: o,
      strangers: s,
      mediaIds: m,
    };
  }
  // One transaction: the deletions and the audit event that records them, all or nothing.
  return db.$transaction(async (tx) => {
    const result: PurgeResult = {
      cutoffs,
      visits: (await tx.preventionVisit.deleteMany({ where: visits })).count,
      auditEvents: (await tx.auditEvent.deleteMany({ where: audit })).count,
      pendingActions: (await tx.pendingAction.deleteMany({ where: pending })).count,
      inboundMessages: (await tx.inboundMessage.deleteMany({ where: inbound })).count,
      outboxMessages: (await tx.outboxMessage.deleteMany({ where: outbox })).count,
      strangers: (await tx.stranger.deleteMany({ where: strangers })).count,
      mediaIds: await purgeMediaIds(tx, clock.now()),
    };
    const { cutoffs: _, ...counts } = result;
    await tx.auditEvent.create({
      data: {
        at: clock.now(),
        channel: 'cli',
        command: 'purge',
        action: 'retention_purge',
        outcome: 'ok',
        detail: JSON.stringify({ ...counts, retention }),
      },
    });
    return result;
  }, BULK_TRANSACTION);
}
