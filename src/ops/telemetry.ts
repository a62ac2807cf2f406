// What the service tells its operators about itself: the Prometheus metrics (prom-client, in a
// registry of the service's own, so two services in one process never mix) and the events they
// count, with a log line of context for each. The bus, inbox and scheduler are observed from
// outside, by subclasses made here, so they need not know about any of this.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Bus, type Outgoing } from '../bot/bus.ts';
import { Inbox, type Accepted } from '../bot/inbox.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import type { Sender } from '../delivery/dispatcher.ts';
import type { OutboxChannel } from '../core/outbound.ts';
import type { Logger } from '../log.ts';
import { since } from '../log.ts';
import { Scheduler, type RunResult } from '../schedule/scheduler.ts';
import { WeComError } from '../wecom/api.ts';
import type { LongConnection } from '../wecom/longconn.ts';

/** WeCom's answer when a destination is over its rate limit. */
export const RATE_LIMITED = 45009;

export interface Sweep {
  at: Date;
  ms: number;
  ok: boolean;
  queued?: number;
  error?: string;
}

export class Telemetry {
  readonly registry = new Registry();
  /** The last reminder sweep this process ran (a day's run or the catch-up at start). */
  lastSweep: Sweep | null = null;
  private readonly inbound: Counter<'channel' | 'outcome'>;
  private readonly latency: Histogram<'command'>;
  private readonly sends: Counter<'channel' | 'result'>;
  private readonly limited: Counter<'channel'>;
  private readonly sweepSeconds: Histogram;

  constructor(
    readonly o: {
      db: Db;
      clock: Clock;
      logger: Logger;
      role: () => 'leader' | 'follower';
      /** The AI bot's long connection, when the deployment has one. */
      longConn?: LongConnection | undefined;
    },
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'anze_' });
    this.inbound = new Counter({
      name: 'anze_inbound_messages_total',
      help: 'Inbound messages by channel and outcome (ok, pending, denied, invalid, unknown, error; duplicate: a retry answered from the inbox; refused: a callback that failed its checks)',
      labelNames: ['channel', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'anze_command_duration_seconds',
      help: 'Time from a message reaching the bus to its reply, by command',
      labelNames: ['command'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.sends = new Counter({
      name: 'anze_outbox_sends_total',
      help: 'Outbound send attempts by channel and result (sent, error)',
      labelNames: ['channel', 'result'],
      registers,
    });
    this.limited = new Counter({
      name: 'anze_wecom_rate_limited_total',
      help: 'WeCom answers 45009 (over the rate limit) by channel',
      labelNames: ['channel'],
      registers,
    });
    this.sweepSeconds = new Histogram({
      name: 'anze_reminder_sweep_duration_seconds',
      help: 'Duration of the reminder sweeps (each working day, and the catch-up at start)',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    const { db, clock, role, longConn } = o;
    new Gauge({
      name: 'anze_outbox_messages',
      help: 'Outbox messages by channel and state (pending, sending, sent, printed, failed)',
      labelNames: ['channel', 'state'],
      registers,
      async collect() {
        this.reset();
        const rows = await db.outboxMessage.groupBy({ by: ['channel', 'state'], _count: { _all: true } });
        for (const r of rows) this.set({ channel: r.channel, state: r.state }, r._count._all);
      },
    });
    new Gauge({
      name: 'anze_outbox_oldest_pending_seconds',
      help: 'Age of the oldest pending outbox message, by channel',
      labelNames: ['channel'],
      registers,
      async collect() {
        this.reset();
        const rows = await db.outboxMessage.groupBy({
          by: ['channel'],
          where: { state: { in: ['pending', 'sending'] } },
          _min: { createdAt: true },
        });
        const now = clock.now().getTime();
        for (const r of rows)
          if (r._min.createdAt)
            this.set({ channel: r.channel }, Math.max(0, (now - r._min.createdAt.getTime()) / 1000));
      },
    });
    new Gauge({
      name: 'anze_lease_leader',
      help: '1 while this instance holds the leader lease (sends, reminds, holds the long connection), 0 as a follower',
      registers,
      collect() {
        this.set(role() === 'leader' ? 1 : 0);
      },
    });
    if (longConn) {
      new Gauge({
        name: 'anze_longconn_up',
        help: "1 while the AI bot's long connection is subscribed",
        registers,
        collect() {
          this.set(longConn.state === 'subscribed' ? 1 : 0);
        },
      });
      let counted = 0;
      new Counter({
        name: 'anze_longconn_reconnects_total',
        help: "Reconnections of the AI bot's long connection after it was lost",
        registers,
        collect() {
          if (longConn.reconnects > counted) this.inc(longConn.reconnects - counted);
          counted = longConn.reconnects;
        },
      });
    }
  }

  /** A message the bus answered: its outcome, its command's latency, and one log line of context. */
  handled(msg: { channel: string; dedupeKey?: string; userId: string }, out: Outgoing, ms: number): void {
    this.inbound.inc({ channel: msg.channel, outcome: out.outcome });
    if (out.command) this.latency.observe({ command: out.command }, ms / 1000);
    this.o.logger[out.outcome === 'error' ? 'error' : 'info'](
      {
        msgId: msg.dedupeKey,
        channel: msg.channel,
        user: msg.userId,
        command: out.command ?? null,
        outcome: out.outcome,
        durationMs: ms,
      },
      'command handled',
    );
  }

  duplicate(m: Accepted): void {
    this.inbound.inc({ channel: m.channel, outcome: 'duplicate' });
    this.o.logger.info({ msgId: m.dedupeKey, channel: m.channel }, 'a retried message answered from the inbox');
  }

  refused(channel: string): void {
    this.inbound.inc({ channel, outcome: 'refused' });
  }

  sent(channel: string, ok: boolean, error?: unknown): void {
    this.sends.inc({ channel, result: ok ? 'sent' : 'error' });
    if (error instanceof WeComError && error.errcode === RATE_LIMITED) this.limited.inc({ channel });
  }

  swept(s: Sweep): void {
    this.lastSweep = s;
    this.sweepSeconds.observe(s.ms / 1000);
    this.o.logger[s.ok ? 'info' : 'error'](
      { durationMs: s.ms, queued: s.queued, ...(s.error ? { error: s.error } : {}) },
      'reminder sweep',
    );
  }

  /** A sender that counts each attempt (and WeCom's 45009 answers) before the dispatcher sees its outcome. */
  countSender(channel: OutboxChannel, send: Sender): Sender {
    return async (row) => {
      const start = performance.now();
      try {
        const how = await send(row);
        this.sent(channel, true);
        this.o.logger.debug({ channel, outbox: row.id, durationMs: since(start) }, 'outbox message sent');
        return how;
      } catch (e) {
        this.sent(channel, false, e);
        throw e;
      }
    };
  }
}

/** The bus, timed: each answer is counted and logged with its message id, command, channel and duration. */
export class ObservedBus extends Bus {
  telemetry: Telemetry | null = null;

  override async handle(msg: Parameters<Bus['handle']>[0], finish?: Parameters<Bus['handle']>[1]): Promise<Outgoing> {
    const start = performance.now();
    const out = await super.handle(msg, finish);
    this.telemetry?.handled(msg as typeof msg & { dedupeKey?: string }, out, since(start));
    return out;
  }
}

/** The inbox, counting the retries WeCom makes of a message it already stored. */
export class ObservedInbox extends Inbox {
  telemetry: Telemetry | null = null;

  override async accept(m: Accepted): ReturnType<Inbox['accept']> {
    const r = await super.accept(m);
    if (!r.fresh) this.telemetry?.duplicate(m);
    return r;
  }
}

/** The scheduler, timing each sweep that queues (not the dry runs of `npm run remind`). */
export class ObservedScheduler extends Scheduler {
  telemetry: Telemetry | null = null;
  private readonly now: () => Date;

  constructor(o: ConstructorParameters<typeof Scheduler>[0]) {
    super(o);
    this.now = () => o.clock.now();
  }

  override runAt(at: Date, opts: { dryRun?: boolean } = {}): Promise<RunResult[]> {
    return opts.dryRun ? super.runAt(at, opts) : this.timed(() => super.runAt(at, opts));
  }

  override catchUp(): Promise<RunResult[]> {
    return this.timed(() => super.catchUp());
  }

  private async timed(run: () => Promise<RunResult[]>): Promise<RunResult[]> {
    const at = this.now();
    const start = performance.now();
    try {
      const results = await run();
      const queued = results.reduce((n, r) => n + r.reminders.length, 0);
      this.telemetry?.swept({ at, ms: since(start), ok: true, queued });
      return results;
    } catch (e) {
      this.telemetry?.swept({ at, ms: since(start), ok: false, error: (e as Error).message });
      throw e;
    }
  }
}
