// An online backup of the SQLite database: SQLite's backup API copies it page by page while the
// service keeps writing, and the copy is checked before it takes its final name. A restore checks
// the backup the same way, keeps a copy of the database it replaces, and copies the backup in.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { translator, type Translate } from '../i18n.ts';
import { providerOf, sqlitePath } from './client.ts';
import { MIGRATIONS_DIR } from './migrate.ts';

/** Something the operator can fix (a PostgreSQL URL, an existing file, …); the message says what. */
export class BackupError extends Error {}

export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

export interface BackupOptions {
  /** Replace an existing destination file. */
  force?: boolean;
  onProgress?: (p: BackupProgress) => void;
  /** Pages copied per step at first (default 1000). */
  pagesPerStep?: number;
  /** Messages' language; zh-CN by default. */
  t?: Translate;
}

export interface BackupResult {
  file: string;
  bytes: number;
  pages: number;
  /** How often a write by another connection made SQLite start the copy over. */
  restarts: number;
  /** Applied migrations in the copy. */
  migrations: number;
  /** Rows per table in the copy, by Prisma's model name (campaign, enterprise, policy, …). */
  tables: Record<string, number>;
}

/**
 * Copies the SQLite database behind `databaseUrl` to `destFile`, consistent as of one moment, while
 * others keep writing. The copy is written under a temporary name beside the destination, checked
 * (integrity_check, migrations present), and only then given the destination's name.
 */
export async function backupDatabase(
  databaseUrl: string,
  destFile: string,
  opts: BackupOptions = {},
): Promise<BackupResult> {
  const t = opts.t ?? translator('zh-CN');
  const dest = resolve(destFile);
  if (providerOf(databaseUrl) === 'postgresql') throw new BackupError(t('backup.postgres', { file: dest }));
  const source = sqlitePath(databaseUrl);
  if (source === ':memory:' || !existsSync(source)) throw new BackupError(t('backup.no_source', { path: source }));
  if (existsSync(dest) && sameFile(dest, source)) throw new BackupError(t('backup.same_file', { path: dest }));
  if (existsSync(dest) && !opts.force) throw new BackupError(t('backup.exists', { path: dest }));
  if (!existsSync(dirname(dest))) throw new BackupError(t('backup.no_dir', { path: dirname(dest) }));

  const partial = join(dirname(dest), `.${basename(dest)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    const { pages, restarts } = await copyPages(source, partial, opts);
    const checked = verify(partial, t);
    place(partial, dest, !!opts.force, t);
    return { file: dest, bytes: statSync(dest).size, pages, restarts, ...checked };
  } finally {
    rmSync(partial, { force: true });
    rmSync(`${partial}-journal`, { force: true });
  }
}

function sameFile(a: string, b: string): boolean {
  const [x, y] = [statSync(a), statSync(b)];
  return x.dev === y.dev && x.ino === y.ino;
}

/**
 * The backup API proper. A write by another connection between two steps makes SQLite start over
 * (that is what makes the copy consistent), so each restart doubles the step: under a steady stream
 * of writes the copy still ends, at worst in one step (one read transaction, which in WAL mode
 * does not hold up writers).
 */
async function copyPages(
  source: string,
  partial: string,
  opts: BackupOptions,
): Promise<{ pages: number; restarts: number }> {
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    let step = Math.max(1, opts.pagesPerStep ?? 1000);
    let last = Infinity;
    let restarts = 0;
    const done = await db.backup(partial, {
      progress: (p) => {
        // Without a restart the last step took `step` pages off what remained.
        if (p.remainingPages > last - step) {
          restarts++;
          step *= 2;
        }
        last = p.remainingPages;
        opts.onProgress?.(p);
        return step;
      },
    });
    return { pages: done.totalPages, restarts };
  } finally {
    db.close();
  }
}

/** Opens the copy as a restore would and checks it; leaves it one self-contained file. */
function verify(file: string, t: Translate): Pick<BackupResult, 'migrations' | 'tables'> {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE'); // no -wal/-shm beside the copy; openDatabase turns WAL back on
    return inspect(db, t).checked;
  } finally {
    db.close();
  }
}

/** integrity_check, the applied migrations (at least one) and the rows per table of an open database. */
function inspect(
  db: Database.Database,
  t: Translate,
): { checked: Pick<BackupResult, 'migrations' | 'tables'>; names: string[] } {
  const result = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  if (result.join() !== 'ok') throw new BackupError(t('backup.corrupt', { detail: result.slice(0, 5).join('; ') }));
  const names = db
    .prepare(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
    )
    .pluck()
    .all() as string[];
  const count = (table: string) =>
    db
      .prepare(`SELECT count(*) FROM "${table.replaceAll('"', '""')}"`)
      .pluck()
      .get() as number;
  const applied = names.includes('_prisma_migrations')
    ? (db
        .prepare(
          'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
        )
        .pluck()
        .all() as string[])
    : [];
  if (!applied.length) throw new BackupError(t('backup.no_migrations'));
  const tables = Object.fromEntries(
    names.filter((n) => n !== '_prisma_migrations').map((n) => [n[0]!.toLowerCase() + n.slice(1), count(n)]),
  );
  return { checked: { migrations: applied.length, tables }, names: applied };
}

/** Gives the checked copy its final name; without `force`, never over a file that appeared meanwhile. */
function place(partial: string, dest: string, force: boolean, t: Translate): void {
  if (force) return renameSync(partial, dest);
  try {
    linkSync(partial, dest); // fails if dest exists, atomically
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new BackupError(t('backup.exists', { path: dest }));
    // A filesystem without hard links: check, then rename.
    if (existsSync(dest)) throw new BackupError(t('backup.exists', { path: dest }));
    renameSync(partial, dest);
  }
}

export interface RestoreOptions {
  /** Keep no copy of the database being replaced (by default one is written beside it). */
  discardCurrent?: boolean;
  /** Names the copy of the replaced database; the current time by default. */
  now?: () => Date;
  t?: Translate;
}

export interface RestoreResult {
  file: string;
  /** The copy of the database as it was before the restore, if one was kept. */
  previous: string | null;
  migrations: number;
  tables: Record<string, number>;
}

/**
 * Replaces the SQLite database behind `databaseUrl` with the backup `backupFile`. The service must
 * be stopped. The backup is checked first (integrity_check, migrations present, none newer than
 * this release knows: old code never runs on a newer schema); the database it replaces is backed
 * up beside itself (`<file>.before-restore-<time>`) unless told not to; the backup is copied in
 * with SQLite's backup API (which also takes care of the -wal file), and the result is checked
 * against the backup, table by table.
 */
export async function restoreDatabase(
  databaseUrl: string,
  backupFile: string,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  const t = opts.t ?? translator('zh-CN');
  const from = resolve(backupFile);
  if (providerOf(databaseUrl) === 'postgresql') throw new BackupError(t('restore.postgres', { file: from }));
  const target = sqlitePath(databaseUrl);
  if (target === ':memory:') throw new BackupError(t('backup.no_source', { path: target }));
  if (!existsSync(from)) throw new BackupError(t('restore.no_file', { path: from }));
  if (existsSync(target) && sameFile(from, target)) throw new BackupError(t('backup.same_file', { path: from }));

  let source: Database.Database;
  try {
    source = new Database(from, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new BackupError(t('restore.unreadable', { path: from, detail: (e as Error).message }));
  }
  try {
    let checked: ReturnType<typeof inspect>;
    try {
      checked = inspect(source, t);
    } catch (e) {
      if (e instanceof BackupError) throw e;
      throw new BackupError(t('restore.unreadable', { path: from, detail: (e as Error).message }));
    }
    const known = new Set(readdirSync(MIGRATIONS_DIR));
    const newer = checked.names.filter((name) => !known.has(name));
    if (newer.length) throw new BackupError(t('restore.newer', { names: newer.join(', ') }));

    let previous: string | null = null;
    if (existsSync(target) && !opts.discardCurrent) {
      const stamp = (opts.now ?? (() => new Date()))().toISOString().replace(/[:.]/g, '-');
      previous = (await backupDatabase(databaseUrl, `${target}.before-restore-${stamp}`, { t })).file;
    }
    if (!existsSync(dirname(target))) throw new BackupError(t('backup.no_dir', { path: dirname(target) }));
    await source.backup(target);

    const restored = new Database(target, { fileMustExist: true });
    try {
      const after = inspect(restored, t).checked;
      if (JSON.stringify(after) !== JSON.stringify(checked.checked))
        throw new BackupError(t('restore.mismatch', { path: target }));
      return { file: target, previous, ...after };
    } finally {
      restored.close();
    }
  } finally {
    source.close();
  }
}
