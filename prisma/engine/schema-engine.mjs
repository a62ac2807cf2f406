#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, which cannot be downloaded where only the
// npm registry is reachable. prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY here; the
// unmodified CLI then talks to this process exactly as to the native engine (JSON-RPC 2.0, one
// message a line on stdin/stdout, logs as JSON lines on stderr), and each request is forwarded to
// @prisma/schema-engine-wasm running on a JS driver adapter.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WASM_PKG = '@prisma/schema-engine-wasm';

// ---------------------------------------------------------------------------------------------
// Drivers: the only place that knows which driver adapter serves which kind of URL.

const drivers = {
  file: sqliteDriver,
  postgres: postgresDriver,
  postgresql: postgresDriver,
};

function driverFor(datasource) {
  const url = datasource?.url;
  if (!url) throw userError('P1012', 'No datasource url: set datasource.url in prisma.config.ts.');
  const scheme = url.slice(0, url.indexOf(':'));
  const make = drivers[scheme];
  if (!make) throw userError('P1013', `This stand-in schema engine has no driver for "${scheme}:" URLs yet.`);
  return make(datasource);
}

function sqliteDriver({ url, shadowDatabaseUrl }) {
  // Same resolution as the adapter and the native engine: relative to the working directory,
  // which the CLI sets to the config file's folder. Query parameters mean nothing to better-sqlite3.
  const file = url.replace(/^file:/, '').replace(/\?.*$/, '');
  const abs = file === ':memory:' ? file : path.resolve(file);
  return {
    provider: 'sqlite',
    databaseName: path.basename(abs),
    location: abs,
    factory() {
      const { PrismaBetterSqlite3 } = require('@prisma/adapter-better-sqlite3');
      return new PrismaBetterSqlite3({ url: abs }, shadowDatabaseUrl ? { shadowDatabaseUrl } : undefined);
    },
    exists: () => abs === ':memory:' || fs.existsSync(abs),
    create() {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      const Database = require('better-sqlite3');
      new Database(abs).close();
    },
    // What the stand-in itself asks of the live database (see withMigrationsTable).
    sql: {
      // The native engine's DDL for its SQLite migrations table.
      createMigrationsTable: `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);
`,
      dropMigrationsTable: `DROP TABLE "_prisma_migrations"`,
    },
    // The wasm engine's reset only deletes rows; the native engine empties the file, and so do we.
    // A leftover WAL would be replayed into the emptied file, so it goes too.
    wipe() {
      if (abs === ':memory:') return;
      for (const suffix of ['-wal', '-shm', '-journal']) fs.rmSync(abs + suffix, { force: true });
      if (fs.existsSync(abs)) fs.truncateSync(abs, 0);
      else this.create();
    },
  };
}

// The native engine's DDL for its PostgreSQL migrations table.
const PG_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
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

function postgresDriver({ url, shadowDatabaseUrl }) {
  const pgRequire = createRequire(require.resolve('pg'));
  const pg = pgRequire('pg');
  // Fields, not a connection string: pg lets a connection string win over a `database` field,
  // and the shadow databases below are the server's URL with another database name.
  const fields = (u) => {
    const { host, port, user, password, database, ssl } = pgRequire('pg-connection-string').parse(u);
    return { host, port: port ? Number(port) : undefined, user, password, database: database || user, ssl };
  };
  const config = fields(url);
  // Shadow databases are created on the shadow URL's server when one is configured, else on the main one.
  const server = fields(shadowDatabaseUrl || url);
  const quote = (name) => `"${name.replace(/"/g, '""')}"`;
  /** One statement on the server's maintenance database (the target database may not exist yet). */
  const onServer = async (sql, params, at = { ...server, database: 'postgres' }) => {
    const client = new pg.Client(at);
    await client.connect();
    try {
      return await client.query(sql, params);
    } finally {
      await client.end();
    }
  };
  return {
    provider: 'postgresql',
    databaseName: config.database,
    location: `${config.host ?? 'localhost'}:${config.port ?? 5432}`,
    factory() {
      const { PrismaPg } = require('@prisma/adapter-pg');
      const main = new PrismaPg(config);
      return {
        provider: main.provider,
        adapterName: main.adapterName,
        connect: async () => acceptCharColumns(await main.connect()),
        // adapter-pg's own shadow database drops itself before closing its pool, which fails;
        // close first, then drop (again while a connection the pool just closed lingers).
        async connectToShadowDb() {
          const name = `prisma_migrate_shadow_db_${randomUUID()}`;
          await onServer(`CREATE DATABASE ${quote(name)}`, [], server);
          const adapter = acceptCharColumns(await new PrismaPg({ ...server, database: name }).connect());
          const dispose = adapter.dispose.bind(adapter);
          adapter.dispose = async () => {
            await dispose();
            for (let attempt = 0; ; attempt++) {
              try {
                return void (await onServer(`DROP DATABASE IF EXISTS ${quote(name)}`, [], server));
              } catch (e) {
                if (e?.code !== '55006' || attempt >= 50) throw e;
                await new Promise((r) => setTimeout(r, 100));
              }
            }
          };
          return adapter;
        },
      };
    },
    exists: async () =>
      (await onServer('SELECT 1 FROM pg_database WHERE datname = $1', [config.database])).rowCount > 0,
    create: () => onServer(`CREATE DATABASE ${quote(config.database)}`),
    sql: { createMigrationsTable: PG_MIGRATIONS_TABLE, dropMigrationsTable: 'DROP TABLE _prisma_migrations' },
    // What the native engine's reset does on PostgreSQL: an empty public schema.
    wipe: () => onServer('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public', [], config),
  };
}

// adapter-pg refuses PostgreSQL's one-byte "char" type (oid 18), which the engine reads from the
// catalogue when it describes a schema (pg_class.relkind, pg_constraint.contype, …); pg already
// parses it as a string, so let it pass as text. Patched on the queryable class that every
// adapter-pg connection and transaction shares, in this process only.
let charsAccepted = false;
function acceptCharColumns(adapter) {
  if (!charsAccepted) {
    charsAccepted = true;
    const queryable = Object.getPrototypeOf(Object.getPrototypeOf(adapter));
    const io = queryable.performIO;
    queryable.performIO = async function (query) {
      const result = await io.call(this, query);
      for (const field of result.fields ?? []) if (field.dataTypeID === 18) field.dataTypeID = 25;
      return result;
    };
  }
  return adapter;
}

// ---------------------------------------------------------------------------------------------
// Errors, in the shapes the CLI reads.

function userError(code, message) {
  return Object.assign(new Error(message), { code });
}

function rpcError(e) {
  const isPanic = e instanceof WebAssembly.RuntimeError || e?.name === 'RuntimeError';
  const message = String(e?.message ?? e);
  return {
    code: 4466,
    message: 'An error happened. Check the data field for details.',
    data: { is_panic: isPanic, message, error_code: typeof e?.code === 'string' ? e.code : undefined, meta: e?.meta },
  };
}

function log(level, message, extra = {}) {
  process.stderr.write(
    JSON.stringify({
      timestamp: new Date().toISOString(),
      level,
      target: 'schema_engine::logger',
      fields: { message, ...extra },
    }) + '\n',
  );
}

// ---------------------------------------------------------------------------------------------
// The wasm engine.

// The package's exports map hides its .wasm and package.json; find them next to its entry.
const wasmDir = () => path.dirname(require.resolve(WASM_PKG));

let wasmRuntime;
async function loadWasm() {
  if (wasmRuntime) return wasmRuntime;
  // The package's entry imports the .wasm as an ES module, which Node 20 cannot do without a
  // flag; load the JS glue and instantiate the module ourselves, as Prisma's own loader does.
  const runtime = await import(`${WASM_PKG}/schema_engine_bg`);
  const wasmFile = path.join(wasmDir(), 'schema_engine_bg.wasm');
  const module = new WebAssembly.Module(fs.readFileSync(wasmFile));
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': runtime });
  runtime.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return (wasmRuntime = runtime);
}

// A connection opened on first use. The wasm engine connects as soon as it starts, but the native
// engine only touches the database when a command needs it: `migrate diff` between migrations and
// a schema must work (and create no file) when the database does not exist.
function lazyConnection(open, { provider, adapterName }) {
  let opened;
  const conn = () => (opened ??= open().then(acceptScripts));
  return {
    provider,
    adapterName,
    queryRaw: async (query) => (await conn()).queryRaw(query),
    executeRaw: async (query) => (await conn()).executeRaw(query),
    executeScript: async (script) => (await conn()).executeScript(script),
    startTransaction: async (level) => (await conn()).startTransaction(level),
    dispose: async () => opened && (await opened).dispose(),
  };
}

// better-sqlite3 prepares one statement per call, but the wasm engine sends a whole migration
// script through executeRaw/queryRaw when replaying migrations; run such scripts with exec.
function acceptScripts(adapter) {
  const multi = (e) => e instanceof RangeError && /more than one statement/.test(e.message);
  const wrap = (fn, empty) => async (query) => {
    try {
      return await fn.call(adapter, query);
    } catch (e) {
      if (!multi(e) || query.args.length > 0) throw e;
      await adapter.executeScript(query.sql);
      return empty;
    }
  };
  adapter.executeRaw = wrap(adapter.executeRaw, 0);
  adapter.queryRaw = wrap(adapter.queryRaw, { columnNames: [], columnTypes: [], rows: [] });
  return adapter;
}

class Engine {
  constructor(argv) {
    this.datamodels = argv.datamodels.map((file) => [file, fs.readFileSync(file, 'utf8')]);
    this.driver = driverFor(argv.datasource);
    this.engine = undefined;
    this.connections = [];
  }

  async get() {
    if (this.engine) return this.engine;
    const runtime = await loadWasm();
    const { bindMigrationAwareSqlAdapterFactory } = createRequire(require.resolve('@prisma/adapter-better-sqlite3'))(
      '@prisma/driver-adapter-utils',
    );
    const raw = this.driver.factory();
    // Keep every connection: reset closes them before it empties the file, and the stand-in's own
    // statements go through the engine's connection to the live database, which may hold an
    // exclusive lock.
    const track = (open) => async () => {
      const conn = lazyConnection(open, raw);
      this.connections.push(conn);
      return conn;
    };
    this.main = undefined;
    const factory = {
      provider: raw.provider,
      adapterName: raw.adapterName,
      connect: async () => (this.main = await track(() => raw.connect())()),
      connectToShadowDb: track(() => raw.connectToShadowDb()),
    };
    this.bound = bindMigrationAwareSqlAdapterFactory(factory);
    const datamodels = this.datamodels.length > 0 ? this.datamodels : undefined;
    this.engine = await runtime.SchemaEngine.new(
      { datamodels },
      (line) => process.stderr.write(`${line}\n`),
      this.bound,
    );
    return this.engine;
  }

  async close() {
    this.engine?.free();
    this.engine = undefined;
    for (const conn of this.connections.splice(0)) await conn.dispose().catch(() => {});
  }

  // An adapter's own error stays in the adapter's registry; the engine only says "External error id#N".
  unwrap(e) {
    const id = /External error id#(\d+)/.exec(String(e?.message))?.[1];
    const registered = id === undefined ? undefined : this.bound?.errorRegistry.consumeError(Number(id));
    return registered ? registered.error : e;
  }

  async call(method, params, retried = false) {
    try {
      const engine = await this.get();
      return await engine[method](params);
    } catch (e) {
      // evaluateDataLoss and createMigration get no shadow database from the wasm engine: they
      // rely on the schema of the migration history that an earlier devDiagnostic cached. When
      // migrate dev has applied migrations since, that cache misses; fill it and try again.
      if (!retried && /shadow DB must be provided through an external factory/.test(e?.message)) {
        const { migrationsList, filters } = params;
        await this.call('diagnoseMigrationHistory', { migrationsList, filters, optInToShadowDatabase: true }, true);
        return this.call(method, params, true);
      }
      throw this.unwrap(e);
    }
  }

  /** Runs one of the driver's own scripts on the engine's connection to the live database. */
  async exec(name) {
    await this.get();
    await this.main.executeScript(this.driver.sql[name]);
  }
}

// Requests the wasm engine lacks or gets wrong for us; everything else is forwarded as is.
const quirks = {
  async getDatabaseVersion(engine, params) {
    return engine.call('version', params ?? undefined);
  },
  async createDatabase(engine) {
    if (!(await engine.driver.exists())) await engine.driver.create();
    return { databaseName: engine.driver.databaseName };
  },
  async reset(engine) {
    await engine.close();
    await engine.driver.wipe();
    return {};
  },
  async diff(engine, params) {
    const { stdout, ...result } = await engine.call('diff', params);
    // The native engine prints through a `print` request to the CLI, which writes it to stdout.
    if (stdout)
      send({
        jsonrpc: '2.0',
        id: `print-${++printId}`,
        method: 'print',
        params: { content: stdout.replace(/\n$/, '') },
      });
    return { ...result, stdout: null };
  },
};
let printId = 0;

// The wasm engine learns the connector of a migrations folder from migration_lock.toml only; the
// native engine falls back on the datasource, so a first migration works without a lock file.
function withLockfile(params, provider) {
  for (const list of [params?.migrationsList, params?.from, params?.to]) {
    if (list?.lockfile && list.lockfile.content === null) list.lockfile.content = `provider = "${provider}"\n`;
  }
  return params;
}

// Where `_prisma_migrations` does not exist yet, the wasm engine fails with P1014 while the native
// engine goes on as if no migration had been applied. Do what the native engine would do.
async function withMigrationsTable(engine, method, params) {
  try {
    return await engine.call(method, params);
  } catch (e) {
    if (!(e?.code === 'P1014' && /_prisma_migrations/.test(e.message))) throw e;
  }
  await engine.exec('createMigrationsTable');
  // `migrate resolve --applied` keeps the table, even in a database that is not empty (baselining).
  if (method === 'markMigrationApplied') return engine.call(method, params);
  // Diagnostics only read: they see an empty table, then the database is left as it was.
  try {
    const result = await engine.call(method, params);
    return method === 'diagnoseMigrationHistory' ? { ...result, hasMigrationsTable: false } : result;
  } finally {
    await engine.exec('dropMigrationsTable');
  }
}

async function handle(engine, { method, params }) {
  withLockfile(params, engine.driver.provider);
  const quirk = quirks[method];
  if (quirk) return quirk(engine, params);
  return withMigrationsTable(engine, method, params);
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Command line: the same flags the CLI passes to the native engine.

function parseArgs(args) {
  const out = { datamodels: [], datasource: undefined, cli: undefined };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--datamodels') out.datamodels.push(args[++i]);
    else if (arg === '--datasource') out.datasource = JSON.parse(args[++i]);
    else if (arg === '--enabled-preview-features' || arg === '--extension-types') i++;
    else if (arg === 'cli') out.cli = args[++i];
    else if (arg === '--version' || arg === '-V') out.version = true;
    else if (arg === '--help' || arg === '-h') out.help = true;
  }
  return out;
}

async function runCli(argv) {
  // The CLI skips the first stderr line and parses the rest as JSON, looking for an ERROR entry.
  log('INFO', `Starting schema engine CLI (${argv.cli})`);
  try {
    const driver = driverFor(argv.datasource);
    if (argv.cli === 'can-connect-to-database') {
      if (!(await driver.exists()))
        throw userError('P1003', `Database \`${driver.databaseName}\` does not exist at \`${driver.location}\``);
    } else if (argv.cli === 'create-database') {
      if (!(await driver.exists())) await driver.create();
      log('INFO', `Database '${driver.databaseName}' was successfully created.`);
    } else {
      throw new Error(`Unknown cli command: ${argv.cli}`);
    }
    return 0;
  } catch (e) {
    log('ERROR', e.message, { error_code: e.code ?? '' });
    return 1;
  }
}

async function serve(argv) {
  let engine, setupError;
  try {
    engine = new Engine(argv);
  } catch (e) {
    setupError = e; // e.g. no datasource url: answer every request with it
  }
  let queue = Promise.resolve();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    if (request.method === undefined) return; // the CLI's answer to our `print`
    // One request at a time, in order, as the CLI expects (reset recreates the engine).
    queue = queue.then(async () => {
      try {
        if (setupError) throw setupError;
        send({ jsonrpc: '2.0', id: request.id, result: (await handle(engine, request)) ?? {} });
      } catch (e) {
        send({ jsonrpc: '2.0', id: request.id, error: rpcError(e) });
      }
    });
  });
  // The CLI ends stdin and then sends SIGTERM at once: close the database either way, so SQLite
  // can remove its journal and release the exclusive lock the engine takes for migrations.
  const drained = new Promise((resolve) => lines.on('close', resolve)).then(() => queue);
  const terminated = new Promise((resolve) => process.once('SIGTERM', () => resolve('SIGTERM')));
  const reason = await Promise.race([drained, terminated]);
  await engine?.close();
  if (reason === 'SIGTERM') process.exit(0);
}

const argv = parseArgs(process.argv.slice(2));
if (argv.version) {
  const pkg = path.join(wasmDir(), 'package.json');
  const { version } = JSON.parse(fs.readFileSync(pkg, 'utf8'));
  // `prisma --version` shows this line; the commit hash is the last part of the package version.
  console.log(`schema-engine-cli ${version.split('.').pop()}`);
} else if (argv.help) {
  console.log('Stand-in for the Prisma schema engine; see prisma/engine/schema-engine.mjs.');
} else if (argv.cli) {
  process.exitCode = await runCli(argv);
} else {
  await serve(argv);
}
