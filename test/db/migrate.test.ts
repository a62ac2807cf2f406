import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, checksumMatches, MIGRATIONS_DIR } from '../../src/db/migrate.ts';
import { derivePostgres } from '../../prisma/engine/derive-postgres.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AT = new Date('2026-11-29T00:00:00.000Z');

const INIT = `-- CreateTable
CREATE TABLE "Township" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "Enterprise" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "townshipId" INTEGER NOT NULL,
    CONSTRAINT "Enterprise_townshipId_fkey" FOREIGN KEY ("townshipId") REFERENCES "Township" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
`;
const ADD_CODE = `-- AlterTable
ALTER TABLE "Enterprise" ADD COLUMN "creditCode" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Enterprise_creditCode_key" ON "Enterprise"("creditCode");
`;
// What `prisma migrate diff` writes on SQLite when a parent table must be rebuilt.
const REDEFINE_TOWNSHIP = `-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Township" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "code" TEXT NOT NULL DEFAULT ''
);
INSERT INTO "new_Township" ("id", "name") SELECT "id", "name" FROM "Township";
DROP TABLE "Township";
ALTER TABLE "new_Township" RENAME TO "Township";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
`;
const SCHEMA = `datasource db {
  provider = "sqlite"
}

model Township {
  id          Int          @id @default(autoincrement())
  name        String
  enterprises Enterprise[]
}

model Enterprise {
  id         Int      @id @default(autoincrement())
  name       String
  creditCode String?  @unique
  township   Township @relation(fields: [townshipId], references: [id], onDelete: Cascade)
  townshipId Int
}
`;

let dir: string;
let migrations: string;
const open: Database.Database[] = [];

function database(file = 'app.db'): Database.Database {
  const db = new Database(join(dir, file));
  open.push(db);
  return db;
}

function addMigration(name: string, sql: string) {
  mkdirSync(join(migrations, name), { recursive: true });
  writeFileSync(join(migrations, name, 'migration.sql'), sql);
}

/** The unmodified Prisma CLI on a project in `dir`, through the stand-in schema engine. */
function prisma(args: string[], file = 'app.db'): string {
  return execFileSync(process.execPath, [join(ROOT, 'node_modules/prisma/build/index.js'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: `file:${join(dir, file)}`,
      PRISMA_SCHEMA_ENGINE_BINARY: join(ROOT, 'prisma/engine/schema-engine.mjs'),
      CHECKPOINT_DISABLE: '1',
    },
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'anze-migrate-'));
  migrations = join(dir, 'prisma', 'migrations');
  addMigration('20260101000000_init', INIT);
  addMigration('20260102000000_add_credit_code', ADD_CODE);
  writeFileSync(join(migrations, 'migration_lock.toml'), 'provider = "sqlite"\n');
});

afterEach(() => {
  for (const db of open.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('applyMigrations', () => {
  it('applies the folders in name order and records them as Prisma does', () => {
    const db = database();
    const result = applyMigrations(db, migrations, () => AT);

    expect(result).toEqual({ applied: ['20260101000000_init', '20260102000000_add_credit_code'], alreadyApplied: 0 });
    const rows = db.prepare('SELECT * FROM _prisma_migrations ORDER BY migration_name').all();
    expect(rows).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        checksum: createHash('sha256').update(INIT).digest('hex'),
        finished_at: '2026-11-29T00:00:00.000+00:00',
        migration_name: '20260101000000_init',
        logs: null,
        rolled_back_at: null,
        started_at: '2026-11-29T00:00:00.000+00:00',
        applied_steps_count: 1,
      },
      expect.objectContaining({ migration_name: '20260102000000_add_credit_code', applied_steps_count: 1 }),
    ]);
    db.prepare(`INSERT INTO Township (name) VALUES ('梅城镇')`).run();
    db.prepare(`INSERT INTO Enterprise (name, townshipId, creditCode) VALUES ('x', 1, 'c')`).run();
  });

  it('applies only what is new, and nothing twice', () => {
    const db = database();
    applyMigrations(db, migrations);
    expect(applyMigrations(db, migrations)).toEqual({ applied: [], alreadyApplied: 2 });

    addMigration('20260103000000_township_code', REDEFINE_TOWNSHIP);
    expect(applyMigrations(db, migrations)).toEqual({ applied: ['20260103000000_township_code'], alreadyApplied: 2 });
    expect(db.prepare('SELECT count(*) AS n FROM _prisma_migrations').get()).toEqual({ n: 3 });
  });

  it('rebuilds a parent table without cascading deletes into its children', () => {
    const db = database();
    applyMigrations(db, migrations);
    db.exec(
      `INSERT INTO Township (id, name) VALUES (1, '梅城镇'); INSERT INTO Enterprise (name, townshipId) VALUES ('a', 1), ('b', 1);`,
    );

    addMigration('20260103000000_township_code', REDEFINE_TOWNSHIP);
    applyMigrations(db, migrations);

    expect(db.prepare('SELECT count(*) AS n FROM Enterprise').get()).toEqual({ n: 2 });
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('refuses a migration edited after it was applied', () => {
    const db = database();
    applyMigrations(db, migrations);
    writeFileSync(join(migrations, '20260101000000_init', 'migration.sql'), `${INIT}\n-- tweak\n`);

    expect(() => applyMigrations(db, migrations)).toThrow(/20260101000000_init was edited/);
  });

  it('accepts a migration whose line endings changed after it was applied, as Prisma does', () => {
    const db = database();
    applyMigrations(db, migrations);
    const crlf = INIT.replaceAll('\n', '\r\n');
    writeFileSync(join(migrations, '20260101000000_init', 'migration.sql'), crlf);
    expect(applyMigrations(db, migrations)).toEqual({ applied: [], alreadyApplied: 2 });

    // …and the other way round: applied with CRLF (a Windows checkout), then checked out with LF.
    const other = database('crlf.db');
    applyMigrations(other, migrations);
    writeFileSync(join(migrations, '20260101000000_init', 'migration.sql'), INIT);
    expect(applyMigrations(other, migrations)).toEqual({ applied: [], alreadyApplied: 2 });
    // A change of content is still an edit, whatever the line endings.
    writeFileSync(join(migrations, '20260101000000_init', 'migration.sql'), `${crlf}-- tweak\r\n`);
    expect(() => applyMigrations(other, migrations)).toThrow(/20260101000000_init was edited/);
  });

  it('refuses to go on after a failed migration', () => {
    const db = database();
    applyMigrations(db, migrations);
    db.prepare(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ('x', 'y', '20260103000000_broken', '2026-11-29T00:00:00.000+00:00')`,
    ).run();

    expect(() => applyMigrations(db, migrations)).toThrow(/20260103000000_broken failed earlier/);
  });

  it('applies all pending migrations or none', () => {
    addMigration(
      '20260103000000_broken',
      'CREATE TABLE "Ok" ("id" INTEGER);\nCREATE TABLE "Township" ("id" INTEGER);\n',
    );
    const db = database();

    expect(() => applyMigrations(db, migrations)).toThrow(
      /Migration 20260103000000_broken failed: table "Township" already exists/,
    );
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all()).toEqual([]);
  });

  it('takes the write lock before reading the ledger', () => {
    const other = database();
    other.exec('BEGIN IMMEDIATE');
    const db = new Database(join(dir, 'app.db'), { timeout: 50 });
    open.push(db);

    expect(() => applyMigrations(db, migrations)).toThrow(/database is locked/);
    other.exec('ROLLBACK');
    expect(applyMigrations(db, migrations).applied).toHaveLength(2);
  });

  it('leaves a database the real Prisma CLI accepts, and accepts one Prisma migrated', () => {
    writeFileSync(join(dir, 'prisma', 'schema.prisma'), SCHEMA);
    // A plain object: the temporary project cannot resolve 'prisma/config'.
    writeFileSync(
      join(dir, 'prisma.config.ts'),
      `export default { schema: 'prisma/schema.prisma', migrations: { path: 'prisma/migrations' }, datasource: { url: process.env.DATABASE_URL } };\n`,
    );
    applyMigrations(database(), migrations);
    expect(prisma(['migrate', 'status'])).toContain('Database schema is up to date!');

    prisma(['migrate', 'deploy'], 'by-prisma.db');
    const byPrisma = database('by-prisma.db');
    const ddl = (db: Database.Database) =>
      db.prepare(`SELECT sql FROM sqlite_master WHERE name = '_prisma_migrations'`).pluck().get();
    expect(ddl(byPrisma)).toBe(ddl(open[0]!));
    expect(applyMigrations(byPrisma, migrations)).toEqual({ applied: [], alreadyApplied: 2 });

    // Both accept the migration checked out again with CRLF line endings.
    writeFileSync(join(migrations, '20260101000000_init', 'migration.sql'), INIT.replaceAll('\n', '\r\n'));
    expect(prisma(['migrate', 'status'])).toContain('Database schema is up to date!');
    expect(applyMigrations(byPrisma, migrations)).toEqual({ applied: [], alreadyApplied: 2 });
  }, 120_000); // the real Prisma CLI, three times: slow on a loaded machine
});

describe('checksumMatches', () => {
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  // The cases of Prisma's own test (schema-connector's checksum.rs): a lone CR is content.
  const scripts = [
    ['ab\ncd\nef\ngh\rab', 'ab\r\ncd\r\nef\r\ngh\rab'],
    ['ab\ncd\nef\ngh\rab\n', 'ab\r\ncd\r\nef\r\ngh\rab\r\n'],
  ];

  it('matches a script with either line ending against the checksum of the other', () => {
    for (const pair of scripts)
      for (const a of pair) for (const b of pair) expect(checksumMatches(a, sha(b))).toBe(true);
  });

  it('does not match another content', () => {
    expect(checksumMatches('abc', sha('abcd'))).toBe(false);
    expect(checksumMatches('abc\n', sha('abc'))).toBe(false);
    expect(checksumMatches('ab\ncd', sha('ab\rcd'))).toBe(false);
  });

  it('matches the unpadded checksums an old Prisma engine wrote', () => {
    // A script whose digest has a byte below 0x10, which the old engine wrote as one hex digit.
    const old = (text: string) => [...createHash('sha256').update(text).digest()].map((b) => b.toString(16)).join('');
    const script = [...Array(40).keys()].map((i) => `-- ${i}`).find((s) => old(s).length < 64)!;
    expect(old(script).length).toBeLessThan(64);
    expect(checksumMatches(script, old(script))).toBe(true);
    expect(checksumMatches(script, sha(script))).toBe(true);
    expect(checksumMatches(`${script} `, old(script))).toBe(false);
  });
});

describe('the committed migrations', () => {
  // Both histories: SQLite's, and with TEST_POSTGRES_URL (always in CI) the derived PostgreSQL one.
  it('are in sync with prisma/schema.prisma and the PostgreSQL schema derived from it (npm run db:check)', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'prisma/engine/migrations.mjs'), 'check'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    });
    expect(out).toContain('prisma/migrations matches prisma/schema.prisma.');
    if (process.env.TEST_POSTGRES_URL)
      expect(out).toContain('prisma/postgres/migrations matches prisma/postgres/schema.prisma.');
  }, 120_000);

  it('apply to an empty database', () => {
    const result = applyMigrations(database(), MIGRATIONS_DIR);
    expect(result.applied.length).toBeGreaterThan(0);
    expect(readFileSync(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8')).toContain('provider = "sqlite"');
  });
});

describe('the PostgreSQL schema', () => {
  const source = readFileSync(join(ROOT, 'prisma/schema.prisma'), 'utf8');

  it('is the source schema with only the provider and the client output changed', () => {
    const derived = derivePostgres(source).split('\n');
    const lines = source.split('\n');
    const header = derived.findIndex((l) => l === lines[0]);
    expect(derived.slice(0, header).join('\n')).toMatch(
      /^\/\/ GENERATED from prisma\/schema\.prisma .*do not edit\.\n\/\/[^\n]*\n$/,
    );
    const changed = derived.slice(header).flatMap((l, i) => (l === lines[i] ? [] : [[lines[i], l]]));
    expect(changed).toEqual([
      ['  output       = "../src/generated/prisma"', '  output       = "../../src/generated/prisma-pg"'],
      ['  provider = "sqlite"', '  provider = "postgresql"'],
    ]);
    expect(readFileSync(join(ROOT, 'prisma/postgres/schema.prisma'), 'utf8')).toBe(derivePostgres(source));
  });

  it('refuses a source it cannot derive from mechanically', () => {
    expect(() => derivePostgres(source.replace('provider = "sqlite"', 'provider = "postgresql"'))).toThrow(
      /expected one datasource/,
    );
    expect(() => derivePostgres(source.replace('"../src/generated/prisma"', '"../gen"'))).toThrow(
      /expected one generator output/,
    );
  });
});
