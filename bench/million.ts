// Benchmark 8: a million enterprises on PostgreSQL — ten counties of 100,000 (the synthetic county of
// benchmark 2 and nine more like it, each its own campaign and county code) in one database on
// TEST_POSTGRES_URL's server, loaded in bulk; /覆盖率 of one county there against the same county
// on SQLite (benchmark 2's file), and the daily sweep of all ten in a process of its own.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Bus } from '../src/bot/bus.ts';
import { Registry } from '../src/bot/registry.ts';
import { fixedClock } from '../src/clock.ts';
import { connectDatabase, openDatabase, type Db } from '../src/db/client.ts';
import { readCampaignFile } from '../src/domain/campaign-file.ts';
import { seedDemo } from '../src/domain/demo.ts';
import { seedCampaign } from '../src/domain/seed.ts';
import { NOW, syntheticEnterprises, TZ, type County } from './county.ts';
import { sweepBench, sweepRows } from './sweep.ts';
import { fmt, median, type Row, timed } from './lib.ts';

const COUNTIES = 10;
/** Enterprises per INSERT: each column is one array parameter (unnest), so a batch is 14 values whatever its rows. */
const BATCH = 5_000;

/** The benchmark's row when it cannot run (no PostgreSQL server named), said on the terminal too; else null. */
export function millionSkipped(): Row[] | null {
  if (process.env.TEST_POSTGRES_URL) return null;
  const why = 'TEST_POSTGRES_URL is not set (`source .ci/postgres.sh` starts a server and sets it)';
  console.error(`benchmark 8 needs PostgreSQL: ${why}`);
  return [{ bench: '8 million', measure: 'ten 100,000-enterprise counties on PostgreSQL', value: `not run: ${why}` }];
}

export async function millionBench(county: County, runs = 7): Promise<Row[]> {
  const server = process.env.TEST_POSTGRES_URL;
  if (!server) return millionSkipped()!;
  const name = `anze_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  const url = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  let db: Db | undefined;
  let sqlite: Db | undefined;
  try {
    db = await connectDatabase(url);
    const load = await timed(() => loadCounties(db!, url, county.enterprises));
    const { enterprises, policies } = load.result;

    // /覆盖率 of Anhua, the same county with the same rows on both, by the same member.
    sqlite = openDatabase(county.url);
    const registry = await Registry.load();
    const clock = fixedClock(NOW);
    const bus = (d: Db) => new Bus({ db: d, clock, timeZone: TZ, locale: 'zh-CN', registry });
    const [onPg, onSqlite] = [bus(db), bus(sqlite)];
    const say = (b: Bus) => b.handle({ channel: 'sandbox', userId: 'demo-leader', chatId: null, text: '/覆盖率' });
    const [first, expected] = [await say(onPg), await say(onSqlite)];
    if (first.outcome !== 'ok') throw new Error(`/覆盖率 on PostgreSQL failed: ${first.text}`);
    // Computed: after a write that bumps the ledger's data version (a policy rewritten as it was,
    // as /投保 or an import would bump it), so the memo has nothing to reuse. Then the memo's hit:
    // the same reply again, nothing written, its figures reused after the versions are read.
    const touch = (d: Db) =>
      d.$executeRawUnsafe(`UPDATE "Policy" SET "updatedAt" = "updatedAt" WHERE id = (SELECT min(id) FROM "Policy")`);
    const cold = { pg: [] as number[], sqlite: [] as number[] };
    const hit = { pg: [] as number[], sqlite: [] as number[] };
    for (let i = 0; i < runs; i++) {
      for (const [d, b, into] of [
        [sqlite, onSqlite, 'sqlite'],
        [db, onPg, 'pg'],
      ] as const) {
        await touch(d);
        cold[into].push((await timed(() => say(b))).wallMs);
        hit[into].push((await timed(() => say(b))).wallMs);
      }
    }
    const [p, s] = [median(cold.pg), median(cold.sqlite)];
    const [ph, sh] = [median(hit.pg), median(hit.sqlite)];
    const again = await say(onPg);
    await db.$disconnect();
    db = undefined;

    const sweep = (await sweepBench(url)).figures;
    return [
      {
        bench: '8 million',
        measure: `ten counties loaded into one PostgreSQL database (seeded through the product, then unnest() batches of ${BATCH.toLocaleString('en')} rows)`,
        value: `${enterprises.toLocaleString('en')} enterprises, ${policies.toLocaleString('en')} policies in ${fmt(load.wallMs / 1000, 0)} s`,
        baseline: `${fmt((enterprises + policies) / (load.wallMs / 1000), 0)} rows/s`,
      },
      {
        bench: '8 million',
        measure: `/覆盖率 of one 100,000-enterprise county among ten on PostgreSQL vs the same county alone on SQLite, computed (after a write that bumps the data version; median of ${runs})`,
        value: `${fmt(p, 0)} ms`,
        baseline: `${fmt(s, 0)} ms`,
        ratio: p / s,
        target: '≤ 1×',
        ok: p <= s,
      },
      {
        bench: '8 million',
        measure: `the same, asked again with nothing written: the memo's hit (the data versions read, the figures reused; median of ${runs})`,
        value: `${fmt(ph, 1)} ms`,
        baseline: `${fmt(sh, 1)} ms`,
        ratio: ph / sh,
      },
      {
        bench: '8 million',
        measure: 'the /覆盖率 reply on PostgreSQL is the one on SQLite (computed and reused)',
        value: first.text === expected.text && again.text === expected.text ? 'identical' : 'differs',
        target: 'identical',
        ok: first.text === expected.text && again.text === expected.text,
      },
      ...sweepRows(sweep, { bench: '8 million', swept: ' of all ten counties', ms: 20_000, mb: 512 }),
    ];
  } finally {
    await db?.$disconnect();
    await sqlite?.$disconnect();
    await admin
      .query(`DROP DATABASE IF EXISTS ${name}`)
      .catch((e: Error) => console.error(`drop ${name}: ${e.message}`));
    await admin.end();
  }
}

/**
 * Ten counties: Anhua as benchmark 2 builds it (the campaign, the demo roster and members, then the
 * same synthetic rows), and nine more, each the Anhua campaign under its own key, county code and
 * name, with synthetic rows of their own (no demo members: a userid belongs to one county).
 */
export async function loadCounties(db: Db, url: string, n: number): Promise<{ enterprises: number; policies: number }> {
  const clock = fixedClock(NOW);
  const file = readCampaignFile();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let enterprises = 0;
  let policies = 0;
  try {
    for (let c = 0; c < COUNTIES; c++) {
      const countyCode = c === 0 ? file.county.code : `4399${String(c).padStart(2, '0')}`;
      const own =
        c === 0 ? file : { ...file, key: `${file.key}-bench-${c}`, county: { code: countyCode, name: `合成县${c}` } };
      const { campaignId } = await seedCampaign(db, own, clock, TZ);
      if (c === 0) await seedDemo(db, campaignId, clock, TZ);
      const sectors = (await client.query('SELECT id, code FROM "Sector" WHERE "campaignId" = $1', [campaignId])).rows;
      const townships = (
        await client.query(`SELECT id, name FROM "Unit" WHERE "countyCode" = $1 AND kind = 'township' ORDER BY id`, [
          countyCode,
        ])
      ).rows;
      const insurers = (
        await client.query(`SELECT id FROM "Unit" WHERE "countyCode" = $1 AND kind = 'insurer' ORDER BY id`, [
          countyCode,
        ])
      ).rows;
      const stamp = clock.now().toISOString();
      await client.query('BEGIN');
      // Ids given here (the loader is the only writer), so each policy names its enterprise without a
      // round trip, and the next batch is generated while the server writes this one.
      let next =
        (await client.query<{ max: number }>('SELECT COALESCE(max(id), 0)::int AS max FROM "Enterprise"')).rows[0]!
          .max + 1;
      let batch: ReturnType<typeof syntheticEnterprises> extends Generator<infer E> ? E[] : never = [];
      let writing: Promise<unknown> = Promise.resolve();
      const flush = async () => {
        if (!batch.length) return;
        const ids = batch.map(() => next++);
        const col = <T>(f: (e: (typeof batch)[number], i: number) => T) => batch.map(f);
        // One statement at a time on the connection: the next batch is generated meanwhile.
        await writing;
        const enterprisesWritten = client.query(
          `INSERT INTO "Enterprise" (id, "countyCode", "creditCode", name, "sectorId", "townshipId", "aboveScale", employees,
             status, "isDemo", "coverFrom", "coverUntil", "coverHeadcount", "createdAt", "updatedAt")
           SELECT id, $2, "creditCode", name, "sectorId", "townshipId", "aboveScale", employees, status, false,
             "coverFrom", "coverUntil", "coverHeadcount", $3::timestamp, $3::timestamp
           FROM unnest($1::int[], $4::text[], $5::text[], $6::int[], $7::int[], $8::boolean[], $9::int[], $10::text[],
             $11::text[], $12::text[], $13::int[])
             AS t(id, "creditCode", name, "sectorId", "townshipId", "aboveScale", employees, status, "coverFrom", "coverUntil", "coverHeadcount")`,
          [
            ids,
            countyCode,
            stamp,
            col((e) => e.creditCode),
            col((e) => e.name),
            col((e) => e.sectorId),
            col((e) => e.townshipId),
            col((e) => e.aboveScale),
            col((e) => e.employees),
            col((e) => e.status),
            col((e) => e.cover.from),
            col((e) => e.cover.until),
            col((e) => e.cover.headcount),
          ],
        );
        const held = batch.flatMap((e, i) => e.policies.map((p) => ({ ...p, enterpriseId: ids[i]! })));
        const policiesWritten = enterprisesWritten.then(() =>
          client.query(
            `INSERT INTO "Policy" ("policyNo", "insurerId", "enterpriseId", "startOn", "endOn", "insuredHeadcount", "premiumFen",
             "liabilityPerPerson", status, "isDemo", "createdAt", "updatedAt")
           SELECT "policyNo", "insurerId", "enterpriseId", "startOn", "endOn", h, h * 15000, 400000, status, false,
             $1::timestamp, $1::timestamp
           FROM unnest($2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::int[], $8::text[])
             AS t("policyNo", "insurerId", "enterpriseId", "startOn", "endOn", h, status)`,
            [
              stamp,
              held.map((p) => p.policyNo),
              held.map((p) => p.insurerId),
              held.map((p) => p.enterpriseId),
              held.map((p) => p.startOn),
              held.map((p) => p.endOn),
              held.map((p) => p.insuredHeadcount),
              held.map((p) => p.status),
            ],
          ),
        );
        enterprises += batch.length;
        policies += held.length;
        batch = [];
        writing = policiesWritten;
        // Rejections are taken by the next `await writing`.
        writing.catch(() => undefined);
      };
      for (const e of syntheticEnterprises({ n, countyCode, sectors, townships, insurers })) {
        batch.push(e);
        if (batch.length === BATCH) await flush();
      }
      await flush();
      await writing;
      await client.query(`SELECT setval('"Enterprise_id_seq"', $1)`, [next - 1]);
      await client.query('COMMIT');
    }
    // Statistics and the visibility map, as autovacuum would leave them soon after a load this size
    // (its insert threshold): the planner's estimates, and index-only scans of the covering index.
    await client.query('VACUUM ANALYZE "Enterprise", "Policy", "Unit", "Sector", "Campaign"');
  } finally {
    await client.end();
  }
  return { enterprises, policies };
}
