import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { WeComError } from '../wecom/api.ts';
import type { OutboxChannel } from './outbox.ts';

export interface OutboxRow { id: number; channel: string; target: string; payload: string; attempts: number }

/** Sends one message; resolves with 'printed' when nothing went over the wire (sandbox). */
export type Sender = (row: OutboxRow) => Promise<'sent' | 'printed'>;

/** Errors that no retry will fix: a removed robot, a member not in the group, no valid recipient… */
const PERMANENT = new Set([93000, 93004, 93008, 81013, 60020, 40003, 40008, 40058, 44004, 301002]);
const MAX_ATTEMPTS = 8;
const BATCH = 20;

/**
 * Sends what the outbox holds. A row is marked 'sending' before the call and 'sent' after, so a
 * crash in between leaves it 'sending', and it is sent again at the next start: at most that one
 * message can repeat (app messages carry WeCom's duplicate check, so they do not).
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<number> | null = null;

  constructor(private readonly o: { db: Db; clock: Clock; senders: Partial<Record<OutboxChannel, Sender>>; log?: (m: string) => void }) {}

  /** Puts back what a previous process left mid-send. */
  async recover(): Promise<number> {
    const { count } = await this.o.db.outboxMessage.updateMany({ where: { state: 'sending' }, data: { state: 'pending' } });
    return count;
  }

  /** Sends every message that is due; returns how many were attempted. */
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
    let total = 0;
    for (;;) {
      const due = await this.o.db.outboxMessage.findMany({
        where: { state: 'pending', nextAttemptAt: { lte: this.o.clock.now() }, channel: { in: Object.keys(this.o.senders) } },
        orderBy: { id: 'asc' },
        take: BATCH,
      });
      for (const row of due) await this.sendOne(row);
      total += due.length;
      if (due.length < BATCH) return total;
    }
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
      const delay = Math.min(3_600_000, 10_000 * 2 ** (attempts - 1)) * (0.75 + Math.random() / 2);
      await db.outboxMessage.update({
        where: { id: row.id },
        data: { state: permanent ? 'failed' : 'pending', lastError: String((e as Error).message).slice(0, 500), nextAttemptAt: new Date(clock.now().getTime() + delay) },
      });
      this.o.log?.(`outbox #${row.id} (${row.channel}) ${permanent ? 'failed' : 'will retry'}: ${(e as Error).message}`);
    }
  }
}
