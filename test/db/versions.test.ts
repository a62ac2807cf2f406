import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { connectDatabase, sqlitePath } from '../../src/db/client.ts';
import { dataVersion, VERSIONED_TABLES } from '../../src/db/versions.ts';
import { coverageView } from '../../src/domain/coverage.ts';
import { WorkCalendar } from '../../src/domain/calendar.ts';
import { readLedgerFile } from '../../src/domain/ledger-file.ts';
import { importLedger } from '../../src/domain/ledger-import.ts';
import { translator } from '../../src/i18n.ts';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { bindPoliceLiaison, testBot, TZ, type TestDb } from '../support/db.ts';

// The ledger's figures are kept between replies while the ledger's tables are not written
// (src/db/versions.ts). Every kind of writer must make the next reply fresh: each case writes, then
// checks /覆盖率 and /排名 through the long-lived bus (its memo warm) against the same commands
// through a client opened afresh on the same database (no memo), and that the figures changed.

let t: TestDb;
let bus: Bus;
let registry: Registry;
const TODAY = '2026-11-29';
const say = (b: Bus, userId: string, text: string) => b.handle({ channel: 'sandbox', userId, chatId: null, text });
/** The figures' lines of /覆盖率 (by sector and by township) and /排名. */
const figures = async (b: Bus) =>
  [
    (await say(b, 'demo-leader', '/覆盖率')).text,
    (await say(b, 'demo-leader', '/覆盖率 乡镇')).text,
    (await say(b, 'demo-leader', '/排名')).text,
  ].join('\n');

/** The same replies from a client with nothing kept. */
async function fresh(): Promise<string> {
  const db = await connectDatabase(t.url);
  try {
    return await figures(new Bus({ db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry }));
  } finally {
    await db.$disconnect();
  }
}

/** Runs a write, then expects the warm bus's figures to have changed and to be a fresh client's. */
async function freshAfter(write: () => Promise<unknown>): Promise<void> {
  const before = await figures(bus);
  await write();
  const after = await figures(bus);
  expect(after).not.toBe(before);
  expect(after).toBe(await fresh());
}

/** One statement on a connection of its own, as another process (npm run chat, an import, psql) writes. */
async function elsewhere(sql: string): Promise<void> {
  if (t.provider === 'sqlite') {
    const raw = new Database(sqlitePath(t.url));
    try {
      raw.exec(sql);
    } finally {
      raw.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** An operating high-risk enterprise with no policy. */
const uninsured = () =>
  t.db.enterprise.findFirstOrThrow({
    where: { status: 'operating', sector: { highRisk: true }, policies: { none: {} } },
    orderBy: { id: 'asc' },
  });

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  registry = await Registry.load();
});
afterAll(() => t.close());

describe('the memo of the ledger’s figures', () => {
  it('has a trigger on every versioned table for each kind of write', async () => {
    const triggers =
      t.provider === 'sqlite'
        ? await t.db.$queryRaw<{ name: string }[]>`SELECT name FROM sqlite_master WHERE type = 'trigger'`
        : await t.db.$queryRaw<{ name: string }[]>`
            SELECT tgname || '_' || lower(e.event) AS name
            FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid,
              LATERAL (VALUES ('insert', 4), ('update', 16), ('delete', 8)) AS e(event, bit)
            WHERE NOT g.tgisinternal AND g.tgtype & e.bit <> 0`;
    const names = triggers.map((x) => x.name).map((n) => n.replace(/_version_/, '_'));
    for (const table of VERSIONED_TABLES)
      for (const write of ['insert', 'update', 'delete']) expect(names).toContain(`${table}_${write}`);
  });

  it('counts a write in the writer’s transaction: rolled back, it leaves the version as it was', async () => {
    const e = await uninsured();
    const before = await dataVersion(t.db, VERSIONED_TABLES);
    await expect(
      t.db.$transaction(async (tx) => {
        await tx.enterprise.update({ where: { id: e.id }, data: { employees: e.employees + 1 } });
        expect(await dataVersion(tx, ['Enterprise'])).not.toBe(before.split(' ')[0]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await dataVersion(t.db, VERSIONED_TABLES)).toBe(before);
  });

  it('outside a transaction, never reads another one still open: it waits, and sees the rollback', async () => {
    // On SQLite the versions are read on the connection itself (src/db/versions.ts), which an open
    // transaction shares: a read made then would count that transaction's writes before they are kept.
    const e = await uninsured();
    const before = await dataVersion(t.db, VERSIONED_TABLES);
    let wrote!: () => void;
    let end!: () => void;
    const written = new Promise<void>((r) => (wrote = r));
    const ending = new Promise<void>((r) => (end = r));
    const open = t.db.$transaction(async (tx) => {
      await tx.enterprise.update({ where: { id: e.id }, data: { employees: e.employees + 1 } });
      wrote();
      await ending;
      throw new Error('rolled back');
    });
    await written;
    const read = dataVersion(t.db, VERSIONED_TABLES);
    end();
    await expect(open).rejects.toThrow('rolled back');
    expect(await read).toBe(before);
  });

  it('keeps nothing read inside a transaction: rolled back, its version number is taken by another write', async () => {
    const [a, b] = await t.db.enterprise.findMany({
      where: { status: 'operating', sector: { highRisk: true } },
      orderBy: { id: 'asc' },
      take: 2,
    });
    const byTownship = (db: Parameters<typeof coverageView>[0]) =>
      coverageView(db, t.campaignId, { by: 'township' }, TODAY, t.clock.now()).then((v) => JSON.stringify(v.rows));
    const before = await byTownship(t.db);
    // Inside: its own write is seen (the version it reads counts it), and the result is not kept.
    await expect(
      t.db.$transaction(async (tx) => {
        await tx.enterprise.update({ where: { id: a!.id }, data: { status: 'closed' } });
        expect(await byTownship(tx)).not.toBe(before);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await byTownship(t.db)).toBe(before);
    // Another write now takes the version number the rolled-back one had: the reply is its own.
    await t.db.enterprise.update({ where: { id: b!.id }, data: { employees: { increment: 1000 } } });
    const after = await byTownship(t.db);
    expect(after).not.toBe(before);
    const db = await connectDatabase(t.url);
    try {
      expect(after).toBe(await byTownship(db));
    } finally {
      await db.$disconnect();
    }
  });

  it('keeps a member and its campaign, read by every message, only until another process writes them', async () => {
    const coverage = () => say(bus, 'demo-leader', '/覆盖率');
    const { countyName } = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
    expect((await coverage()).outcome).toBe('ok');
    await elsewhere(`UPDATE "Member" SET active = false WHERE "userId" = 'demo-leader'`);
    expect((await coverage()).outcome).toBe('denied');
    await elsewhere(`UPDATE "Member" SET active = true WHERE "userId" = 'demo-leader'`);
    expect((await coverage()).text).toContain(countyName);
    await elsewhere(`UPDATE "Campaign" SET "countyName" = '测试县' WHERE id = ${t.campaignId}`);
    expect((await coverage()).text).toContain('测试县');
    await elsewhere(`UPDATE "Campaign" SET "countyName" = '${countyName}' WHERE id = ${t.campaignId}`);
    expect((await coverage()).text).toContain(countyName);
  });

  it('a command that writes (/投保 through the bus), then /撤销, each makes the next reply fresh', async () => {
    const e = await uninsured();
    await freshAfter(async () => {
      const out = await say(bus, 'demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-V-0001 ${TODAY} 2027-11-28`);
      expect(out.outcome).toBe('ok');
    });
    await freshAfter(async () => expect((await say(bus, 'demo-insurer-pingan', '/撤销')).outcome).toBe('ok'));
  });

  it('a progress report (/上报, where the ledger has nothing) makes the next reply fresh', async () => {
    await bindPoliceLiaison(t.db);
    await freshAfter(async () => expect((await say(bus, 'liaison-gaj', '/上报 民爆 4/4')).outcome).toBe('ok'));
    expect((await say(bus, 'demo-leader', '/覆盖率')).text).toMatch(/民用爆炸物品\s+4\/4 家/);
  });

  it('an import of the roster makes the next reply fresh', async () => {
    await freshAfter(async () => {
      const file = 'prisma/samples/roster.csv';
      const report = await importLedger(t.db, 'roster', await readLedgerFile(file, translator('zh-CN')), {
        campaignId: t.campaignId,
        day: TODAY,
        timeZone: TZ,
        now: t.clock.now(),
        t: translator('zh-CN'),
        source: file,
      });
      expect(report.added).toBeGreaterThan(0);
    });
  });

  it('another process’s write (a statement on its own connection) makes the next reply fresh', async () => {
    const e = await uninsured();
    await freshAfter(() => elsewhere(`UPDATE "Enterprise" SET status = 'closed' WHERE id = ${e.id}`));
  });

  it('a client used again after $disconnect reads the versions anew (on PostgreSQL its own pool is closed by then)', async () => {
    const db = await connectDatabase(t.url);
    try {
      const again = new Bus({ db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry });
      const before = await figures(again);
      await db.$disconnect();
      const e = await uninsured();
      await elsewhere(`UPDATE "Enterprise" SET status = 'closed' WHERE id = ${e.id}`);
      const after = await figures(again);
      expect(after).not.toBe(before);
      expect(after).toBe(await fresh());
    } finally {
      await db.$disconnect();
    }
  });

  it('is what the replies read: a write that bypasses the counts is not seen until the scheduler’s nightly rebuild writes', async () => {
    if (t.provider !== 'sqlite') return; // the bypass drops SQLite's triggers for one transaction
    const e = await t.db.enterprise.findFirstOrThrow({
      where: { status: 'operating', sector: { highRisk: true }, coverHeadcount: { not: null } },
      orderBy: { id: 'asc' },
    });
    const before = await figures(bus);
    // A writer from before the triggers: closes an insured enterprise and leaves its kept cover wrong.
    const raw = new Database(sqlitePath(t.url));
    try {
      const triggers = raw
        .prepare(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'Enterprise'`)
        .pluck()
        .all() as string[];
      raw.transaction(() => {
        for (const name of ['insert', 'update', 'delete']) raw.exec(`DROP TRIGGER "Enterprise_version_${name}"`);
        raw.exec(
          `UPDATE "Enterprise" SET status = 'closed', "coverHeadcount" = NULL, "coverFrom" = NULL WHERE id = ${e.id}`,
        );
        for (const sql of triggers) raw.exec(sql);
      })();
    } finally {
      raw.close();
    }
    // Only the kept figures stay as they were (/排名's inspection progress is counted afresh each time).
    const kept = (text: string) => text.split('\n四、')[0];
    expect(kept(await figures(bus))).toBe(kept(before));
    expect(kept(await fresh())).not.toBe(kept(before));
    // The nightly rebuild repairs the kept cover: a write like any other.
    const scheduler = new Scheduler({
      db: t.db,
      clock: t.clock,
      timeZone: TZ,
      locale: 'zh-CN',
      calendar: new WorkCalendar(),
    });
    expect(await scheduler.rollCover(true)).toBeGreaterThan(0);
    expect(await figures(bus)).toBe(await fresh());
  });
});
