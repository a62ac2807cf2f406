// /readyz: whether this instance can do its work, and what an operator looks at first when it
// cannot. Nothing secret is in it: states, counts, times and WeCom's error messages.
import { readdirSync } from 'node:fs';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { providerOfClient } from '../db/dialect.ts';
import { MIGRATIONS_DIR, POSTGRES_MIGRATIONS_DIR } from '../db/migrate.ts';
import { configSecrets, redactor } from '../log.ts';
import type { AppApi } from '../wecom/api.ts';
import type { LongConnection } from '../wecom/longconn.ts';
import type { Sweep } from './telemetry.ts';

export interface ReadinessSources {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'bot' | 'app' | 'botLongConn' | 'sandbox' | 'readyMaxDownSeconds'> & Partial<Config>;
  role: () => 'leader' | 'follower';
  longConn?: LongConnection;
  app?: AppApi;
  lastSweep: () => Sweep | null;
  /** When this process started serving: a channel is not "down" for longer than the process has been up. */
  startedAt: number;
}

export interface ChannelState {
  /** up, down, or standby (a follower leaves the long connection to the leader). */
  status: 'up' | 'down' | 'standby' | 'unknown';
  state?: string;
  since?: string;
  downSeconds?: number;
  [k: string]: unknown;
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

  const iso = (ms: number) => new Date(ms).toISOString();
  const downFor = (fromMs: number) => Math.max(0, now - Math.max(fromMs, s.startedAt));

  if (s.config.sandbox) out.channels.sandbox = { status: 'up', state: 'printing' };
  if (s.config.bot) out.channels.bot = { status: 'up', state: 'callback' };
  if (s.config.botLongConn && s.longConn) {
    const c = s.longConn;
    const base = {
      state: c.state,
      since: iso(c.since),
      reconnects: c.reconnects,
      lastSubscribedAt: c.lastSubscribedAt === null ? null : iso(c.lastSubscribedAt),
    };
    if (role === 'follower' && (c.state === 'idle' || c.state === 'stopped'))
      out.channels.longconn = { status: 'standby', ...base };
    else if (c.state === 'subscribed') out.channels.longconn = { status: 'up', ...base };
    else {
      const down = downFor(c.downSince ?? c.since);
      out.channels.longconn = { status: 'down', ...base, downSeconds: Math.round(down / 1000) };
      if (down >= maxDownMs) problems.push(`long connection ${c.state} for ${Math.round(down / 1000)} s`);
    }
  }
  if (s.config.app) {
    const f = s.app?.lastTokenFetch ?? null;
    const lastTokenFetch = f && {
      at: iso(f.at),
      ok: f.ok,
      ...(f.error ? { error: scrub(f.error).slice(0, 200) } : {}),
    };
    if (!f) out.channels.app = { status: 'unknown', lastTokenFetch: null };
    else if (f.ok) out.channels.app = { status: 'up', lastTokenFetch };
    else {
      const down = downFor(f.failingSince ?? f.at);
      out.channels.app = { status: 'down', lastTokenFetch, downSeconds: Math.round(down / 1000) };
      if (down >= maxDownMs) problems.push(`self-built app: access token failing for ${Math.round(down / 1000)} s`);
    }
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
