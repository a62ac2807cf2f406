import { Prisma } from '../generated/prisma/client.ts';
import type { Tx } from './client.ts';

// A memo of results read from the database, never stale. Each versioned table's row in
// "DataVersion" counts the writes to it, bumped by SQL triggers (migration `data_version`) in the
// writer's own statement and transaction: every writer gets it — a command through the bus, an
// import, the scheduler, undo, the dashboard, the CLI, another process, a raw statement — without
// knowing of it. A memoised read first reads the versions of the tables it depends on, from the
// database (so a replica, or another process writing the same file, is seen); it reuses its last
// result only while they are the same, else computes afresh.
//
// The versions are read before the result: a write committed in between is in the result and
// bumps the versions the next read sees, so a result is never older than the versions it is kept
// under. Inside a transaction a result is reused but never kept: it may count the transaction's
// own writes, which a rollback would undo while their version numbers are taken again by others.

/** The tables whose writes are counted (a trigger each, per database, in migration `data_version`). */
export const VERSIONED_TABLES = [
  'Enterprise',
  'Policy',
  'EnterpriseState',
  'ProgressReport',
  'Sector',
  'Unit',
  'SectorResponsibility',
  'Target',
  'Member',
  'Campaign',
] as const;
export type VersionedTable = (typeof VERSIONED_TABLES)[number];
/** The counts' own table: of the database, not of a county (a move between databases leaves it). */
export const DATA_VERSION_TABLE = 'DataVersion';

/** All rows (one per versioned table): no list of names to bind. */
const READ_VERSIONS = 'SELECT "table", "version" FROM "DataVersion"';

type VersionRows = [table: string, version: number | bigint | string][];

/**
 * Reads the versions beside Prisma when that is what a query through Prisma would see, else null
 * (the caller asks through Prisma). On SQLite, on the client's own connection, synchronously:
 * inside the caller's transaction (which holds the connection), or outside any while no other
 * request's transaction is open on it (another's plain query, waiting or not, has no uncommitted
 * writes). On PostgreSQL, outside a transaction only, on a connection of the client's own pool, as
 * a prepared statement (`pooledVersions`). A version read is then a few microseconds on SQLite, and
 * one short round trip on PostgreSQL, instead of Prisma's 0.3–0.5 ms of JavaScript a statement (and
 * on PostgreSQL its round trip), on every memoised read of every message.
 */
export type DirectVersions = (inTransaction: boolean) => VersionRows | Promise<VersionRows> | null;

/** The direct reader of a SQLite connection (see `DirectVersions`); `outside` says whether no transaction is open on it. */
export function directVersions(
  connection: () => { open?: boolean; prepare(sql: string): { raw(): { all(): unknown[] } } } | undefined,
  outside: () => (() => boolean) | undefined,
): DirectVersions {
  return (inTransaction) => {
    const c = connection();
    const none = outside();
    // A connection closed by $disconnect: Prisma opens another for its next query.
    if (!c || c.open === false || !none || (!inTransaction && !none())) return null;
    return c.prepare(READ_VERSIONS).raw().all() as [string, number | bigint][];
  };
}

/**
 * The direct reader of a PostgreSQL pool (see `DirectVersions`): outside a transaction, any of the
 * pool's connections sees what Prisma's next statement would (both only committed writes). Null
 * inside one, and once the pool is closed (Prisma, connecting again, makes a pool of its own).
 */
export function pooledVersions(pool: {
  ending: boolean;
  query(q: { name: string; text: string; rowMode: 'array' }): Promise<{ rows: unknown[] }>;
}): DirectVersions {
  return (inTransaction) =>
    inTransaction || pool.ending
      ? null
      : pool
          .query({ name: 'anze_data_versions', text: READ_VERSIONS, rowMode: 'array' })
          .then((r) => r.rows as VersionRows);
}

/** The write counts of some versioned tables, as one key. */
export async function dataVersion(db: Tx, tables: readonly VersionedTable[]): Promise<string> {
  const m = db as Memoising;
  const rows =
    (await m[DIRECT]?.(m[ROOT] !== db)) ??
    (await db.$queryRaw<{ table: string; version: bigint | number }[]>(Prisma.raw(READ_VERSIONS))).map(
      (r) => [r.table, r.version] as const,
    );
  const of = new Map(rows.map(([table, version]) => [table, String(version)]));
  return tables.map((t) => `${t}:${of.get(t) ?? '-'}`).join(' ');
}

/** How many results a client keeps; the oldest used goes first (each message's member is one). */
const KEPT = 512;

interface Kept {
  version: string;
  value: unknown;
}

/** Set on a client when it is opened (src/db/client.ts): its memo. A transaction's client reads it through to its parent. */
const MEMO = Symbol('memo');
/** The client the memo belongs to: `db[ROOT] === db` outside a transaction. */
const ROOT = Symbol('root');

/** Set on a SQLite client when it is opened: its direct reader of the versions. */
const DIRECT = Symbol('direct versions');

type Memoising = { [MEMO]?: Map<string, Kept>; [ROOT]?: unknown; [DIRECT]?: DirectVersions };

/** Gives a newly opened client its memo (and on SQLite, its direct reader of the versions). */
export function withMemo<T extends object>(client: T, direct?: DirectVersions): T {
  Object.assign(client, { [MEMO]: new Map<string, Kept>(), [ROOT]: client, ...(direct ? { [DIRECT]: direct } : {}) });
  return client;
}

/** The result for `key` (which names everything else it depends on), reused while `tables`' versions stand. */
export async function memoised<T>(
  db: Tx,
  key: string,
  tables: readonly VersionedTable[],
  compute: () => Promise<T>,
): Promise<T> {
  return (await memoisedEach(db, [key], tables, async () => [await compute()]))[0]!;
}

/**
 * The results for `keys` (each naming everything else its result depends on), reused while
 * `tables`' versions stand. `compute` is given the indexes of those not kept, to make them
 * together; they are kept one by one. A client opened without a memo computes every time.
 */
export async function memoisedEach<T>(
  db: Tx,
  keys: string[],
  tables: readonly VersionedTable[],
  compute: (missing: number[]) => Promise<T[]>,
): Promise<T[]> {
  const memo = (db as Memoising)[MEMO];
  if (!memo) return compute(keys.map((_, i) => i));
  const version = await dataVersion(db, tables);
  const values: T[] = [];
  const missing: number[] = [];
  keys.forEach((key, i) => {
    const kept = memo.get(key);
    if (kept?.version !== version) return void missing.push(i);
    // Most recently used last, so the oldest goes first when full.
    memo.delete(key);
    memo.set(key, kept);
    values[i] = kept.value as T;
  });
  if (!missing.length) return values;
  const made = await compute(missing);
  const keep = (db as Memoising)[ROOT] === db;
  missing.forEach((i, j) => {
    values[i] = made[j]!;
    if (!keep) return;
    memo.delete(keys[i]!);
    if (memo.size >= KEPT) memo.delete(memo.keys().next().value!);
    memo.set(keys[i]!, { version, value: made[j] });
  });
  return values;
}
