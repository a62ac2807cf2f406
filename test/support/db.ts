import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Bus } from '../../src/bot/bus.ts';
import { JobRunner } from '../../src/bot/jobs.ts';
import { Registry } from '../../src/bot/registry.ts';
import { fixedClock } from '../../src/clock.ts';
import { connectDatabase, type Db, type Provider } from '../../src/db/client.ts';
import { readCampaignFile } from '../../src/domain/campaign-file.ts';
import { seedDemo } from '../../src/domain/demo.ts';
import { seedCampaign } from '../../src/domain/seed.ts';
import type { Config } from '../../src/config.ts';
import { commandBus } from '../../src/service.ts';

export const TZ = 'Asia/Shanghai';
/** A Sunday morning in Anhua, for tests that need "today". */
export const NOW = '2026-11-29T08:00:00+08:00';

/** The Anhua plan's eight high-risk sectors and other 规上, in the campaign's order, as replies name them. */
export const ANHUA_SECTORS = [
  '非煤矿山',
  '危险化学品',
  '烟花爆竹',
  '交通运输',
  '建筑施工',
  '民用爆炸物品',
  '金属冶炼',
  '农机渔业',
  '其他规上工贸企业',
];

export interface TestDb {
  db: Db;
  url: string;
  dir: string;
  provider: Provider;
  campaignId: number;
  clock: ReturnType<typeof fixedClock>;
  close(): Promise<void>;
}

export interface TestDbOptions {
  demo?: boolean;
  /** Defaults to TEST_DB_PROVIDER (the vitest project "postgres" sets it), else SQLite. */
  provider?: Provider;
}

/** The provider a test file runs on when it does not say: the vitest project's. */
export const TEST_PROVIDER: Provider = process.env.TEST_DB_PROVIDER === 'postgresql' ? 'postgresql' : 'sqlite';

/** The PostgreSQL server for integration tests; without it they skip (and fail under CI=true). */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL || undefined;
export const NO_POSTGRES =
  'TEST_POSTGRES_URL is not set: PostgreSQL tests skipped (`source .ci/postgres.sh` starts a server and sets it)';

/** One statement on the test server's own database (CREATE/DROP DATABASE). */
async function onServer(sql: string): Promise<void> {
  if (!TEST_POSTGRES_URL) throw new Error(NO_POSTGRES);
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Drops a test database once its connections are gone. Not WITH (FORCE): that would also have to
 * end an autovacuum worker, which only a superuser may; plain DROP cancels those itself, and a
 * pool's connections may take a moment to leave after it closed.
 */
async function dropDatabase(name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await onServer(`DROP DATABASE IF EXISTS ${name}`);
    } catch (e) {
      if ((e as { code?: string }).code !== '55006' || attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function databaseUrl(name: string): string {
  const url = new URL(TEST_POSTGRES_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh database: a SQLite file in a temporary folder, or a database created on
 * TEST_POSTGRES_URL's server (C collation: text sorts by code point, as on SQLite), empty or a copy
 * of `template`. `drop` removes it.
 */
export async function emptyDatabase(
  provider: Provider = TEST_PROVIDER,
  template?: string,
): Promise<{ url: string; dir: string; drop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'anze-test-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  if (provider === 'sqlite') return { url: `file:${join(dir, 'test.db')}`, dir, drop: async () => removeDir() };
  const name = `anze_test_${randomUUID().replaceAll('-', '')}`;
  await onServer(
    `CREATE DATABASE ${name} TEMPLATE ${template ?? 'template0'} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`,
  );
  return {
    url: databaseUrl(name),
    dir,
    async drop() {
      await dropDatabase(name);
      removeDir();
    },
  };
}

/** The Anhua campaign loaded into a migrated database (and the demo roster), as of NOW. */
async function load(db: Db, demo: boolean, clock = fixedClock(NOW)): Promise<number> {
  const { campaignId } = await seedCampaign(db, readCampaignFile(), clock, TZ);
  if (demo) await seedDemo(db, campaignId, clock, TZ);
  return campaignId;
}

/** The PostgreSQL templates test/support/postgres-setup.ts built for this run, if any. */
async function templates(): Promise<{ plain: string; demo: string } | null> {
  try {
    const { inject } = await import('vitest');
    return inject('postgresTemplates') ?? null;
  } catch {
    return null; // outside a test worker
  }
}

/** A real database (see emptyDatabase), migrated and loaded with the Anhua campaign (and the demo roster). */
export async function testDb(opts: TestDbOptions = {}): Promise<TestDb> {
  const provider = opts.provider ?? TEST_PROVIDER;
  const template = provider === 'postgresql' ? (await templates())?.[opts.demo ? 'demo' : 'plain'] : undefined;
  const { url, dir, drop } = await emptyDatabase(provider, template);
  const clock = fixedClock(NOW);
  let db: Db | undefined;
  let campaignId: number;
  try {
    // A copy of a template is migrated and loaded already; connecting still checks its migrations.
    db = await connectDatabase(url);
    campaignId = template
      ? (await db.campaign.findUniqueOrThrow({ where: { key: readCampaignFile().key } })).id
      : await load(db, !!opts.demo, clock);
  } catch (e) {
    await db?.$disconnect();
    await drop();
    throw e;
  }
  return {
    db,
    url,
    dir,
    provider,
    campaignId,
    clock,
    async close() {
      await db.$disconnect();
      await drop();
    },
  };
}

/** Builds the two PostgreSQL templates: the campaign alone, and with the demo roster. */
export async function buildTemplates(): Promise<{ plain: string; demo: string }> {
  const run = randomUUID().replaceAll('-', '').slice(0, 12);
  const names = { plain: `anze_template_${run}_plain`, demo: `anze_template_${run}_demo` };
  try {
    await Promise.all(
      Object.entries(names).map(async ([kind, name]) => {
        await onServer(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
        const db = await connectDatabase(databaseUrl(name));
        try {
          await load(db, kind === 'demo');
        } finally {
          await db.$disconnect();
        }
      }),
    );
  } catch (e) {
    await dropTemplates(names);
    throw e;
  }
  return names;
}

export async function dropTemplates(names: { plain: string; demo: string }): Promise<void> {
  for (const name of Object.values(names)) await dropDatabase(name);
}

/** A deployment's configuration on the test database: WeCom's API at `apiBase`, no channel yet. */
export function testConfig(t: TestDb, apiBase = 'http://127.0.0.1:9'): Config {
  return {
    port: 0,
    databaseUrl: t.url,
    timezone: TZ,
    locale: 'zh-CN',
    admins: [],
    calendarFile: 'prisma/calendar.json',
    callbackMaxSkewSeconds: 300,
    wecomApiBase: apiBase,
    sandbox: false,
  };
}

/** A test database with the command bus over it, assembled as the service assembles it (commandBus). */
export async function testBot(opts: TestDbOptions = {}): Promise<{ t: TestDb; bus: Bus }> {
  const t = await testDb(opts);
  return { t, bus: commandBus(testConfig(t), { db: t.db, clock: t.clock, registry: await Registry.load() }) };
}

/**
 * Runs the jobs slow commands stored (/导出, /覆盖率 图) to their end, as the service's runner does
 * (with the configuration's `cjkFont`, if given); the texts delivered.
 */
export async function runJobs(t: TestDb, o: { cjkFont?: string } = {}): Promise<string[]> {
  const delivered: string[] = [];
  const runner = new JobRunner({
    db: t.db,
    registry: await Registry.load(),
    clock: t.clock,
    timeZone: TZ,
    databaseUrl: t.url,
    cjkFont: o.cjkFont,
    delivered: (text) => delivered.push(text),
  });
  await runner.drain();
  return delivered;
}

/** 公安局's liaison (`liaison-gaj`), bound on the fly: 公安局 leads 民爆, whose demo figures are reports, not the ledger. */
export async function bindPoliceLiaison(db: Db): Promise<void> {
  await db.member.create({
    data: {
      userId: 'liaison-gaj',
      name: '公安局联络员',
      roles: 'liaison',
      unitId: (await db.unit.findFirstOrThrow({ where: { code: 'gaj' } })).id,
    },
  });
}

/** The first operating 东坪镇 enterprise 平安财险 insures from `since` (or earlier) through 2026-11-29, on the demo roster. */
export function pinganDongping(db: Db, since: string) {
  return db.enterprise.findFirstOrThrow({
    where: {
      status: 'operating',
      township: { code: '430923121' },
      policies: {
        some: {
          insurer: { code: 'pingan-pc' },
          status: 'valid',
          startOn: { lte: since },
          endOn: { gte: '2026-11-29' },
        },
      },
    },
    orderBy: { id: 'asc' },
  });
}
