// Applies the committed migrations at start-up (prisma/migrations on SQLite, the derived
// prisma/postgres/migrations on PostgreSQL), so the service needs no schema engine at run time. It
// keeps the `_prisma_migrations` ledger exactly as Prisma does on each database, so `prisma migrate
// status|deploy` accept the database afterwards (and a database migrated by Prisma is accepted here).
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { besideSources } from '../paths.ts';

export const MIGRATIONS_DIR = besideSources(new URL('../../prisma/migrations', import.meta.url));
export const POSTGRES_MIGRATIONS_DIR = besideSources(new URL('../../prisma/postgres/migrations', import.meta.url));

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

// Prisma's schema engine creates the table with this DDL on SQLite.
const LEDGER_DDL = `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);
`;

// …and with this DDL on PostgreSQL.
const POSTGRES_LEDGER_DDL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

/** The advisory lock Prisma's own engine holds while it migrates PostgreSQL: we exclude it, and it us. */
const POSTGRES_MIGRATE_LOCK = 72707369;

interface LedgerRow {
  migration_name: string;
  checksum: string;
  finished_at: string | Date | null;
  rolled_back_at: string | Date | null;
}

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** The migration folders, in the order Prisma applies them (by name). */
function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new Error(`No migrations folder at ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = join(dir, name, 'migration.sql');
      if (!existsSync(file)) throw new Error(`Migration ${name} has no migration.sql`);
      const bytes = readFileSync(file);
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether a migration's script matches the checksum the ledger holds, as Prisma's schema engine
 * decides it (schema-connector's checksum.rs, `script_matches_checksum`): the script as it is,
 * with its CRLF line endings turned into LF, or with its LF turned into CRLF — so a migration
 * checked out with the other line ending is not "edited". A checksum that is not 64 characters long
 * was written by an old engine that did not zero-pad the hex bytes; it is compared the same way.
 */
export function checksumMatches(sql: string, checksum: string): boolean {
  const variants = [sql, sql.replaceAll('\r\n', '\n'), sql.replaceAll('\n', '\r\n')];
  return variants.some((script) => {
    const digest = sha256(script);
    const hex =
      checksum.length !== 0 && checksum.length !== 64
        ? [...digest].map((b) => b.toString(16)).join('')
        : digest.toString('hex');
    return hex === checksum;
  });
}

// DateTime as Prisma writes it on SQLite through the driver adapter.
const timestamp = (at: Date) => at.toISOString().replace('Z', '+00:00');

export function applyMigrations(
  db: Database.Database,
  migrationsDir: string,
  now: () => Date = () => new Date(),
): MigrationResult {
  const migrations = readMigrations(migrationsDir);
  // Prisma runs SQLite migrations outside a transaction, where their `PRAGMA foreign_keys=OFF`
  // lets a table be redefined (copied, dropped, renamed) without ON DELETE CASCADE emptying its
  // children. Inside our transaction that pragma is ignored, so switch the checks off before it
  // and verify the foreign keys ourselves before committing.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) === 1;
  if (foreignKeys) db.pragma('foreign_keys = OFF');
  try {
    // IMMEDIATE takes the write lock before reading the ledger: of two processes starting
    // together, the second waits, then finds nothing left to apply.
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = applyPending(db, migrations, now);
      if (foreignKeys && result.applied.length > 0) {
        const broken = db.pragma('foreign_key_check') as { table: string; parent: string }[];
        if (broken.length > 0) {
          const { table, parent } = broken[0]!;
          throw new Error(`Migrations ${result.applied.join(', ')} leave rows of ${table} without their ${parent}`);
        }
      }
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  } finally {
    if (foreignKeys) db.pragma('foreign_keys = ON');
  }
}

const NOT_OURS =
  'The database has tables but no _prisma_migrations: it was not made by these migrations. ' +
  'Baseline it with `prisma migrate resolve --applied <migration>` or use an empty database.';

/** What is left to apply, given the ledger; refuses a half-applied or edited history. */
function pendingOf(rows: LedgerRow[], migrations: Migration[]): { pending: Migration[]; alreadyApplied: number } {
  const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed) {
    throw new Error(
      `Migration ${failed.migration_name} failed earlier and was left half-applied. Repair the database, then run ` +
        `\`prisma migrate resolve --rolled-back ${failed.migration_name}\` (or --applied).`,
    );
  }
  // Rows without a folder (a newer release's migrations) are left alone; a rolled-back one is pending again.
  const applied = new Map(rows.filter((row) => row.rolled_back_at === null).map((row) => [row.migration_name, row]));
  const pending: Migration[] = [];
  let alreadyApplied = 0;
  for (const migration of migrations) {
    const row = applied.get(migration.name);
    if (!row) pending.push(migration);
    else if (!checksumMatches(migration.sql, row.checksum)) {
      throw new Error(
        `Migration ${migration.name} was edited after it was applied (checksum differs). ` +
          'Restore its migration.sql and put the change in a new migration.',
      );
    } else alreadyApplied++;
  }
  return { pending, alreadyApplied };
}

function applyPending(db: Database.Database, migrations: Migration[], now: () => Date): MigrationResult {
  const hasLedger = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`)
    .get();
  if (!hasLedger) {
    const other = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).get();
    if (other) throw new Error(NOT_OURS);
    db.exec(LEDGER_DDL);
  }

  const rows = db
    .prepare('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at')
    .all() as LedgerRow[];
  const { pending, alreadyApplied } = pendingOf(rows, migrations);
  const insert = db.prepare(
    'INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name, applied_steps_count) VALUES (?, ?, ?, ?, 0)',
  );
  const finish = db.prepare('UPDATE _prisma_migrations SET finished_at = ?, applied_steps_count = 1 WHERE id = ?');
  const result: MigrationResult = { applied: [], alreadyApplied };
  for (const migration of pending) {
    const id = randomUUID();
    insert.run(id, migration.checksum, timestamp(now()), migration.name);
    try {
      db.exec(migration.sql);
    } catch (error) {
      throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
    }
    finish.run(timestamp(now()), id);
    result.applied.push(migration.name);
  }
  return result;
}

/**
 * The same on PostgreSQL, on a connected client the caller owns. Everything pending is applied in
 * one transaction (PostgreSQL's DDL is transactional: all or nothing), under the advisory lock
 * Prisma's engine takes to migrate: of two instances starting together, the second waits for the
 * first to commit, then finds nothing left to apply.
 */
export async function applyPostgresMigrations(
  client: pg.ClientBase,
  migrationsDir: string,
  now: () => Date = () => new Date(),
): Promise<MigrationResult> {
  const migrations = readMigrations(migrationsDir);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [POSTGRES_MIGRATE_LOCK]);
    const {
      rows: [ledger],
    } = await client.query<{ exists: boolean }>(`SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists`);
    if (!ledger!.exists) {
      const { rowCount } = await client.query(
        `SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
      );
      if (rowCount) throw new Error(NOT_OURS);
      await client.query(POSTGRES_LEDGER_DDL);
    }
    const { rows } = await client.query<LedgerRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at',
    );
    const { pending, alreadyApplied } = pendingOf(rows, migrations);
    const result: MigrationResult = { applied: [], alreadyApplied };
    for (const migration of pending) {
      const id = randomUUID();
      await client.query(
        'INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name, applied_steps_count) VALUES ($1, $2, $3, $4, 0)',
        [id, migration.checksum, now(), migration.name],
      );
      try {
        // No parameters: the simple protocol, which runs a script of several statements.
        await client.query(migration.sql);
      } catch (error) {
        throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      await client.query('UPDATE _prisma_migrations SET finished_at = $1, applied_steps_count = 1 WHERE id = $2', [
        now(),
        id,
      ]);
      result.applied.push(migration.name);
    }
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
