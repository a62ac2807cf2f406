import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Db, Tx } from './client.ts';

/** How long a lease lasts without renewal: a dead leader's successor takes over within this and one renewal period. */
export const LEASE_TTL_MS = 20_000;

/** What a leader does while it leads: started on gaining the lease, stopped on losing it. */
export interface Duties {
  gain(token: number): Promise<void> | void;
  lose(): Promise<void> | void;
}

export interface LeaseOptions {
  db: Db;
  clock: Clock;
  name?: string;
  ttlMs?: number;
  log?: (m: string) => void;
}

// This process's holders until released, so a lease held by another instance in the same process is not taken for a dead predecessor's.
const live = new Set<string>();

/**
 * A lease in the database that one instance among the replicas holds at a time (the `Lease` table).
 * The holder renews it every quarter of its time; once it has expired anyone may take it, and each
 * new holder gets a larger fencing token. `token()` is null in the last quarter of the lease, so a
 * holder that missed its renewals stops acting before anyone else can start; and work is claimed
 * only together with a check that the token is still the lease's (`fenced`), so a leader that
 * wakes from a pause after a takeover cannot claim anything.
 *
 * A lease left by a process that was on this host with this same pid is taken at once: that
 * process is dead (its pid is ours now), so a single instance restarted after a crash does not
 * wait for its own old lease to run out.
 */
export class Lease {
  readonly name: string;
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly ttlMs: number;
  private held: { token: number; expiresAt: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private watching = false;
  /** The token this instance's duties were started under; null while they are stopped. */
  private leadingUnder: number | null = null;
  private duties: Duties | null = null;
  private ticking: Promise<void> = Promise.resolve();
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly o: LeaseOptions) {
    this.name = o.name ?? 'leader';
    this.ttlMs = o.ttlMs ?? LEASE_TTL_MS;
    live.add(this.holder);
  }

  /** The fencing token while this instance holds the lease with a quarter of it left; null otherwise. */
  token(): number | null {
    if (!this.held) return null;
    return this.o.clock.now().getTime() < this.held.expiresAt - this.ttlMs / 4 ? this.held.token : null;
  }

  /** One attempt to renew the lease, or to take it when it is free; whether this instance holds it after. */
  async acquire(): Promise<boolean> {
    const { db, clock } = this.o;
    const now = clock.now();
    const until = new Date(now.getTime() + this.ttlMs);
    const where = { name: this.name };
    if (this.held) {
      const renewed = await db.lease.updateMany({
        where: { ...where, holder: this.holder, token: this.held.token, expiresAt: { gt: now } },
        data: { expiresAt: until, renewedAt: now },
      });
      this.held = renewed.count === 1 ? { token: this.held.token, expiresAt: until.getTime() } : null;
      if (this.held) return true;
    }
    const current = await db.lease.findUnique({ where });
    if (!current) {
      try {
        await db.lease.create({ data: { ...where, holder: this.holder, token: 1, expiresAt: until, renewedAt: now } });
      } catch (e) {
        if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return false;
        throw e;
      }
      this.held = { token: 1, expiresAt: until.getTime() };
      return true;
    }
    if (current.expiresAt > now && !this.predecessor(current.holder)) return false;
    // Conditional on the row being as read: of two instances taking it at once, one wins.
    const taken = await db.lease.updateMany({
      where: { ...where, holder: current.holder, token: current.token },
      data: { holder: this.holder, token: current.token + 1, expiresAt: until, renewedAt: now },
    });
    if (taken.count === 0) return false;
    this.held = { token: current.token + 1, expiresAt: until.getTime() };
    return true;
  }

  /**
   * Runs `claim` in a transaction only while the lease is still this instance's under `token`: the
   * lease row is written first, which on PostgreSQL holds its lock to the commit, so a successor's
   * takeover either waits for the claim or the claim sees the new token and does nothing.
   */
  async fenced<T>(token: number, claim: (tx: Tx) => Promise<T>): Promise<T | null> {
    const now = this.o.clock.now();
    return this.o.db.$transaction(async (tx) => {
      const held = await tx.lease.updateMany({
        where: { name: this.name, holder: this.holder, token, expiresAt: { gt: now } },
        data: { holder: this.holder },
      });
      return held.count === 1 ? claim(tx) : null;
    });
  }

  /**
   * Keeps trying to hold the lease, every quarter of its time: `duties.gain` when this instance
   * becomes the leader, `duties.lose` when it stops being one (a renewal failed, or the database
   * could not be reached for too long). The duties run apart from the renewals, one change at a
   * time, so a long start of the duties never lets the lease lapse. Resolves once the first
   * attempt and what it started are done.
   */
  async watch(duties: Duties): Promise<void> {
    this.duties = duties;
    this.watching = true;
    const loop = () => {
      this.ticking = this.step().finally(() => {
        if (this.watching) this.timer = setTimeout(loop, this.ttlMs / 4);
      });
    };
    loop();
    await this.ticking;
    await this.changes;
  }

  /** Stops the duties and the watch and, when held, gives the lease up at once so a successor need not wait for it to expire. */
  async release(): Promise<void> {
    this.watching = false;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    live.delete(this.holder);
    if (this.leadingUnder !== null) this.change(null);
    await this.changes;
    if (!this.held) return;
    const now = this.o.clock.now();
    await this.o.db.lease.updateMany({
      where: { name: this.name, holder: this.holder, token: this.held.token },
      data: { expiresAt: now, renewedAt: now },
    });
    this.held = null;
  }

  private async step(): Promise<void> {
    try {
      await this.acquire();
    } catch (e) {
      this.o.log?.(`lease ${this.name}: ${(e as Error).message}`);
    }
    const token = this.token();
    if (token === this.leadingUnder) return;
    // A new token while leading means the lease lapsed and was taken again, perhaps after another
    // leader came and went: the duties start over, so what that one left (mid-send) is recovered.
    if (this.leadingUnder !== null) this.change(null);
    if (token !== null) this.change(token);
  }

  private change(token: number | null): void {
    this.leadingUnder = token;
    this.o.log?.(
      token !== null
        ? `lease ${this.name}: leading as ${this.holder} (token ${token})`
        : `lease ${this.name}: no longer leading`,
    );
    const duties = this.duties!;
    this.changes = this.changes
      .then(() => (token !== null ? duties.gain(token) : duties.lose()))
      .catch((e) =>
        this.o.log?.(
          `lease ${this.name}: ${token !== null ? 'starting' : 'stopping'} the leader's work failed: ${(e as Error).message}`,
        ),
      );
  }

  /** Whether `holder` was an earlier process with this host and pid (so now dead), not one alive in this process. */
  private predecessor(holder: string): boolean {
    return holder.startsWith(`${hostname()}:${process.pid}:`) && !live.has(holder);
  }
}
