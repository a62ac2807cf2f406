// An online backup of the SQLite database: SQLite's backup API copies it page by page while the
// service keeps writing, and the copy is checked before it takes its final name.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { translator, type Translate } from '../i18n.ts';
import { providerOf, sqlitePath } from './client.ts';

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
    const result = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    if (result.join() !== 'ok') throw new BackupError(t('backup.corrupt', { detail: result.slice(0, 5).join('; ') }));
    const names = db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
      )
      .pluck()
      .all() as string[];
    const count = (table: string, where = '') =>
      db
        .prepare(`SELECT count(*) FROM "${table.replaceAll('"', '""')}" ${where}`)
        .pluck()
        .get() as number;
    const migrations = names.includes('_prisma_migrations')
      ? count('_prisma_migrations', 'WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
      : 0;
    if (!migrations) throw new BackupError(t('backup.no_migrations'));
    const tables = Object.fromEntries(
      names.filter((n) => n !== '_prisma_migrations').map((n) => [n[0]!.toLowerCase() + n.slice(1), count(n)]),
    );
    return { migrations, tables };
  } finally {
    db.close();
  }
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
