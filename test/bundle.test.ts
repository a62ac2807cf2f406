// The release bundle (npm run bundle), as a county's server gets it: built, unpacked in a
// temporary folder outside the checkout, and run with a PATH that has node and nothing else (no
// npm, no shell tools), no node_modules above it, and HTTP(S)_PROXY pointing at a closed port (no
// registry, no network). It checks its configuration, migrates an empty SQLite file, serves, answers
// /覆盖率 in the sandbox, backs up and restores, and stops on SIGTERM; install.sh refuses a machine
// the bundle was not built for, saying why.
import { execFile, type ExecFileException } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, kill, startServiceProcess, type ServiceProcess } from './support/service.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
let dir: string;
let tarball: string;
let app: string;
let env: Record<string, string>;
let service: ServiceProcess | null = null;
const db = () => join(dir, 'data', 'anze.db');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anze-bundle-test-'));
  // Built as a developer or CI would (npm on PATH), into the temporary folder.
  const { stdout } = await run(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--out', join(dir, 'out')], {
    cwd: ROOT,
    maxBuffer: 16 * 2 ** 20,
  });
  tarball = stdout.trim().split('\n').at(-1)!;
  await run('tar', ['-xzf', tarball, '-C', dir]);
  app = join(
    dir,
    readdirSync(dir).find((f) => f.startsWith('anze-bot-'))!,
  );
  // The server: node alone on PATH.
  mkdirSync(join(dir, 'path'));
  symlinkSync(process.execPath, join(dir, 'path', 'node'));
  const closed = `http://127.0.0.1:${await freePort()}`;
  env = {
    PATH: join(dir, 'path'),
    HOME: dir,
    HTTP_PROXY: closed,
    HTTPS_PROXY: closed,
    http_proxy: closed,
    https_proxy: closed,
    ANZE_ENV_FILE: '',
    DATABASE_URL: `file:${db()}`,
    BOT_CALENDAR_FILE: join(app, 'samples/calendar.json'),
    BOT_ADMINS: 'ops-admin',
  };
}, 300_000);

afterAll(async () => {
  if (service) await kill(service);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** bin/anze as an operator types it: found by its shebang through PATH, in the temporary folder. */
async function anze(args: string[], extra: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(join(app, 'bin/anze'), args, { cwd: dir, env: { ...env, ...extra } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as ExecFileException & { stdout: string; stderr: string };
    return { code: Number(code), stdout, stderr };
  }
}

/** A migration that a relabelled release adds, so that an upgrade to it migrates. */
const PROBE = 'CREATE TABLE "UpgradeProbe" ("id" INTEGER NOT NULL PRIMARY KEY);\n';

/** This bundle relabelled, with a migration more (node_modules linked, not copied: install.sh copies the release). */
async function release(version: string, migration?: string): Promise<string> {
  const copy = join(dir, `release-${version}`);
  mkdirSync(copy);
  for (const entry of readdirSync(app))
    if (entry === 'node_modules') symlinkSync(join(app, entry), join(copy, entry));
    else cpSync(join(app, entry), join(copy, entry), { recursive: true, verbatimSymlinks: true });
  const info = JSON.parse(readFileSync(join(copy, 'bundle.json'), 'utf8'));
  writeFileSync(join(copy, 'bundle.json'), JSON.stringify({ ...info, version }));
  if (migration) {
    mkdirSync(join(copy, 'dist/prisma/migrations/29990101000000_upgrade_probe'));
    writeFileSync(join(copy, 'dist/prisma/migrations/29990101000000_upgrade_probe/migration.sql'), migration);
  }
  return copy;
}

describe('the release bundle', () => {
  it('is named for its target, with its checksum, and holds production dependencies only', () => {
    const major = process.versions.node.split('.')[0];
    const name = tarball.split('/').at(-1)!;
    expect(name).toMatch(
      new RegExp(`^anze-bot-\\d+\\.\\d+\\.\\d+-linux-${process.arch}-node${major}-glibc2\\.\\d+\\.tar\\.gz$`),
    );
    const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
    expect(readFileSync(`${tarball}.sha256`, 'utf8')).toBe(`${sha}  ${name}\n`);

    // Nothing above the unpacked bundle provides modules.
    for (let d = dirname(app); d !== dirname(d); d = dirname(d))
      expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    for (const dev of ['prisma', 'typescript', 'vitest', 'tsx', 'prettier', '@prisma/schema-engine-wasm'])
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    for (const file of [
      'bin/anze',
      'dist/src/main.js',
      'dist/src/generated/prisma/client.js',
      'dist/src/http/dashboard/index.html',
      'dist/src/domain/raster-child.mjs',
      'dist/locales/zh-CN.json',
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'deploy/anze-bot.service',
      'deploy/anze-bot-backup.timer',
      'deploy/install.sh',
      'deploy/nginx-anze-bot.conf',
      'deploy/anze-bot.env.example',
      'samples/roster.csv',
      'LICENSE',
    ])
      expect(existsSync(join(app, file)), file).toBe(true);
    expect(readdirSync(join(app, 'dist/prisma/migrations'))).toEqual(readdirSync(join(ROOT, 'prisma/migrations')));
    const info = JSON.parse(readFileSync(join(app, 'bundle.json'), 'utf8'));
    expect(info).toMatchObject({ arch: process.arch, abi: process.versions.modules });
    expect(name).toContain(`glibc${info.glibc}`);
  });

  it('lists every CLI as a command', async () => {
    const { code, stdout } = await anze(['help']);
    expect(code).toBe(0);
    const clis = readdirSync(join(ROOT, 'src/cli')).map((f) => f.replace(/\.ts$/, ''));
    for (const command of ['serve', ...clis]) expect(stdout).toContain(command);
    expect((await anze(['frobnicate'])).code).toBe(2);
  });

  it('checks a configuration file: names the wrong variable, and prints no secret of a good one', async () => {
    writeFileSync(join(dir, 'bad.env'), 'PORT=3000\nWECOM_BOT_AES_KEY=too-short\nWECOM_BOT_TOKEN=x\n');
    const bad = await anze(['check-config', join(dir, 'bad.env')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('WECOM_BOT_AES_KEY');

    const secret = 's3cr3t-'.repeat(6);
    const example = readFileSync(join(app, 'deploy/anze-bot.env.example'), 'utf8');
    writeFileSync(
      join(dir, 'good.env'),
      example
        .replace(/^WECOM_BOT_TOKEN=.*$/m, `WECOM_BOT_TOKEN=${secret}`)
        .replace(/^WECOM_BOT_AES_KEY=.*$/m, `WECOM_BOT_AES_KEY=${'k'.repeat(43)}`),
    );
    const good = await anze(['check-config', join(dir, 'good.env')]);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('/var/lib/anze-bot/anze.db');
    expect(good.stdout + good.stderr).not.toContain(secret);
  });

  it('migrates an empty SQLite file', async () => {
    mkdirSync(dirname(db()));
    writeFileSync(db(), '');
    const { code, stdout, stderr } = await anze(['migrate']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const migrations = readdirSync(join(ROOT, 'prisma/migrations')).filter((f) => !f.endsWith('.toml'));
    for (const m of migrations) expect(stdout).toContain(m);
    const raw = new Database(db(), { readonly: true });
    expect(raw.prepare('SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL').pluck().get()).toBe(
      migrations.length,
    );
    raw.close();
    expect((await anze(['migrate'])).stdout).toContain(String(migrations.length));
  });

  it('serves, answers /覆盖率 in the sandbox, and stops on SIGTERM', async () => {
    service = await startServiceProcess(
      { url: env.DATABASE_URL! },
      'http://127.0.0.1:9',
      { ...env, PORT: String(await freePort()), WECOM_BOT_TOKEN: '', WECOM_BOT_AES_KEY: '' },
      [join(app, 'bin/anze'), 'serve'],
      dir,
    );
    expect(service.output()).toContain('sandbox');
    expect(await (await fetch(`${service.url}/healthz`)).json()).toMatchObject({ ok: true });
    expect((await fetch(`${service.url}/dashboard`)).status).toBe(200);

    const chat = await anze(['chat', '--as', 'ops-admin', '/覆盖率']);
    expect(chat.stderr).toBe('');
    expect(chat.stdout).toContain('危险化学品');

    const stopped = Date.now();
    service.proc.kill('SIGTERM');
    await Promise.race([service.exited, new Promise((r) => setTimeout(r, 10_000))]);
    expect(service.proc.exitCode, service.output()).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(10_000);
    service = null;
  }, 60_000);

  it('backs up and restores', async () => {
    const backup = join(dir, 'nightly.db');
    expect((await anze(['backup', backup])).code).toBe(0);
    const raw = new Database(db());
    const units = raw.prepare('SELECT count(*) FROM Unit').pluck().get() as number;
    expect(units).toBeGreaterThan(20); // the county's departments and townships
    expect(raw.prepare(`UPDATE Unit SET name = 'changed'`).run().changes).toBe(units);
    raw.close();
    const restored = await anze(['restore', backup]);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const check = new Database(db(), { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(check.prepare('SELECT count(*) FROM Unit').pluck().get()).toBe(units);
    expect(check.prepare(`SELECT count(*) FROM Unit WHERE name = 'changed'`).pluck().get()).toBe(0);
    check.close();
  });

  it('upgrades with a backup before migrating; rolls back restoring it only when the upgrade migrated', async () => {
    const root = join(dir, 'root'); // ANZE_DESTDIR: /opt, /etc and /var/lib under it, no user, no systemd
    const prefix = join(root, 'opt/anze-bot');
    const data = join(root, 'var/lib/anze-bot');
    const envFile = join(root, 'etc/anze-bot/anze-bot.env');
    const dbFile = join(data, 'anze.db');
    const script = (file: string) =>
      run('sh', [file], { env: { PATH: process.env.PATH, ANZE_NODE: process.execPath, ANZE_DESTDIR: root } });
    const installed = (args: string[]) =>
      run(join(prefix, 'current/bin/anze'), args, {
        cwd: dir,
        env: { PATH: env.PATH, HOME: dir, HTTPS_PROXY: env.HTTPS_PROXY, ANZE_ENV_FILE: envFile },
      });
    const link = (name: string) => (existsSync(join(prefix, name)) ? readlinkSync(join(prefix, name)) : null);
    const sql = <T>(query: string, write = false): T => {
      const raw = new Database(dbFile, { readonly: !write });
      try {
        return (write ? raw.prepare(query).run() : raw.prepare(query).pluck().get()) as T;
      } finally {
        raw.close();
      }
    };
    const [v1, v2, v3] = await Promise.all([release('1.0.0'), release('1.1.0', PROBE), release('1.0.1')]);

    // A first installation: the configuration from the example, readable by its owner only.
    const first = await script(join(v1, 'deploy/install.sh'));
    expect(first.stdout).toContain('this machine fits');
    expect(link('current')).toBe('1.0.0');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    writeFileSync(
      envFile,
      readFileSync(envFile, 'utf8')
        .replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=file:${dbFile}`)
        .replace(/^BOT_CALENDAR_FILE=.*$/m, `BOT_CALENDAR_FILE=${join(app, 'samples/calendar.json')}`),
    );
    await installed(['seed']);
    const units = sql<number>('SELECT count(*) FROM Unit');
    expect(units).toBeGreaterThan(20);

    // An upgrade with a migration: backed up first, then migrated; the old release stays as previous.
    const up = await script(join(v2, 'deploy/install.sh'));
    expect(up.stdout).toContain('backed up the database before the upgrade');
    expect([link('current'), link('previous')]).toEqual(['1.1.0', '1.0.0']);
    const backups = readdirSync(join(data, 'backups'));
    expect(backups).toEqual([expect.stringMatching(/^before-1\.1\.0-from-1\.0\.0-\d{8}-\d{6}\.db$/)]);
    expect(sql<number>(`SELECT count(*) FROM sqlite_master WHERE name = 'UpgradeProbe'`)).toBe(1);
    sql('INSERT INTO UpgradeProbe (id) VALUES (1)', true);
    sql(`UPDATE Unit SET name = 'after-upgrade' WHERE id = (SELECT min(id) FROM Unit)`, true);

    // Rolled back: 1.0.0 never runs on 1.1.0's schema, so the backup comes back; what came after is gone.
    const back = await script(join(prefix, 'current/deploy/rollback.sh'));
    expect(back.stdout).toContain('restoring the backup taken before the upgrade');
    expect([link('current'), link('previous')]).toEqual(['1.0.0', null]);
    expect(sql<number>(`SELECT count(*) FROM sqlite_master WHERE name = 'UpgradeProbe'`)).toBe(0);
    expect(sql<number>(`SELECT count(*) FROM _prisma_migrations WHERE migration_name LIKE '2999%'`)).toBe(0);
    expect(sql<number>(`SELECT count(*) FROM Unit WHERE name = 'after-upgrade'`)).toBe(0);
    expect(sql<number>('SELECT count(*) FROM Unit')).toBe(units);
    expect(sql<string>('PRAGMA integrity_check')).toBe('ok');
    expect((await installed(['migrate'])).stdout).toContain('无需迁移');

    // An upgrade without migrations rolls back keeping everything written since.
    await script(join(v3, 'deploy/install.sh'));
    expect([link('current'), link('previous')]).toEqual(['1.0.1', '1.0.0']);
    sql(`UPDATE Unit SET name = 'kept' WHERE id = (SELECT min(id) FROM Unit)`, true);
    expect((await script(join(prefix, 'current/deploy/rollback.sh'))).stdout).toContain('kept as it is');
    expect(link('current')).toBe('1.0.0');
    expect(sql<number>(`SELECT count(*) FROM Unit WHERE name = 'kept'`)).toBe(1);
    await expect(script(join(prefix, 'current/deploy/rollback.sh'))).rejects.toMatchObject({
      stderr: expect.stringContaining('no previous release'),
    });
  }, 120_000);

  // install.sh's root path for real (the service user created, owning the data and the
  // configuration, running the commands; the release owned by root; the units written for that
  // user), under ANZE_DESTDIR so that /opt, /etc and /var/lib stay as they are, with a throwaway
  // user removed afterwards. It needs root to create a user (CI's containers run as root);
  // elsewhere it is skipped, and the test above covers the rest.
  it.runIf(process.getuid?.() === 0)(
    'install.sh as root creates the service user, which owns the data and runs the upgrade and the rollback',
    async () => {
      const user = `anze-t${randomBytes(3).toString('hex')}`;
      const root = join(dir, 'root-as-user');
      const prefix = join(root, 'opt/anze-bot');
      const data = join(root, 'var/lib/anze-bot');
      const envFile = join(root, 'etc/anze-bot/anze-bot.env');
      const dbFile = join(data, 'anze.db');
      const script = (file: string) =>
        run('sh', [file], {
          cwd: dir,
          env: { PATH: process.env.PATH, ANZE_NODE: process.execPath, ANZE_DESTDIR: root, ANZE_USER: user },
        });
      // The user reaches the release and the data through the temporary folder, as it would through /opt.
      chmodSync(dir, 0o755);
      try {
        const [v1, v2] = await Promise.all([release('2.0.0'), release('2.1.0', PROBE)]);
        const first = await script(join(v1, 'deploy/install.sh'));
        expect(first.stdout).toContain(`created the system user ${user}`);
        const [, , uid, , , home, shell] = (await run('getent', ['passwd', user])).stdout.trim().split(':');
        expect(Number(uid)).toBeGreaterThan(0);
        expect(Number(uid)).toBeLessThan(1000); // a system user
        expect([home, shell]).toEqual([data, expect.stringMatching(/nologin$/)]);
        const owner = (path: string) => ({ uid: statSync(path).uid, mode: statSync(path).mode & 0o777 });
        expect(owner(envFile)).toEqual({ uid: Number(uid), mode: 0o600 });
        expect(owner(data)).toEqual({ uid: Number(uid), mode: 0o750 });
        expect(owner(join(prefix, '2.0.0/bin/anze.mjs')).uid).toBe(0);
        expect(owner(join(prefix, '2.0.0/bin/anze.mjs')).mode & 0o022).toBe(0);
        const unit = readFileSync(join(root, 'etc/systemd/system/anze-bot.service'), 'utf8');
        expect(unit).toContain(`User=${user}\nGroup=${user}\n`);
        expect(unit).toContain(`ExecStart=${process.execPath} /opt/anze-bot/current/bin/anze.mjs serve`);
        expect(readFileSync(join(root, 'etc/systemd/system/anze-bot-backup.service'), 'utf8')).not.toContain('@NODE@');

        // The service user's database, then an upgrade: backed up and migrated as that user.
        writeFileSync(
          envFile,
          readFileSync(envFile, 'utf8')
            .replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=file:${dbFile}`)
            .replace(/^BOT_CALENDAR_FILE=.*$/m, `BOT_CALENDAR_FILE=${join(root, 'etc/anze-bot/calendar.json')}`),
        );
        await run(
          'runuser',
          [
            '-u',
            user,
            '--',
            'env',
            `ANZE_ENV_FILE=${envFile}`,
            process.execPath,
            join(prefix, 'current/bin/anze.mjs'),
            'seed',
          ],
          { cwd: dir },
        );
        expect(owner(dbFile).uid).toBe(Number(uid));
        const up = await script(join(v2, 'deploy/install.sh'));
        expect(up.stdout).toContain('backed up the database before the upgrade');
        expect(up.stdout).not.toContain('created the system user');
        const [backup] = readdirSync(join(data, 'backups'));
        expect(owner(join(data, 'backups', backup!)).uid).toBe(Number(uid));
        const probe = () => {
          const raw = new Database(dbFile, { readonly: true });
          try {
            return raw.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'UpgradeProbe'`).pluck().get();
          } finally {
            raw.close();
          }
        };
        expect(probe()).toBe(1);

        // Rolled back: the backup restored by the service user, whose database it stays.
        const back = await script(join(prefix, 'current/deploy/rollback.sh'));
        expect(back.stdout).toContain('restoring the backup taken before the upgrade');
        expect(probe()).toBe(0);
        expect(owner(dbFile).uid).toBe(Number(uid));
      } finally {
        await run('userdel', [user]).catch(() => undefined);
        await run('groupdel', [user]).catch(() => undefined);
      }
    },
    180_000,
  );

  it('install.sh refuses another architecture or Node.js, saying what the bundle was built for', async () => {
    const install = (info: object) => {
      const other = join(dir, 'other');
      rmSync(other, { recursive: true, force: true });
      mkdirSync(join(other, 'deploy'), { recursive: true });
      writeFileSync(join(other, 'deploy/install.sh'), readFileSync(join(app, 'deploy/install.sh')));
      const built = JSON.parse(readFileSync(join(app, 'bundle.json'), 'utf8'));
      writeFileSync(join(other, 'bundle.json'), JSON.stringify({ ...built, ...info }));
      return run('sh', [join(other, 'deploy/install.sh')], {
        env: { PATH: process.env.PATH, ANZE_NODE: process.execPath },
      });
    };
    await expect(install({ arch: 'riscv64' })).rejects.toMatchObject({
      stderr: expect.stringContaining(`built for riscv64, but this machine (its Node.js) is ${process.arch}`),
    });
    await expect(install({ nodeMajor: 99, abi: '999' })).rejects.toMatchObject({
      stderr: expect.stringContaining('built for Node.js 99 (module ABI 999)'),
    });
    await expect(install({ glibc: '9.99' })).rejects.toMatchObject({
      stderr: expect.stringMatching(/needs glibc 9\.99 or newer|is not glibc/),
    });
  });
});
