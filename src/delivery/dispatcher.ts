import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import type { Lease } from '../db/lease.ts';
import { OUTBOX_CHANNELS, type OutboxChannel, type Wire } from '../core/outbound.ts';
import { translator, type Locale } from '../i18n.ts';
import { route } from './audience.ts';
import { groupName, recipientCounty } from './groups.ts';
import { enqueue } from './outbox.ts';

export interface OutboxRow {
  id: number;
  channel: string;
  target: string;
  payload: string;
  attempts: number;
  createdAt?: Date;
}

/** Sends one message; resolves with 'printed' when nothing went over the wire (sandbox). */
export type Sender = (row: OutboxRow) => Promise<'sent' | 'printed'>;

/**
 * Failures a retry may fix (the wire's non-permanent ones: 45009, 5xx, timeouts, a dropped
 * connection) are retried for a day — a count of attempts would give up on a message during a
 * WeCom outage of twenty minutes.
 */
const GIVE_UP_MS = 24 * 3600_000;
const BATCH = 50;
/** The window of the wire's rate limits (`perMinute`). */
const WINDOW_MS = 60_000;

export interface DispatcherOptions {
  db: Db;
  clock: Clock;
  senders: Partial<Record<OutboxChannel, Sender>>;
  /** How the senders' channels write messages (the failure reports), limit their rate and tell final failures. */
  wire: Wire;
  /** Channels that cannot send now (the bot's long connection is down): their rows wait untouched, spending no attempt. */
  paused?: (channel: OutboxChannel) => boolean;
  /** The language of failure reports to the admins' group. */
  locale?: Locale;
  log?: (m: string) => void;
  random?: () => number;
  /**
   * Among replicas, the leader lease: rows are claimed only under its fencing token, so an
   * instance that lost the lease (or slept through losing it) claims nothing. Without it, this
   * process is the only sender.
   */
  lease?: Pick<Lease, 'token' | 'fenced'>;
  /** Makes what a row names to be made when sent (webhookChart) into its WeCom body; its failures are the send's. */
  prepare?: (row: OutboxRow) => Promise<OutboxRow>;
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
  /** Sends a crashed process may have made unrecorded (see recover). */
  private unrecorded: { channel: string; target: string; until: number }[] = [];

  constructor(private readonly o: DispatcherOptions) {
    this.random = o.random ?? Math.random;
  }

  /**
   * Puts back what a previous process left mid-send. WeCom may have taken each of those just
   * before the crash without the outbox knowing, so each holds a place in its destination's
   * limit for one window from now: the resend cannot push WeCom's count over the limit (45009).
   */
  async recover(): Promise<number> {
    const { db, clock } = this.o;
    const left = await db.outboxMessage.findMany({
      where: { state: 'sending' },
      select: { id: true, channel: true, target: true },
    });
    const { count } = await db.outboxMessage.updateMany({
      where: { id: { in: left.map((r) => r.id) }, state: 'sending' },
      data: { state: 'pending' },
    });
    const until = clock.now().getTime() + WINDOW_MS;
    this.unrecorded = left.map((r) => ({ channel: r.channel, target: r.target, until }));
    return count;
  }

  /** Sends every message that is due and within its destination's limit; returns how many were attempted. */
  drain(): Promise<number> {
    this.draining ??= this.drainAll().finally(() => (this.draining = null));
    return this.draining;
  }

  start(intervalMs = 1000): void {
    const tick = () =>
      void this.drain()
        .catch((e) => this.o.log?.(`outbox: ${e}`))
        .finally(() => {
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
    let total = await this.failUnsendable();
    // Destinations at their limit in this pass: their rows wait, untouched, for the next one.
    const full: { channel: string; target: string }[] = [];
    for (;;) {
      const due = await db.outboxMessage.findMany({
        where: {
          state: 'pending',
          nextAttemptAt: { lte: clock.now() },
          channel: { in: (Object.keys(this.o.senders) as OutboxChannel[]).filter((c) => !this.o.paused?.(c)) },
          NOT: full,
        },
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
        const claimed = await this.claim(row);
        if (claimed === 'lost') return total;
        if (!claimed) continue;
        await this.send(row);
        total++;
        progressed = true;
      }
      if (!progressed && due.length < BATCH) return total;
    }
  }

  private async withinLimit(row: OutboxRow): Promise<boolean> {
    const limit = this.o.wire.perMinute[row.channel as OutboxChannel];
    if (!limit) return true;
    const now = this.o.clock.now().getTime();
    const recent = await this.o.db.outboxMessage.count({
      where: { channel: row.channel, target: row.target, sentAt: { gt: new Date(now - WINDOW_MS) } },
    });
    const unrecorded = this.unrecorded.filter(
      (u) => u.channel === row.channel && u.target === row.target && u.until > now,
    ).length;
    return recent + unrecorded < limit;
  }

  /**
   * Messages for a channel this deployment has no sender for (an app message where the self-built
   * app is not configured) would wait for ever: they fail at once, each reported like any
   * permanent failure, so that the admins learn who is not reached and why.
   */
  private async failUnsendable(): Promise<number> {
    const missing = OUTBOX_CHANNELS.filter((c) => !this.o.senders[c]);
    if (!missing.length) return 0;
    const t = translator(this.o.locale ?? 'zh-CN');
    const rows = await this.o.db.outboxMessage.findMany({
      where: { state: 'pending', channel: { in: missing } },
      orderBy: { id: 'asc' },
      take: BATCH,
    });
    for (const row of rows) {
      const token = this.o.lease?.token() ?? null;
      if (this.o.lease && token === null) return 0;
      const reason = t('delivery.no_channel', { channel: t(`delivery.channel_${row.channel}`) });
      const fail = async (tx: Tx) => {
        const taken = await tx.outboxMessage.updateMany({
          where: { id: row.id, state: 'pending' },
          data: { state: 'failed', lastError: reason, fence: token },
        });
        if (taken.count) await this.reportFailure(tx, row, reason);
      };
      await (this.o.lease ? this.o.lease.fenced(token!, fail) : this.o.db.$transaction(fail));
      this.o.log?.(`outbox #${row.id} (${row.channel}) failed: no ${row.channel} sender configured`);
    }
    return rows.length;
  }

  /** Marks the row 'sending', unless another pass took it; 'lost' when this instance no longer leads. */
  private async claim(row: OutboxRow): Promise<boolean | 'lost'> {
    const take = async (tx: Tx, fence: number | null) =>
      (
        await tx.outboxMessage.updateMany({
          where: { id: row.id, state: 'pending' },
          data: { state: 'sending', attempts: { increment: 1 }, fence },
        })
      ).count === 1;
    const { lease } = this.o;
    if (!lease) return take(this.o.db, null);
    const token = lease.token();
    const claimed = token === null ? null : await lease.fenced(token, (tx) => take(tx, token));
    return claimed ?? 'lost';
  }

  private async send(row: OutboxRow): Promise<void> {
    const { db, clock } = this.o;
    const send = this.o.senders[row.channel as OutboxChannel]!;
    try {
      const how = await send(this.o.prepare ? await this.o.prepare(row) : row);
      await db.outboxMessage.update({
        where: { id: row.id },
        data: { state: how, sentAt: clock.now(), lastError: null },
      });
    } catch (e) {
      const attempts = row.attempts + 1;
      const tooOld = clock.now().getTime() - (row.createdAt ?? clock.now()).getTime() >= GIVE_UP_MS;
      const permanent = this.o.wire.permanent(e) || tooOld;
      // Exponential backoff with jitter: 10 s, 20 s, 40 s … up to an hour.
      const delay = Math.min(3_600_000, 10_000 * 2 ** (attempts - 1)) * (0.75 + this.random() / 2);
      const reason = String((e as Error).message).slice(0, 500);
      await db.$transaction(async (tx) => {
        await tx.outboxMessage.update({
          where: { id: row.id },
          data: {
            state: permanent ? 'failed' : 'pending',
            lastError: reason,
            nextAttemptAt: new Date(clock.now().getTime() + delay),
          },
        });
        if (permanent) await this.reportFailure(tx, row, reason);
      });
      this.o.log?.(`outbox #${row.id} (${row.channel}) ${permanent ? 'failed' : 'will retry'}: ${reason}`);
    }
  }

  /**
   * Tells the admins (their group, else each admin through the app) that a message could not be
   * delivered: those of the recipient's county where it is known, so one county never hears of
   * another's messages. A technical notice never goes to the leaders' group, and never to the
   * destination that just failed.
   */
  private async reportFailure(tx: Tx, row: OutboxRow, reason: string): Promise<void> {
    const county = await recipientCounty(tx, row.channel, row.target);
    const t = translator(this.o.locale ?? 'zh-CN');
    const where = (await groupName(tx, row)) ?? (row.channel === 'webhook' ? t('delivery.unknown_group') : row.target);
    const reach = { longconn: !!this.o.senders.longconn, wire: this.o.wire };
    const notice = { markdown: t('delivery.failed', { id: row.id, to: where, reason }) };
    const { messages } = await route({ db: tx, reach, countyCode: county }, 'admins', notice);
    for (const m of messages)
      if (m.channel !== row.channel || m.target !== row.target) await enqueue(tx, m, this.o.clock);
  }
}
