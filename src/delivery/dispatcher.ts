import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { translator, type Locale } from '../i18n.ts';
import { WeComError } from '../wecom/api.ts';
import { enqueue, webhookMarkdown, type OutboxChannel } from './outbox.ts';

export interface OutboxRow { id: number; channel: string; target: string; payload: string; attempts: number }

/** Sends one message; resolves with 'printed' when nothing went over the wire (sandbox). */
export type Sender = (row: OutboxRow) => Promise<'sent' | 'printed'>;

/** Errors that no retry will fix: a removed robot, a member not in the group, no valid recipient… */
const PERMANENT = new Set([93000, 93004, 93008, 81013, 60020, 40003, 40008, 40058, 44004, 301002]);
const MAX_ATTEMPTS = 8;
const BATCH = 50;
const WINDOW_MS = 60_000;
/** WeCom's limits per destination and minute: 20 per webhook robot, 30 per member for app messages. */
export const RATE_LIMITS: Partial<Record<OutboxChannel, number>> = { webhook: 20, app: 30 };

export interface DispatcherOptions {
  db: Db;
  clock: Clock;
  senders: Partial<Record<OutboxChannel, Sender>>;
  /** The language of failure reports to the admins' group. */
  locale?: Locale;
  log?: (m: string) => void;
  random?: () => number;
}

/**
 * Sends what the outbox holds, within each destination's rate limit. A row is marked 'sending'
 * before the call and 'sent' after, so a crash in between leaves it 'sending', and it is sent
 * again at the next start: at most that one message per destination can repeat (app messages
 * carry WeCom's duplicate check, so they do not).
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<number> | null = null;
  private readonly random: () => number;

  constructor(private readonly o: DispatcherOptions) {
    this.random = o.random ?? Math.random;
  }

  /** Puts back what a previous process left mid-send. */
  async recover(): Promise<number> {
    const { count } = await this.o.db.outboxMessage.updateMany({ where: { state: 'sending' }, data: { state: 'pending' } });
    return count;
  }

  /** Sends every message that is due and within its destination's limit; returns how many were attempted. */
  drain(): Promise<number> {
    this.draining ??= this.drainAll().finally(() => (this.draining = null));
    return this.draining;
  }

  start(intervalMs = 1000): void {
    const tick = () => void this.drain().catch((e) => this.o.log?.(`outbox: ${e}`)).finally(() => {
      if (this.timer) this.timer = setTimeout(tick, intervalMs);
    });
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async drainAll(): Promise<number> {
    const { db, clock } = this.o;
    let total = 0;
    // Destinations at their limit in this pass: their rows wait, untouched, for the next one.
    const full: { channel: string; target: string }[] = [];
    for (;;) {
      const due = await db.outboxMessage.findMany({
        where: { state: 'pending', nextAttemptAt: { lte: clock.now() }, channel: { in: Object.keys(this.o.senders) }, NOT: full },
        orderBy: { id: 'asc' },
        take: BATCH,
      });
      let progressed = false;
      for (const row of due) {
        if (full.some((f) => f.channel === row.channel && f.target === row.target)) continue;
        if (!(await this.withinLimit(row))) {
          full.push({ channel: row.channel, target: row.target });
          continue;
        }
        await this.sendOne(row);
        total++;
        progressed = true;
      }
      if (!progressed && due.length < BATCH) return total;
    }
  }

  private async withinLimit(row: OutboxRow): Promise<boolean> {
    const limit = RATE_LIMITS[row.channel as OutboxChannel];
    if (!limit) return true;
    const since = new Date(this.o.clock.now().getTime() - WINDOW_MS);
    const recent = await this.o.db.outboxMessage.count({ where: { channel: row.channel, target: row.target, sentAt: { gt: since } } });
    return recent < limit;
  }

  private async sendOne(row: OutboxRow): Promise<void> {
    const { db, clock } = this.o;
    const claimed = await db.outboxMessage.updateMany({ where: { id: row.id, state: 'pending' }, data: { state: 'sending', attempts: { increment: 1 } } });
    if (claimed.count === 0) return;
    const send = this.o.senders[row.channel as OutboxChannel]!;
    try {
      const how = await send(row);
      await db.outboxMessage.update({ where: { id: row.id }, data: { state: how, sentAt: clock.now(), lastError: null } });
    } catch (e) {
      const attempts = row.attempts + 1;
      const permanent = (e instanceof WeComError && PERMANENT.has(e.errcode)) || attempts >= MAX_ATTEMPTS;
      // Exponential backoff with jitter: 10 s, 20 s, 40 s … up to an hour.
      const delay = Math.min(3_600_000, 10_000 * 2 ** (attempts - 1)) * (0.75 + this.random() / 2);
      const reason = String((e as Error).message).slice(0, 500);
      await db.$transaction(async (tx) => {
        await tx.outboxMessage.update({
          where: { id: row.id },
          data: { state: permanent ? 'failed' : 'pending', lastError: reason, nextAttemptAt: new Date(clock.now().getTime() + delay) },
        });
        if (permanent) await this.reportFailure(tx, row, reason);
      });
      this.o.log?.(`outbox #${row.id} (${row.channel}) ${permanent ? 'failed' : 'will retry'}: ${reason}`);
    }
  }

  /** Tells the admins' group (else the leaders') that a message could not be delivered. */
  private async reportFailure(tx: Tx, row: OutboxRow, reason: string): Promise<void> {
    const chats = await tx.groupChat.findMany({ where: { purpose: { in: ['admins', 'leaders'] }, webhookKey: { not: null } } });
    const to = chats.find((c) => c.purpose === 'admins') ?? chats[0];
    if (!to?.webhookKey || (row.channel === 'webhook' && row.target === to.webhookKey)) return;
    const t = translator(this.o.locale ?? 'zh-CN');
    const where = row.channel === 'webhook'
      ? (await tx.groupChat.findFirst({ where: { webhookKey: row.target } }))?.name ?? t('delivery.unknown_group')
      : row.target;
    await enqueue(tx, webhookMarkdown(to.webhookKey, t('delivery.failed', { id: row.id, to: where, reason })), this.o.clock);
  }
}
