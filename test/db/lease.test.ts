// The leader lease and its fencing token, and the dispatcher's claims under it, with two instances
// (two connections) on one database in one process. Runs on SQLite and, in the "postgres" project,
// on PostgreSQL; test/db/replicas.test.ts has replicas as processes, on PostgreSQL.
import { hostname } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import { connectDatabase, type Db } from '../../src/db/client.ts';
import { Lease, LEASE_TTL_MS } from '../../src/db/lease.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { webhookMarkdown, wecomWire } from '../../src/wecom/messages.ts';
import { sendWebhook } from '../../src/wecom/api.ts';
import { NOW, testDb, type TestDb } from '../support/db.ts';
import { FakeWeComApi } from '../support/fake-wecom.ts';
import { until } from '../support/service.ts';

let t: TestDb;
let other: Db; // a second instance's own connection to the same database
let api: FakeWeComApi;
let base: string;

beforeAll(async () => {
  t = await testDb();
  other = await connectDatabase(t.url);
  api = new FakeWeComApi('ww-corp', 'secret');
  base = await api.start();
  api.webhooks.add('lease-hook');
});
afterAll(async () => {
  await api?.stop();
  await other?.$disconnect();
  await t?.close();
});
beforeEach(async () => {
  await t.db.lease.deleteMany();
  await t.db.outboxMessage.deleteMany();
  api.delivered.length = 0;
});

const at = (ms: number) => fixedClock(new Date(new Date(NOW).getTime() + ms));

describe('the leader lease', () => {
  it('has one holder; another takes it only once it expired, with a larger token', async () => {
    const aClock = at(0);
    const bClock = at(1_000);
    const a = new Lease({ db: t.db, clock: aClock });
    const b = new Lease({ db: other, clock: bClock });
    expect(await a.acquire()).toBe(true);
    expect(a.token()).toBe(1);
    expect(await b.acquire()).toBe(false);
    expect(b.token()).toBeNull();

    // A renews on time, then stops; B asks just before the renewed lease runs out, then just after.
    aClock.set(at(10_000).now());
    expect(await a.acquire()).toBe(true);
    bClock.set(at(10_000 + LEASE_TTL_MS - 1).now());
    expect(await b.acquire()).toBe(false);
    bClock.advance(1);
    expect(await b.acquire()).toBe(true);
    expect(b.token()).toBe(2);
    expect(await t.db.lease.findUniqueOrThrow({ where: { name: 'leader' } })).toMatchObject({
      holder: b.holder,
      token: 2,
    });
    // A, late, can neither renew nor take it back.
    aClock.set(bClock.now());
    expect(await a.acquire()).toBe(false);
    expect(a.token()).toBeNull();
  });

  it('stops acting in the last quarter of its lease, before anyone else may start', async () => {
    const clock = at(0);
    const a = new Lease({ db: t.db, clock });
    await a.acquire();
    clock.advance(LEASE_TTL_MS * 0.75 - 1);
    expect(a.token()).toBe(1);
    clock.advance(1);
    expect(a.token()).toBeNull();
  });

  it('gives exactly one of many simultaneous contenders an expired lease', async () => {
    const first = new Lease({ db: t.db, clock: at(0) });
    await first.acquire();
    const later = at(LEASE_TTL_MS + 1);
    const contenders = Array.from({ length: 6 }, (_, i) => new Lease({ db: i % 2 ? other : t.db, clock: later }));
    const won = await Promise.all(contenders.map((c) => c.acquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
    const row = await t.db.lease.findUniqueOrThrow({ where: { name: 'leader' } });
    expect(row).toMatchObject({ holder: contenders[won.indexOf(true)]!.holder, token: 2 });
  });

  it('is handed over at once when its holder releases it', async () => {
    const clock = at(0);
    const a = new Lease({ db: t.db, clock });
    const b = new Lease({ db: other, clock });
    await a.acquire();
    await a.release();
    expect(await b.acquire()).toBe(true);
    expect(b.token()).toBe(2);
  });

  it('takes a lease left by a dead process of this host and pid at once, not one held by a live instance here', async () => {
    const clock = at(0);
    await t.db.lease.create({
      data: {
        name: 'leader',
        holder: `${hostname()}:${process.pid}:dead0000`,
        token: 7,
        expiresAt: at(LEASE_TTL_MS).now(),
        renewedAt: clock.now(),
      },
    });
    const a = new Lease({ db: t.db, clock });
    expect(await a.acquire()).toBe(true);
    expect(a.token()).toBe(8);

    // A watched lease of this process is alive: another instance here waits for it.
    await t.db.lease.deleteMany();
    const b = new Lease({ db: t.db, clock });
    const c = new Lease({ db: other, clock });
    await b.watch({ gain: () => {}, lose: () => {} });
    expect(await c.acquire()).toBe(false);
    await b.release();
  });

  it('starts the duties on gaining the lease and stops them when a successor took it', async () => {
    const clock = at(0);
    const events: string[] = [];
    const a = new Lease({ db: t.db, clock, ttlMs: 400 }); // renews every 100 ms (real time)
    await a.watch({ gain: (token) => void events.push(`gain ${token}`), lose: () => void events.push('lose') });
    expect(events).toEqual(['gain 1']);
    // A successor took over (as after a pause longer than the lease): A notices at its next renewal.
    await other.lease.update({ where: { name: 'leader' }, data: { holder: 'elsewhere', token: 2 } });
    await until(() => events.length >= 2, 'A to notice at its next renewal');
    expect(events).toEqual(['gain 1', 'lose']);
    await a.release();
    expect(events).toEqual(['gain 1', 'lose']);
  });
  it('starts the duties over when it takes the lease again after another leader came and went', async () => {
    const clock = at(0);
    const events: string[] = [];
    const a = new Lease({ db: t.db, clock, ttlMs: 400 });
    await a.watch({ gain: (token) => void events.push(`gain ${token}`), lose: () => void events.push('lose') });
    // Between two of A's renewals another instance took the lease (token 2) and let it expire.
    await other.lease.update({
      where: { name: 'leader' },
      data: { holder: 'elsewhere', token: 2, expiresAt: clock.now() },
    });
    await until(() => events.length >= 3, 'A to notice, and take the lease again');
    expect(events).toEqual(['gain 1', 'lose', 'gain 3']);
    await a.release();
  });
});

describe('the dispatcher under the lease', () => {
  const sender = {
    webhook: async (row: { target: string; payload: string }) => (
      await sendWebhook(base, row.target, JSON.parse(row.payload)),
      'sent' as const
    ),
  };

  it('claims under the fencing token, and a leader that wakes from a pause after a takeover sends nothing', async () => {
    const aClock = at(0);
    const a = new Lease({ db: t.db, clock: aClock });
    await a.acquire();
    const dispatcherA = new Dispatcher({
      wire: wecomWire,
      db: t.db,
      clock: aClock,
      senders: sender,
      lease: a,
    });
    await enqueue(t.db, webhookMarkdown('lease-hook', 'first'), aClock);
    expect(await dispatcherA.drain()).toBe(1);
    expect(await t.db.outboxMessage.findFirstOrThrow()).toMatchObject({ state: 'sent', fence: 1 });

    // A freezes (its clock too: it still believes it leads); B takes the expired lease.
    const bClock = at(LEASE_TTL_MS + 1_000);
    const b = new Lease({ db: other, clock: bClock });
    expect(await b.acquire()).toBe(true);
    await enqueue(t.db, webhookMarkdown('lease-hook', 'second'), aClock);
    expect(a.token()).toBe(1);
    expect(await dispatcherA.drain()).toBe(0);
    expect(api.delivered.map((d) => (d.body.markdown as { content: string }).content)).toEqual(['first']);
    expect(await t.db.outboxMessage.findFirstOrThrow({ where: { payload: { contains: 'second' } } })).toMatchObject({
      state: 'pending',
      attempts: 0,
      fence: null,
    });

    const dispatcherB = new Dispatcher({
      wire: wecomWire,
      db: other,
      clock: bClock,
      senders: sender,
      lease: b,
    });
    expect(await dispatcherB.drain()).toBe(1);
    expect(await t.db.outboxMessage.findFirstOrThrow({ where: { payload: { contains: 'second' } } })).toMatchObject({
      state: 'sent',
      fence: 2,
    });
    expect(api.delivered).toHaveLength(2);
  });

  it('sends nothing without the lease', async () => {
    const clock = at(0);
    const holder = new Lease({ db: other, clock });
    await holder.acquire();
    const notLeader = new Lease({ db: t.db, clock });
    await notLeader.acquire();
    await enqueue(t.db, webhookMarkdown('lease-hook', 'x'), clock);
    expect(
      await new Dispatcher({
        wire: wecomWire,
        db: t.db,
        clock,
        senders: sender,
        lease: notLeader,
      }).drain(),
    ).toBe(0);
    expect(api.delivered).toEqual([]);
  });
});
