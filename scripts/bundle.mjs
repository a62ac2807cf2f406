#!/usr/bin/env node
// npm run bundle [-- --out <folder>]: the offline release bundle of this checkout, for a Linux server
// that has Node.js and nothing else (no registry, no compiler):
//
//   anze-bot-<version>-linux-<arch>-node<major>-glibc<min>.tar.gz, and its .sha256
//
// holding the compiled service (dist/, with the generated Prisma clients compiled in and the files
// it reads beside the code: migrations, locales, the dashboard's page), production dependencies
// only (better-sqlite3's native binary for this Node ABI), bin/anze, deploy/ (systemd units,
// install.sh, nginx), samples/ and docs/. It is built for the machine that builds it: Node's major
// version and architecture, and the newest glibc symbol its native code needs. For another target
// (arm64 Kylin, say), run `npm ci && npm run bundle` on such a machine.
//
// Production dependencies are installed into a staging folder with `npm ci --omit=dev
// --omit=optional --ignore-scripts`, from npm's cache when it has them (it does after `npm ci`);
// --omit=optional leaves out the Prisma CLI and TypeScript, which @prisma/client names as optional
// peers. The one install script that matters, better-sqlite3's, is replaced by copying the binary
// this checkout's `npm ci` already built (same version, same Node), so nothing is compiled here.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'release') } } });
const started = Date.now();
const step = (what) => console.log(`bundle: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const fail = (message) => {
  console.error(`bundle: ${message}`);
  process.exit(1);
};
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8');

if (process.platform !== 'linux') fail('bundles are built on Linux, for Linux');
const pkg = JSON.parse(read('package.json'));
const nodeMajor = Number(process.versions.node.split('.')[0]);
const arch = process.arch;

// What must be there already: the clients `npm ci` generated, and better-sqlite3 built for this Node.
for (const file of ['src/generated/prisma/client.ts', 'src/generated/prisma-pg/client.ts'])
  if (!fs.existsSync(path.join(ROOT, file))) fail(`${file} is missing: run npm ci (or npm run db:generate) first`);
const sqliteBinary = path.join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
if (!fs.existsSync(sqliteBinary)) fail('better-sqlite3 is not built in node_modules: run npm ci first');

const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'anze-bundle-'));
try {
  const app = path.join(stage, 'app');
  fs.mkdirSync(app);

  step('compiling the service into dist/');
  run(process.execPath, [
    path.join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    path.join(ROOT, 'tsconfig.build.json'),
    '--outDir',
    path.join(app, 'dist'),
  ]);
  // What the code reads beside itself that TypeScript does not emit: every non-TypeScript file
  // under src/ (the dashboard's page and icon, the chart rasteriser) and the migrations.
  for (const file of walk(path.join(ROOT, 'src')).filter((f) => !f.endsWith('.ts')))
    copy(file, path.join(app, 'dist', path.relative(ROOT, file)));
  for (const dir of ['prisma/migrations', 'prisma/postgres/migrations'])
    fs.cpSync(path.join(ROOT, dir), path.join(app, 'dist', dir), { recursive: true });

  step('installing production dependencies');
  fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(app, 'package-lock.json'));
  // No "type": bin/anze is CommonJS; dist/ has its own package.json, which makes the service ESM.
  const { name, version, description, engines, license, dependencies } = pkg;
  const shipped = { name, version, description, private: true, engines, license, dependencies };
  fs.writeFileSync(path.join(app, 'package.json'), `${JSON.stringify(shipped, null, 2)}\n`);
  run(
    'npm',
    ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
    { cwd: app, env: { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' } },
  );
  const stagedSqlite = path.join(app, 'node_modules/better-sqlite3');
  const version_ = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  if (version_(stagedSqlite) !== version_(path.join(ROOT, 'node_modules/better-sqlite3')))
    fail('node_modules/better-sqlite3 is not the version package-lock.json names: run npm ci first');
  copy(sqliteBinary, path.join(stagedSqlite, 'build/Release/better_sqlite3.node'));
  prune(path.join(app, 'node_modules'));

  step('adding bin/, deploy/, samples/ and docs/');
  for (const file of ['bin/anze', 'bin/anze.mjs']) {
    copy(path.join(ROOT, file), path.join(app, file));
    fs.chmodSync(path.join(app, file), 0o755);
  }
  fs.cpSync(path.join(ROOT, 'deploy'), path.join(app, 'deploy'), { recursive: true });
  for (const script of ['install.sh', 'rollback.sh']) fs.chmodSync(path.join(app, 'deploy', script), 0o755);
  fs.writeFileSync(path.join(app, 'deploy/anze-bot.env.example'), deploymentEnv(read('.env.example')));
  for (const [from, to] of [
    ['prisma/samples/roster.csv', 'samples/roster.csv'],
    ['prisma/samples/policies.xlsx', 'samples/policies.xlsx'],
    ['prisma/campaigns/anhua.json', 'samples/campaign-anhua.json'],
    ['prisma/calendar.json', 'samples/calendar.json'],
    ['README.md', 'README.md'],
    ['CHANGELOG.md', 'CHANGELOG.md'],
    ['LICENSE', 'LICENSE'],
  ])
    copy(path.join(ROOT, from), path.join(app, to));
  if (fs.existsSync(path.join(ROOT, 'docs')))
    fs.cpSync(path.join(ROOT, 'docs'), path.join(app, 'docs'), { recursive: true });

  step('checking what was staged');
  const glibc = glibcNeeded(path.join(app, 'node_modules'));
  const info = {
    name,
    version,
    platform: 'linux',
    arch,
    node: process.versions.node,
    nodeMajor,
    abi: process.versions.modules,
    glibc,
    commit: gitCommit(),
  };
  fs.writeFileSync(path.join(app, 'bundle.json'), `${JSON.stringify(info, null, 2)}\n`);
  // The staged tree loads better-sqlite3 and lists its commands, on this Node, without the checkout.
  run(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], {
    cwd: app,
  });
  run(process.execPath, [path.join(app, 'bin/anze.mjs'), 'help'], {
    cwd: stage,
    env: { PATH: process.env.PATH, ANZE_ENV_FILE: '' },
    stdio: 'ignore',
  });

  const base = `${name}-${version}-linux-${arch}-node${nodeMajor}-glibc${glibc}`;
  fs.renameSync(app, path.join(stage, base));
  fs.mkdirSync(values.out, { recursive: true });
  const tarball = path.join(path.resolve(values.out), `${base}.tar.gz`);
  step(`writing ${tarball}`);
  run('tar', ['-C', stage, '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, base]);
  const sha = createHash('sha256').update(fs.readFileSync(tarball)).digest('hex');
  fs.writeFileSync(`${tarball}.sha256`, `${sha}  ${path.basename(tarball)}\n`);
  step(`done: ${(fs.statSync(tarball).size / 2 ** 20).toFixed(1)} MB, sha256 ${sha}`);
  console.log(tarball);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}

function walk(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

/** Drops what nothing loads at run time: type declarations, source maps, better-sqlite3's C sources. */
function prune(modules) {
  for (const dir of ['better-sqlite3/deps', 'better-sqlite3/src'])
    fs.rmSync(path.join(modules, dir), { recursive: true, force: true });
  for (const file of walk(modules)) if (/\.(d\.ts|d\.mts|d\.cts|map)$/.test(file)) fs.rmSync(file);
}

/** The newest GLIBC_x.y symbol version the native addons reference: the oldest glibc they load on. */
function glibcNeeded(modules) {
  let best = [2, 17];
  for (const file of walk(modules).filter((f) => f.endsWith('.node'))) {
    for (const m of fs
      .readFileSync(file)
      .toString('latin1')
      .matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
      const v = [Number(m[1]), Number(m[2])];
      if (v[0] > best[0] || (v[0] === best[0] && v[1] > best[1])) best = v;
    }
  }
  return best.join('.');
}

/** .env.example with the paths of an installed bundle (install.sh, the systemd unit). */
function deploymentEnv(example) {
  const set = {
    DATABASE_URL: 'file:/var/lib/anze-bot/anze.db',
    PORT: '3000',
  };
  let text = example;
  for (const [key, value] of Object.entries(set)) {
    const line = new RegExp(`^${key}=.*$`, 'm');
    if (!line.test(text)) fail(`.env.example has no ${key}=`);
    text = text.replace(line, `${key}=${value}`);
  }
  return (
    `# /etc/anze-bot/anze-bot.env: the service's configuration (systemd EnvironmentFile=; mode 0600).\n` +
    `# Check it with: sudo -u anze-bot /opt/anze-bot/current/bin/anze check-config /etc/anze-bot/anze-bot.env\n\n` +
    text.replace(/^# Copy to \.env and fill in\. /, '# ') +
    `\n# The deployment's corrections to China's holiday calendar (see samples/calendar.json).\n` +
    `BOT_CALENDAR_FILE=/etc/anze-bot/calendar.json\n` +
    `# Days the daily backups are kept (anze-bot-backup.service); five years by default.\n` +
    `ANZE_BACKUP_KEEP_DAYS=1830\n`
  );
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return null;
  }
}
