// npm run restore (anze restore): a backup taken, the database changed, the backup restored — the
// change is gone, the database passes its integrity check, and what it replaced is kept.
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError, backupDatabase, restoreDatabase } from '../../src/db/backup.ts';
import { connectDatabase, sqlitePath, type Db } from '../../src/db/client.ts';
import { testDb, type TestDb } from '../support/db.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AT = new Date('2026-11-29T08:00:00.000Z');
let t: TestDb;
let db: Db;
let file: string;

beforeAll(async () => {
  t = await testDb({ demo: true, provider: 'sqlite' });
  db = t.db;
  file = sqlitePath(t.url);
});
afterAll(async () => {
  await db.$disconnect();
  await t.close();
});

/** integrity_check and rows of a few tables, read straight from the file (not through the code under test). */
function state(path: string): { integrity: string; policies: number; audit: number } {
  const raw = new Database(path, { readonly: true });
  try {
    return {
      integrity: raw.pragma('integrity_check', { simple: true }) as string,
      policies: raw.prepare('SELECT count(*) FROM Policy').pluck().get() as number,
      audit: raw.prepare('SELECT count(*) FROM AuditEvent').pluck().get() as number,
    };
  } finally {
    raw.close();
  }
}

describe('restoreDatabase', () => {
  it('undoes what changed after the backup, keeping the replaced database beside it', async () => {
    const backup = join(t.dir, 'nightly.db');
    await backupDatabase(t.url, backup);
    const before = state(file);
    expect(before.policies).toBeGreaterThan(100);

    // The change a restore must undo: every policy gone, and an audit event more.
    await db.policy.deleteMany({});
    await db.auditEvent.create({ data: { at: AT, channel: 'test', action: 'test.change', outcome: 'ok' } });
    const changed = state(file);
    expect(changed.policies).toBe(0);
    await db.$disconnect(); // the service is stopped for a restore

    const r = await restoreDatabase(t.url, backup, { now: () => AT });

    expect(r.file).toBe(file);
    expect(r.previous).toBe(`${file}.before-restore-2026-11-29T08-00-00-000Z`);
    expect(state(file)).toEqual({ ...before, integrity: 'ok' });
    expect(r.tables.policy).toBe(before.policies);
    expect(state(r.previous!)).toEqual({ ...changed, integrity: 'ok' });
    // The service starts on it: migrations in place, the policies back.
    db = await connectDatabase(t.url);
    expect(await db.policy.count()).toBe(before.policies);
    expect(await db.auditEvent.count({ where: { action: 'test.change' } })).toBe(0);
  });

  it('refuses a backup of a newer release, a file that is not a database, and PostgreSQL, changing nothing', async () => {
    const backup = join(t.dir, 'newer.db');
    await backupDatabase(t.url, backup);
    const raw = new Database(backup);
    raw
      .prepare(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ('n', 'c', '29990101000000_future', '2999-01-01', '2999-01-01', 1)`,
      )
      .run();
    raw.close();
    const garbage = join(t.dir, 'garbage.db');
    writeFileSync(garbage, 'not a database, just text that is long enough to look like a file '.repeat(100));
    const files = () => readdirSync(t.dir).sort();
    const [before, listing] = [state(file), files()];

    await expect(restoreDatabase(t.url, backup)).rejects.toThrow(/更新的版本.*29990101000000_future/);
    await expect(restoreDatabase(t.url, garbage)).rejects.toThrow(BackupError);
    await expect(restoreDatabase(t.url, join(t.dir, 'missing.db'))).rejects.toThrow(/找不到备份文件/);
    await expect(restoreDatabase('postgres://anze@localhost/anze', backup)).rejects.toThrow(/pg_restore/);
    expect(state(file)).toEqual(before);
    expect(files()).toEqual(listing);
  });

  it('runs as npm run restore, saying where the replaced database went', async () => {
    const backup = join(t.dir, 'cli.db');
    await backupDatabase(t.url, backup);
    await db.auditEvent.create({ data: { at: AT, channel: 'test', action: 'test.cli', outcome: 'ok' } });
    await db.$disconnect();
    const before = readdirSync(t.dir).filter((f) => f.includes('before-restore')).length;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/restore.ts'), backup],
      { cwd: ROOT, env: { PATH: process.env.PATH, DATABASE_URL: t.url, BOT_LOCALE: 'en' } },
    );
    expect(stdout).toContain('Restored, integrity check passed');
    expect(stdout).toMatch(/kept as .*before-restore/);
    expect(readdirSync(t.dir).filter((f) => f.includes('before-restore'))).toHaveLength(before + 1);
    db = await connectDatabase(t.url);
    expect(await db.auditEvent.count({ where: { action: 'test.cli' } })).toBe(0);
    expect(state(backup).integrity).toBe('ok'); // the backup itself is left as it was
  });
});
