import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import v8 from 'node:v8';
import Database from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.ts';
import { serialised } from './serial.ts';
import { reusingStatements } from './statements.ts';
import {
  applyMigrations,
  applyPostgresMigrations,
  MIGRATIONS_DIR,
  POSTGRES_MIGRATIONS_DIR,
  type MigrationResult,
} from './migrate.ts';
import { TRANSACTION_OPTIONS } from './transactions.ts';
import { directVersions, pooledVersions, withMemo } from './versions.ts';

// Prisma compiles each new query shape with its query compiler, a 3 MB WebAssembly module. V8's
// default dynamic tiering recompiles its busy functions with TurboFan while the service starts
// (every start-up query is a new shape): 70–80 MB of resident memory that stays, and half a second
// of CPU. Liftoff's code is fast enough for compiling queries (their plans are cached), so the
// budget before a function is recompiled is raised a hundredfold: only code that stays hot for
// long (a chart's rasteriser) is still optimised. Set before any WebAssembly module is compiled.
v8.setFlagsFromString('--wasm-tiering-budget=200000000');

export type Db = PrismaClient;
/** The client, or the client inside an interactive transaction: what queries take. */
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export type Provider = 'sqlite' | 'postgresql';

/** Which database a DATABASE_URL names: a SQLite file (file:) or a PostgreSQL server (postgres://). */
export function providerOf(databaseUrl: string): Provider {
  if (databaseUrl.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return 'postgresql';
  throw new Error(
    'DATABASE_URL must be a SQLite file (file:./data/anze.db) or a PostgreSQL URL (postgres://user:password@host:5432/db)',
  );
}

/** The file behind a `file:` URL, resolved against the working directory as Prisma does. */
export function sqlitePath(databaseUrl: string): string {
  const path = databaseUrl.replace(/^file:/, '').replace(/\?.*$/, '');
  return path === ':memory:' ? path : resolve(path);
}

/** Applies pending migrations to a SQLite file (created with its folder if missing), in WAL mode. */
function migrateSqlite(file: string): MigrationResult {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const raw = new Database(file);
  try {
    raw.pragma('journal_mode = WAL');
    return applyMigrations(raw, MIGRATIONS_DIR);
  } finally {
    raw.close();
  }
}

// Sessions in UTC: a TIMESTAMP column's DEFAULT CURRENT_TIMESTAMP then means the same instant
// Prisma writes and reads (it treats TIMESTAMP as UTC), whatever the server's timezone.
const postgresConfig = (databaseUrl: string) => ({ connectionString: databaseUrl, options: '-c TimeZone=UTC' });

async function migratePostgres(databaseUrl: string): Promise<MigrationResult> {
  const { default: pg } = await import('pg');
  const migrator = new pg.Client(postgresConfig(databaseUrl));
  await migrator.connect();
  try {
    return await applyPostgresMigrations(migrator, POSTGRES_MIGRATIONS_DIR);
  } finally {
    await migrator.end();
  }
}

/** Applies pending migrations to the database behind DATABASE_URL without opening Prisma (`anze migrate`). */
export async function migrateDatabase(databaseUrl: string): Promise<MigrationResult> {
  return providerOf(databaseUrl) === 'sqlite' ? migrateSqlite(sqlitePath(databaseUrl)) : migratePostgres(databaseUrl);
}

/** Applies pending migrations, then opens Prisma on the same SQLite file. Synchronous: for tools on SQLite only. */
export function openDatabase(databaseUrl: string): Db {
  if (providerOf(databaseUrl) !== 'sqlite')
    throw new Error('openDatabase is for SQLite files; use connectDatabase for PostgreSQL');
  const file = sqlitePath(databaseUrl);
  migrateSqlite(file);
  // busy_timeout lets a CLI (npm run chat, seed) write while the service holds the file.
  let connection: Database.Database | undefined;
  let outside: (() => boolean) | undefined;
  const adapter = serialised(
    reusingStatements(new PrismaBetterSqlite3({ url: file, timeout: 5000 }), (c) => (connection = c)),
    (none) => (outside = none),
  );
  return withMemo(
    new PrismaClient({ adapter, transactionOptions: TRANSACTION_OPTIONS }),
    directVersions(
      () => connection,
      () => outside,
    ),
  );
}

/**
 * Applies pending migrations, then opens Prisma: on SQLite for a file: URL, on PostgreSQL for a
 * postgres:// one (through the client generated from the derived schema; the rest of the code sees
 * the same `Db`).
 */
export async function connectDatabase(databaseUrl: string): Promise<Db> {
  if (providerOf(databaseUrl) === 'sqlite') return openDatabase(databaseUrl);
  // Loaded only here, so a SQLite deployment never loads the PostgreSQL client.
  const [{ PrismaPg }, { PrismaClient: PostgresClient }, { default: pg }] = await Promise.all([
    import('@prisma/adapter-pg'),
    import('../generated/prisma-pg/client.ts'),
    import('pg'),
  ]);
  await migratePostgres(databaseUrl);
  // The pool is made here, so the memo reads the data versions on it directly (src/db/versions.ts);
  // Prisma ends it on $disconnect.
  const pool = new pg.Pool(postgresConfig(databaseUrl));
  // An idle connection that fails is dropped by the pool; the next query reports the trouble. Without
  // a listener, such an error before Prisma's first query (which adds one) would end the process.
  pool.on('error', () => undefined);
  // Generated from the same source schema, the two clients have the same models and queries; the
  // PostgreSQL one's types only add what SQLite lacks, which the code never uses.
  return withMemo(
    new PostgresClient({
      adapter: new PrismaPg(pool, { disposeExternalPool: true }),
      transactionOptions: TRANSACTION_OPTIONS,
    }) as unknown as Db,
    pooledVersions(pool),
  );
}
