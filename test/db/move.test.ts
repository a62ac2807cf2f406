import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, sqlitePath } from '../../src/db/client.ts';
import { DATA_VERSION_TABLE } from '../../src/db/versions.ts';
import { coverageBySector } from '../../src/domain/coverage.ts';
import { MoveError, moveToPostgres } from '../../src/domain/move.ts';
import { translator } from '../../src/i18n.ts';
import { emptyDatabase, NO_POSTGRES, NOW, TEST_POSTGRES_URL, testDb, TZ, type TestDb } from '../support/db.ts';

// `anze move-to-postgres`: the demo county's SQLite file into a fresh PostgreSQL database. The test
// picks both databases itself (SQLite source, PostgreSQL target), so it runs once, in the vitest
// project "sqlite", and needs TEST_POSTGRES_URL (skipped without it; under CI=true, a failure).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY = '2026-11-29';
const en = translator('en', 'terminal');

if (!TEST_POSTGRES_URL) console.warn(`⚠️  ${NO_POSTGRES}`);

describe.runIf(!TEST_POSTGRES_URL && process.env.CI === 'true')('CI', () => {
  it('has a PostgreSQL server for the move to PostgreSQL (.ci/run starts one)', () => {
    throw new Error(NO_POSTGRES);
  });
});

/** Rows per table, the id sequences' positions and the campaigns of a PostgreSQL database: all a move could change. */
async function snapshot(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (
      await c.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT IN ('_prisma_migrations', '${DATA_VERSION_TABLE}') ORDER BY 1`,
      )
    ).rows.map((r) => r.table_name);
    const rows: Record<string, number> = {};
    for (const t of tables)
      rows[t] = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}"`)).rows[0]!.n;
    const sequences = (
      await c.query(`SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`)
    ).rows;
    const campaigns = (await c.query(`SELECT id, "countyCode" FROM "Campaign" ORDER BY id`)).rows;
    return { rows, sequences, campaigns };
  } finally {
    await c.end();
  }
}

describe.skipIf(!TEST_POSTGRES_URL)('moving a county from SQLite to PostgreSQL', () => {
  let source: TestDb;
  let file: string;
  let sourceRows: Record<string, number>;
  const drops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    source = await testDb({ demo: true, provider: 'sqlite' });
    file = sqlitePath(source.url);
    // What a copy could get wrong: a policy renewing one with a higher id (a forward self-reference),
    // an audit event with JSON text, a lease (a text key, no sequence).
    const [first, last] = await Promise.all([
      source.db.policy.findFirstOrThrow({ orderBy: { id: 'asc' } }),
      source.db.policy.findFirstOrThrow({ orderBy: { id: 'desc' } }),
    ]);
    await source.db.policy.update({ where: { id: first.id }, data: { renewsPolicyId: last.id } });
    await source.db.auditEvent.create({
      data: { at: new Date(NOW), channel: 'cli', action: 'test', outcome: 'ok', detail: '{"note":"引号\\"与换行\\n"}' },
    });
    await source.db.lease.create({
      data: { name: 'leader', holder: 'a', token: 7, expiresAt: new Date(NOW), renewedAt: new Date(NOW) },
    });
    const raw = new Database(file, { readonly: true });
    const names = raw
      .prepare(
        // The write counts are each database's own, never copied (src/db/versions.ts).
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT IN ('_prisma_migrations', '${DATA_VERSION_TABLE}')`,
      )
      .pluck()
      .all() as string[];
    sourceRows = Object.fromEntries(
      names.map((n) => [n, raw.prepare(`SELECT count(*) FROM "${n}"`).pluck().get() as number]),
    );
    raw.close();
  });

  afterAll(async () => {
    for (const drop of drops) await drop();
    await source?.close();
  });

  const target = async () => {
    const t = await emptyDatabase('postgresql');
    drops.push(t.drop);
    return t.url;
  };

  let moved: string;

  it('copies every table in batches; counts, figures, ids and sequences match', async () => {
    moved = await target();
    // Few bound values per INSERT, so every table of any size takes several batches.
    const report = await moveToPostgres(file, moved, { clock: source.clock, timeZone: TZ, t: en, maxBoundValues: 60 });

    expect(Object.keys(sourceRows).length).toBeGreaterThan(20);
    expect(Object.fromEntries(report.tables.map((t) => [t.name, t.rows]))).toEqual(sourceRows);
    expect(report.rows).toBe(Object.values(sourceRows).reduce((a, b) => a + b, 0));
    expect(report.batches).toBeGreaterThan(report.tables.length + sourceRows.Policy! / 5);
    expect(report.day).toBe(DAY);
    expect(report.campaigns).toEqual([{ countyCode: '430923', countyName: '安化县', sectors: expect.any(Number) }]);

    const after = await snapshot(moved);
    expect(after.rows).toEqual(sourceRows);

    const db = await connectDatabase(moved);
    try {
      const now = source.clock.now();
      const figures = await coverageBySector(db, source.campaignId, DAY, now);
      expect(figures.length).toBeGreaterThan(5);
      expect(figures.some((r) => r.insured > 0)).toBe(true);
      expect(figures).toEqual(await coverageBySector(source.db, source.campaignId, DAY, now));

      // Rows are the same rows: ids, the forward self-reference, booleans, instants, text.
      const order = { orderBy: { id: 'asc' as const } };
      expect(await db.policy.findMany(order)).toEqual(await source.db.policy.findMany(order));
      expect(await db.sector.findMany(order)).toEqual(await source.db.sector.findMany(order));
      expect(await db.member.findMany(order)).toEqual(await source.db.member.findMany(order));
      expect(await db.auditEvent.findMany(order)).toEqual(await source.db.auditEvent.findMany(order));
      expect(await db.lease.findMany()).toEqual(await source.db.lease.findMany());

      // The sequences continue after the copied ids.
      const maxId = (await source.db.auditEvent.findFirstOrThrow({ orderBy: { id: 'desc' } })).id;
      const next = await db.auditEvent.create({
        data: { at: new Date(NOW), channel: 'cli', action: 'after', outcome: 'ok' },
      });
      expect(next.id).toBe(maxId + 1);
      await db.auditEvent.delete({ where: { id: next.id } });
    } finally {
      await db.$disconnect();
    }
  });

  it('refuses a second move of the county and writes nothing', async () => {
    const before = await snapshot(moved);
    const error = await moveToPostgres(file, moved, { clock: source.clock, timeZone: TZ, t: en }).catch((e) => e);
    expect(error).toBeInstanceOf(MoveError);
    expect(error.message).toMatch(/already holds 安化县（430923）: refused, nothing was written/);
    expect(await snapshot(moved)).toEqual(before);
  });

  it('says so from the command line in the operator language, exit 1, password hidden', async () => {
    const url = new URL(moved);
    const run = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/move-to-postgres.ts'), file, url.toString()],
      { cwd: ROOT, env: { ...process.env, BOT_LOCALE: 'zh-CN' } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/已有 安化县（430923） 的数据：拒绝迁移，未写入任何数据。$/)]);
    expect(run.stderr).toContain(`${url.username}:***@`);
    expect(run.stderr).not.toContain(`:${url.password}@`);
  });

  it('leaves the target unchanged when a row conflicts half-way', async () => {
    const url = await target();
    // A migrated target where one of the demo members' userids is taken already (Member is copied
    // after campaigns, units, sectors, enterprises and policies).
    await (await connectDatabase(url)).$disconnect();
    const userId = (await source.db.member.findFirstOrThrow({ orderBy: { id: 'asc' } })).userId;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(
      `INSERT INTO "Member" (id, "userId", name, roles, "updatedAt") VALUES (9000, $1, '占位', 'viewer', now())`,
      [userId],
    );
    await c.end();
    const before = await snapshot(url);
    expect(before.rows.Member).toBe(1);

    const error = await moveToPostgres(file, url, { clock: source.clock, timeZone: TZ, t: en }).catch((e) => e);
    expect(error).toBeInstanceOf(MoveError);
    expect(error.message).toMatch(
      /^Rows of Member collide with rows the target holds already \(duplicate key .*"Member_userId_key"\).*nothing was written\.$/,
    );
    expect(error.message).not.toContain('\n');
    expect(await snapshot(url)).toEqual(before);
  });
});
