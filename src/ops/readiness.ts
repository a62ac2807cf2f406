// /readyz: whether this instance can do its work, and what an operator looks at first when it
// cannot. Nothing secret is in it: states, counts, times and WeCom's error messages.
import { readdirSync } from 'node:fs';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { providerOfClient } from '../db/dialect.ts';
import { MIGRATIONS_DIR, POSTGRES_MIGRATIONS_DIR } from '../db/migrate.ts';
import { configSecrets, redactor } from '../log.ts';
import type { Sweep } from './telemetry.ts';

export interface ReadinessSources {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'readyMaxDownSeconds'> & Partial<Config>;
  role: () => 'leader' | 'follower';
  /** The deployment's channels, each judging its own health. */
  channels: readonly HealthOf[];
  lastSweep: () => Sweep | null;
  /** When this process started serving: a channel is not "down" for longer than the process has been up. */
  startedAt: number;
}

/** A channel's state in /readyz: up, down, or standby (a follower leaves the long connection to the leader). */
export interface ChannelState {
  status: 'up' | 'down' | 'standby' | 'unknown';
  state?: string;
  since?: string;
  downSeconds?: number;
  [k: string]: unknown;
}

/** What a channel's health is judged against. */
export interface HealthCheck {
  role: 'leader' | 'follower';
  /** How long, in ms, something down since `fromMs` has been down for this process. */
  downFor(fromMs: number): number;
  /** How long a channel may be down before the instance is not ready. */
  maxDownMs: number;
  /** Takes secrets out of a text from elsewhere (WeCom's error messages). */
  scrub(text: string): string;
}

/** A channel as /readyz sees it (src/channels/channel.ts): its name, and its health where it has one. */
export interface HealthOf {
  name: string;
  health?(check: HealthCheck): { state: ChannelState; problem?: string };
}

export interface Readiness {
  ready: boolean;
  /** Why not, when not ready. */
  problems: string[];
  role: 'leader' | 'follower';
  database: { reachable: boolean; error?: string; migrations?: { applied: number; pending: string[] } };
  channels: Record<string, ChannelState>;
  outbox?: {
    pending: number;
    oldestPendingSeconds: number | null;
    byChannel: Record<string, { pending: number; oldestPendingSeconds: number | null }>;
    failedLast24h: number;
  };
  lastReminderSweep: { at: string; durationMs: number; ok: boolean; queued?: number; error?: string } | null;
}

const DAY_MS = 24 * 3600_000;

/** The migrations this build has, by name: all must be in the database's ledger. */
function shippedMigrations(provider: 'sqlite' | 'postgresql'): string[] {
  return readdirSync(provider === 'sqlite' ? MIGRATIONS_DIR : POSTGRES_MIGRATIONS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

export async function readiness(s: ReadinessSources): Promise<Readiness> {
  // Error texts come from elsewhere (a driver, WeCom): the log's redaction applies to them too.
  const scrub = redactor(configSecrets(s.config));
  const now = s.clock.now().getTime();
  const maxDownMs = (s.config.readyMaxDownSeconds ?? 300) * 1000;
  const role = s.role();
  const problems: string[] = [];
  const out: Readiness = {
    ready: true,
    problems,
    role,
    database: { reachable: false },
    channels: {},
    lastReminderSweep: null,
  };

  try {
    await s.db.$queryRaw`SELECT 1`;
    out.database.reachable = true;
  } catch (e) {
    out.database.error = scrub((e as Error).message.split('\n')[0]!).slice(0, 200);
    problems.push('database unreachable');
  }

  if (out.database.reachable) {
    const shipped = shippedMigrations(providerOfClient(s.db));
    const rows = await s.db.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    const pending = shipped.filter((m) => !applied.has(m));
    out.database.migrations = { applied: applied.size, pending };
    if (pending.length) problems.push(`migrations not applied: ${pending.join(', ')}`);

    const open = await s.db.outboxMessage.groupBy({
      by: ['channel'],
      where: { state: { in: ['pending', 'sending'] } },
      _count: { _all: true },
      _min: { createdAt: true },
    });
    const age = (d: Date | null | undefined) => (d ? Math.max(0, Math.round((now - d.getTime()) / 1000)) : null);
    const byChannel = Object.fromEntries(
      open.map((r) => [r.channel, { pending: r._count._all, oldestPendingSeconds: age(r._min.createdAt) }]),
    );
    const oldest = open.map((r) => r._min.createdAt?.getTime() ?? now).reduce((a, b) => Math.min(a, b), now);
    // A message is given up either at once (a permanent WeCom error, its retry time then set from
    // the failure) or after a day of retries: those whose last attempt or creation is within 24 h.
    const since = new Date(now - DAY_MS);
    const failedLast24h = await s.db.outboxMessage.count({
      where: { state: 'failed', OR: [{ nextAttemptAt: { gte: since } }, { createdAt: { gte: since } }] },
    });
    out.outbox = {
      pending: open.reduce((n, r) => n + r._count._all, 0),
      oldestPendingSeconds: open.length ? age(new Date(oldest)) : null,
      byChannel,
      failedLast24h,
    };
  }

  const check: HealthCheck = {
    role,
    downFor: (fromMs) => Math.max(0, now - Math.max(fromMs, s.startedAt)),
    maxDownMs,
    scrub,
  };
  for (const c of s.channels) {
    const health = c.health?.(check);
    if (!health) continue;
    out.channels[c.name] = health.state;
    if (health.problem) problems.push(health.problem);
  }

  const sweep = s.lastSweep();
  out.lastReminderSweep = sweep && {
    at: sweep.at.toISOString(),
    durationMs: sweep.ms,
    ok: sweep.ok,
    ...(sweep.queued !== undefined ? { queued: sweep.queued } : {}),
    ...(sweep.error ? { error: scrub(sweep.error).slice(0, 200) } : {}),
  };
  out.ready = problems.length === 0;
  return out;
}
