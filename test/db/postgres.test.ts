import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Inbox } from '../../src/bot/inbox.ts';
import { connectDatabase, type Db, type Provider } from '../../src/db/client.ts';
import { applyPostgresMigrations, POSTGRES_MIGRATIONS_DIR } from '../../src/db/migrate.ts';
import { findEnterprise } from '../../src/domain/directory.ts';
import { emptyDatabase, NO_POSTGRES, TEST_POSTGRES_URL, testDb } from '../support/db.ts';
import { until } from '../support/service.ts';

// PostgreSQL itself: the migration runner (Prisma's ledger, the advisory lock, all or nothing) and
// what a driver could make differ from SQLite. The integration suites run on PostgreSQL through the
// vitest project "postgres" (vitest.config.ts); this file is in that project only.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMMITTED = readdirSync(POSTGRES_MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

if (!TEST_POSTGRES_URL) console.warn(`⚠️  ${NO_POSTGRES}`);

describe.runIf(!TEST_POSTGRES_URL && process.env.CI === 'true')('CI', () => {
  it('has a PostgreSQL server for the integration tests (.ci/run starts one)', () => {
    throw new Error(NO_POSTGRES);
  });
});

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A fresh empty PostgreSQL database and `n` connected clients to it. */
async function emptyPostgres(n = 1) {
  const { url, dir, drop } = await emptyDatabase('postgresql');
  const clients = Array.from({ length: n }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  cleanup.push(async () => {
    await Promise.all(clients.map((c) => c.end()));
    await drop();
  });
  return { url, dir, clients };
}

const tables = async (c: pg.Client) =>
  (
    await c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    )
  ).rows.map((r) => r.table_name);

/** The unmodified Prisma CLI on DATABASE_URL, through the stand-in engine (prisma.config.ts picks prisma/postgres for a postgres URL). */
const prisma = (args: string[], url: string) =>
  promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/prisma/build/index.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: url, CHECKPOINT_DISABLE: '1' },
  });

describe.skipIf(!TEST_POSTGRES_URL)('the PostgreSQL migration runner', () => {
  it('applies the committed migrations once, as Prisma records them, when two instances start together', async () => {
    const {
      clients: [holder, a, b, reader],
    } = await emptyPostgres(4);
    // Someone (Prisma's engine, or a third instance) holds the migration lock: both wait for it.
    await holder!.query('BEGIN');
    await holder!.query('SELECT pg_advisory_xact_lock(72707369)');
    const at = new Date('2026-11-29T00:00:00.000Z');
    const runs = [
      applyPostgresMigrations(a!, POSTGRES_MIGRATIONS_DIR, () => at),
      applyPostgresMigrations(b!, POSTGRES_MIGRATIONS_DIR, () => at),
    ];
    // Both are waiting for the lock (PostgreSQL says so), and neither made anything before it.
    await until(async () => {
      const { rows } = await reader!.query(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369 AND NOT granted",
      );
      return (rows[0] as { n: number }).n === 2;
    }, 'both runners to wait for the migration lock');
    expect(await tables(reader!)).toEqual([]);
    await holder!.query('COMMIT');

    const results = await Promise.all(runs);
    expect(results).toContainEqual({ applied: COMMITTED, alreadyApplied: 0 });
    expect(results).toContainEqual({ applied: [], alreadyApplied: COMMITTED.length });
    const { rows } = await reader!.query('SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(rows).toEqual(
      COMMITTED.map((name) => ({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        checksum: createHash('sha256')
          .update(readFileSync(join(POSTGRES_MIGRATIONS_DIR, name, 'migration.sql')))
          .digest('hex'),
        finished_at: at,
        migration_name: name,
        logs: null,
        rolled_back_at: null,
        started_at: at,
        applied_steps_count: 1,
      })),
    );
    expect(await tables(reader!)).toContain('Enterprise');
  });

  it('leaves a database the real Prisma CLI accepts, and accepts one Prisma migrated', async () => {
    const [ours, theirs] = await Promise.all([emptyPostgres(), emptyPostgres()]);
    await applyPostgresMigrations(ours.clients[0]!, POSTGRES_MIGRATIONS_DIR);
    const [status] = await Promise.all([
      prisma(['migrate', 'status'], ours.url),
      prisma(['migrate', 'deploy'], theirs.url),
    ]);
    expect(status.stdout).toContain('Database schema is up to date!');

    expect(await applyPostgresMigrations(theirs.clients[0]!, POSTGRES_MIGRATIONS_DIR)).toEqual({
      applied: [],
      alreadyApplied: COMMITTED.length,
    });
    const ledger = (c: pg.Client) =>
      c
        .query(
          `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
        )
        .then((r) => r.rows);
    expect(await ledger(ours.clients[0]!)).toEqual(await ledger(theirs.clients[0]!));
  }, 120_000);

  it('applies all pending migrations or none', async () => {
    const {
      dir,
      clients: [c],
    } = await emptyPostgres();
    const migrations = join(dir, 'migrations');
    cpSync(join(POSTGRES_MIGRATIONS_DIR, COMMITTED[0]!), join(migrations, COMMITTED[0]!), { recursive: true });
    mkdirSync(join(migrations, '99990101000000_broken'));
    writeFileSync(
      join(migrations, '99990101000000_broken', 'migration.sql'),
      'CREATE TABLE "Ok" ("id" INTEGER);\nCREATE TABLE "Campaign" ("id" INTEGER);\n',
    );

    await expect(applyPostgresMigrations(c!, migrations)).rejects.toThrow(
      /Migration 99990101000000_broken failed: relation "Campaign" already exists/,
    );
    expect(await tables(c!)).toEqual([]);
  });

  it('refuses a database it did not make', async () => {
    const {
      clients: [c],
    } = await emptyPostgres();
    await c!.query('CREATE TABLE legacy (id INTEGER)');
    await expect(applyPostgresMigrations(c!, POSTGRES_MIGRATIONS_DIR)).rejects.toThrow(
      /has tables but no _prisma_migrations/,
    );
    expect(await tables(c!)).toEqual(['legacy']);
  });
});

describe.skipIf(!TEST_POSTGRES_URL)('the same answers as on SQLite', () => {
  const open: Db[] = [];
  afterAll(async () => {
    for (const db of open) await db.$disconnect();
  });

  it('stores instants as instants, whatever the server’s timezone', async () => {
    const {
      url,
      clients: [c],
    } = await emptyPostgres();
    const name = new URL(url).pathname.slice(1);
    await c!.query(`ALTER DATABASE ${name} SET timezone TO 'Asia/Shanghai'`);
    const db = await connectDatabase(url);
    open.push(db);
    const at = new Date('2026-11-29T00:30:00.000Z');
    const row = await db.auditEvent.create({ data: { at, channel: 'sandbox', action: 'test', outcome: 'ok' } });
    expect((await db.auditEvent.findUniqueOrThrow({ where: { id: row.id } })).at).toEqual(at);
    // A column's DEFAULT CURRENT_TIMESTAMP, as raw SQL would leave it, reads back as now, not 8 hours off.
    await db.$executeRaw`INSERT INTO "Campaign" (key, name, "docNumber", issuer, "issuedOn", "effectiveOn", "countyCode", "countyName", "updatedAt")
      VALUES ('k', 'n', 'd', 'i', '2026-01-01', '2026-01-01', '430923', '安化县', CURRENT_TIMESTAMP)`;
    const { createdAt } = await db.campaign.findUniqueOrThrow({ where: { key: 'k' } });
    expect(Math.abs(createdAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
  });

  it('takes a retried inbound message once, also when both copies arrive at once (the unique key, P2002)', async () => {
    const t = await testDb({ provider: 'postgresql' });
    cleanup.push(() => t.close());
    const inbox = new Inbox({ db: t.db, bus: undefined as never, clock: t.clock });
    const message = {
      dedupeKey: 'bot:msg-1',
      channel: 'sandbox' as const,
      userId: 'demo-leader',
      chatId: null,
      text: '/覆盖率',
      replyVia: 'passive' as const,
    };
    const both = await Promise.all([inbox.accept(message), inbox.accept(message)]);
    expect(both.map((r) => r.fresh).sort()).toEqual([false, true]);
    expect(both[0]!.row.id).toBe(both[1]!.row.id);
    expect((await inbox.accept(message)).fresh).toBe(false);
    expect(await t.db.inboundMessage.count()).toBe(1);
  });

  it('finds enterprises by part of a name ignoring the case of Latin letters, listed in the same order', async () => {
    const found = async (provider: Provider) => {
      const t = await testDb({ provider });
      cleanup.push(() => t.close());
      const [sector, township] = await Promise.all([
        t.db.sector.findFirstOrThrow({ where: { code: 'hazardous_chemicals' } }),
        t.db.unit.findFirstOrThrow({ where: { kind: 'township' } }),
      ]);
      const names = ['ABC化工有限公司', 'abd化工有限公司', 'Abz化工', '东坪ab化工', 'XYZ化工'];
      for (const [i, name] of names.entries()) {
        await t.db.enterprise.create({
          data: {
            countyCode: '430923',
            creditCode: `914309230000000${i}0X`,
            name,
            sectorId: sector.id,
            townshipId: township.id,
            employees: 5,
          },
        });
      }
      const pick = async (word: string) => {
        const r = await findEnterprise(t.db, '430923', word);
        return r.match ? [r.match.name] : r.candidates.map((e) => e.name);
      };
      return Promise.all(['ab', 'AB', 'abc', 'xyz', '东坪'].map(pick));
    };
    const [sqlite, postgres] = [await found('sqlite'), await found('postgresql')];
    expect(postgres).toEqual(sqlite);
    expect(sqlite).toEqual([
      ['ABC化工有限公司', 'Abz化工', 'abd化工有限公司', '东坪ab化工'],
      ['ABC化工有限公司', 'Abz化工', 'abd化工有限公司', '东坪ab化工'],
      ['ABC化工有限公司'],
      ['XYZ化工'],
      ['东坪ab化工'],
    ]);
  });
});
