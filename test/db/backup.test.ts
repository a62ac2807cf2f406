import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { BackupError, backupDatabase } from '../../src/db/backup.ts';
import { connectDatabase, sqlitePath, type Db } from '../../src/db/client.ts';
import { readCampaignFile } from '../../src/domain/campaign-file.ts';
import { DEMO_MEMBERS } from '../../src/domain/demo.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let t: TestDb;
let source: string;
let registry: Registry;

beforeAll(async () => {
  t = await testDb({ demo: true, provider: 'sqlite' });
  source = sqlitePath(t.url);
  registry = await Registry.load();
});
afterAll(() => t.close());

/** Rows per table, read straight from a SQLite file (not through the code under test). */
function counts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    const names = db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> '_prisma_migrations'`,
      )
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      names.map((n) => [
        n[0]!.toLowerCase() + n.slice(1),
        db.prepare(`SELECT count(*) FROM "${n}"`).pluck().get() as number,
      ]),
    );
  } finally {
    db.close();
  }
}

const coverage = (db: Db) =>
  new Bus({ db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry }).handle({
    channel: 'sandbox',
    userId: 'demo-leader',
    chatId: null,
    text: '/覆盖率',
  });

describe('npm run backup', () => {
  it('copies the database consistently while another connection keeps writing', async () => {
    const before = counts(source);
    // The service's writes, as a second connection: audit events with some bulk, between the copy's steps.
    const writer = new Database(source, { timeout: 5000 });
    const insert = writer.prepare(
      `INSERT INTO AuditEvent (at, channel, action, outcome, detail) VALUES ('2026-11-29T00:00:00.000+00:00', 'test', 'backup.load', 'ok', ?)`,
    );
    const burst = writer.transaction(() => {
      for (let i = 0; i < 5; i++) insert.run('x'.repeat(3000));
    });
    let writing = true;
    let written = 0;
    let writtenDuringCopy = 0;
    const loop = () => {
      if (!writing) return;
      burst();
      written += 5;
      setImmediate(loop);
    };
    loop();
    const file = join(t.dir, 'during-writes.db');
    // Small steps, so writes land between them and SQLite has to start over.
    const r = await backupDatabase(t.url, file, {
      pagesPerStep: 8,
      onProgress: () => void (writtenDuringCopy = written),
    });
    writing = false;
    writer.close();

    expect(writtenDuringCopy).toBeGreaterThan(0);
    expect(r.restarts).toBeGreaterThan(0);
    expect(r.migrations).toBeGreaterThan(0);
    const integrity = new Database(file, { readonly: true });
    expect(integrity.pragma('integrity_check', { simple: true })).toBe('ok');
    // The copy's audit events are exactly those of one moment: ids with no gap after the ones before.
    const ids = integrity.prepare('SELECT count(*) n, max(id) last FROM AuditEvent').get() as {
      n: number;
      last: number;
    };
    expect(integrity.pragma('journal_mode', { simple: true })).toBe('delete'); // one file, no -wal beside it
    integrity.close();
    expect(ids.n).toBeGreaterThanOrEqual(before.auditEvent!);
    expect(ids.n).toBeLessThanOrEqual(before.auditEvent! + written);
    const baseline = await t.db.auditEvent.count({ where: { id: { lte: ids.last } } });
    expect(ids.n).toBe(baseline);

    // Every table nobody wrote to is the same as in the source, and the result says so.
    const after = counts(source);
    expect(after.auditEvent).toBe(before.auditEvent! + written);
    const { auditEvent: copied, ...rest } = counts(file);
    const { auditEvent: _, ...restSource } = after;
    expect(rest).toEqual(restSource);
    expect(r.tables).toEqual({ ...rest, auditEvent: copied });
    expect(r.tables.campaign).toBe(1);
    expect(r.tables.enterprise).toBeGreaterThan(100);
    expect(r.tables.policy).toBeGreaterThan(100);
    expect(r.bytes).toBe(readFileSync(file).length);

    // It opens as a database of this bot, with the demo campaign, enterprises and policies.
    const copy = await connectDatabase(`file:${file}`);
    try {
      const campaign = await copy.campaign.findUniqueOrThrow({ where: { key: readCampaignFile().key } });
      expect(campaign.id).toBe(t.campaignId);
      expect(await copy.enterprise.count()).toBe(await t.db.enterprise.count());
      expect(await copy.policy.count()).toBe(await t.db.policy.count());
      expect(await copy.member.count({ where: { userId: { startsWith: 'demo-' } } })).toBe(DEMO_MEMBERS.length);
    } finally {
      await copy.$disconnect();
    }
  });

  it('restores: the service started on the copy answers /覆盖率 as the source does', async () => {
    const file = join(t.dir, 'restore.db');
    await backupDatabase(t.url, file);
    const copy = await connectDatabase(`file:${file}`);
    try {
      const [fromCopy, fromSource] = [await coverage(copy), await coverage(t.db)];
      expect(fromSource.text).toContain('非煤矿山');
      expect(fromCopy.text).toBe(fromSource.text);
    } finally {
      await copy.$disconnect();
    }
  });

  it('refuses to overwrite an existing file unless --force, and leaves no partial file', async () => {
    const file = join(t.dir, 'exists.db');
    writeFileSync(file, 'yesterday');
    await expect(backupDatabase(t.url, file)).rejects.toThrow(
      new BackupError(`${file} 已存在，未覆盖：请换一个文件名，或加 --force 覆盖。`),
    );
    expect(readFileSync(file, 'utf8')).toBe('yesterday');
    expect(readdirSync(t.dir).filter((f) => f.includes('.partial'))).toEqual([]);
    // Nor the database itself, even with --force.
    await expect(backupDatabase(t.url, source, { force: true })).rejects.toThrow(/就是数据库文件本身/);
    expect(counts(source).enterprise).toBe(counts(join(t.dir, 'restore.db')).enterprise);

    const r = await backupDatabase(t.url, file, { force: true });
    expect(r.tables.campaign).toBe(1);
    expect(readFileSync(file).subarray(0, 15).toString()).toBe('SQLite format 3');
  });

  it('refuses a PostgreSQL URL and says to use pg_dump', async () => {
    const file = join(t.dir, 'pg.dump');
    await expect(backupDatabase('postgres://anze:secret@db.example:5432/anze', file)).rejects.toThrow(
      `pg_dump --format=custom --file=${file} "$DATABASE_URL"`,
    );
    expect(existsSync(file)).toBe(false);
  });

  it('runs as a command: exit 0 and a checked file; a second run to the same file exits 1', async () => {
    const file = join(t.dir, 'cli.db');
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', file], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: t.url },
        timeout: 10_000,
      });
    const { stdout } = await run();
    expect(stdout).toContain(`✅ 备份完成，完整性检查通过：${file}`);
    expect(stdout).toMatch(/企业 \d+ 家，保单 \d+ 份/);
    expect(counts(file).enterprise).toBe(counts(source).enterprise);
    await expect(run()).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('已存在，未覆盖') });
  });
});
