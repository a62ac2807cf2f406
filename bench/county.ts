// A synthetic county ten times Anhua's size for the benchmarks: the Anhua campaign and demo roster
// through the product's own seeding, then 100,000 enterprises and about 150,000 policies in one
// bulk insert through better-sqlite3, then the maintained cover figures through the product's
// own rebuild. Deterministic (fixed seed), so two runs measure the same data.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { addDays, fixedClock } from '../src/clock.ts';
import { openDatabase, sqlitePath } from '../src/db/client.ts';
import { readCampaignFile } from '../src/domain/campaign-file.ts';
import { coverAround, type PolicySpan } from '../src/domain/cover.ts';
import { creditCodeCheck } from '../src/domain/credit-code.ts';
import { seedDemo } from '../src/domain/demo.ts';
import { seedCampaign } from '../src/domain/seed.ts';

export const TZ = 'Asia/Shanghai';
export const NOW = '2026-11-29T08:00:00+08:00';
export const TODAY = '2026-11-29';

export interface County {
  url: string;
  file: string;
  campaignId: number;
  enterprises: number;
  policies: number;
  seconds: number;
}

/** A deterministic generator (mulberry32). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Share of the county's enterprises per sector, and of each that is 规模以上.
const SECTORS: Record<string, [share: number, aboveScale: number]> = {
  non_coal_mine: [0.06, 0.3],
  hazardous_chemicals: [0.07, 0.4],
  fireworks: [0.04, 0.2],
  transport: [0.2, 0.2],
  construction: [0.22, 0.3],
  civil_explosives: [0.01, 0.5],
  metal_smelting: [0.03, 0.6],
  agri_machinery_fishery: [0.1, 0.05],
  other: [0.27, 0.7],
};
const CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** A valid credit code of a 个体工商户 (92…) in the county: nine characters drawn from `random`, then the check character. */
export function syntheticCreditCode(countyCode: string, random: () => number): string {
  const first17 = `92${countyCode}${Array.from({ length: 9 }, () => CODE_CHARS[Math.floor(random() * 31)]).join('')}`;
  return first17 + creditCodeCheck(first17);
}

/** The Anhua campaign and the demo roster, as `npm run seed -- --demo` loads them, in a new file. */
export async function buildDemo(dir: string): Promise<string> {
  const url = `file:${join(dir, 'demo.db')}`;
  const clock = fixedClock(NOW);
  const db = openDatabase(url);
  const { campaignId } = await seedCampaign(db, readCampaignFile(), clock, TZ);
  await seedDemo(db, campaignId, clock, TZ);
  await db.$disconnect();
  return sqlitePath(url);
}

/** One synthetic enterprise with its policies and its kept cover, as written by either loader. */
export interface SyntheticEnterprise {
  creditCode: string;
  name: string;
  sectorId: number;
  townshipId: number;
  aboveScale: boolean;
  employees: number;
  status: string;
  cover: { from: string | null; until: string | null; headcount: number | null };
  policies: (PolicySpan & { status: string; policyNo: string; insurerId: number })[];
}

/**
 * The enterprises of a synthetic county, deterministic for a seed: sectors by share, townships and
 * insurers in turn, policies lapsed, ending, renewed early or cancelled (see buildCounty).
 */
export function* syntheticEnterprises(o: {
  n: number;
  countyCode: string;
  sectors: { id: number; code: string }[];
  townships: { id: number; name: string }[];
  insurers: { id: number }[];
  seed?: number;
}): Generator<SyntheticEnterprise> {
  const random = prng(o.seed ?? 20261129);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  let policies = 0;
  const cumulative = Object.entries(SECTORS).map(([code, [share, above]]) => ({
    id: o.sectors.find((s) => s.code === code)!.id,
    share,
    above,
  }));
  for (let i = 0; i < o.n; i++) {
    let r = random();
    const sector = cumulative.find((s) => (r -= s.share) < 0) ?? cumulative.at(-1)!;
    const township = o.townships[Math.floor(random() * o.townships.length)]!;
    const creditCode = syntheticCreditCode(o.countyCode, random);
    const employees = int(3, 400);
    const s = random();
    const status = s < 0.03 ? 'stopped' : s < 0.05 ? 'closed' : 'operating';
    // ~8 % never insured; the others hold a policy that lapsed (10 %), ends within 30 days (8 %)
    // or later; most had one before it, some have renewed early, a few were cancelled.
    const held: (PolicySpan & { status: string })[] = [];
    const p = random();
    if (p >= 0.08) {
      const endOn =
        p < 0.18 ? addDays(TODAY, -int(1, 180)) : p < 0.26 ? addDays(TODAY, int(0, 30)) : addDays(TODAY, int(31, 364));
      const startOn = addDays(endOn, -364);
      const headcount = Math.max(1, employees - int(-2, 5));
      if (random() < 0.62)
        held.push({
          startOn: addDays(startOn, -365),
          endOn: addDays(startOn, -1),
          insuredHeadcount: Math.max(1, headcount - int(0, 5)),
          status: 'valid',
        });
      held.push({ startOn, endOn, insuredHeadcount: headcount, status: random() < 0.01 ? 'cancelled' : 'valid' });
      if (p >= 0.18 && p < 0.26 && random() < 0.5)
        held.push({
          startOn: addDays(endOn, 1),
          endOn: addDays(endOn, 365),
          insuredHeadcount: Math.max(1, headcount + int(-3, 3)),
          status: 'valid',
        });
    }
    // The kept cover as the product computes it (src/domain/cover.ts), written with the row.
    const cover = coverAround(
      held.filter((h) => h.status === 'valid'),
      TODAY,
    );
    const aboveScale = random() < sector.above;
    yield {
      creditCode,
      name: `${township.name}合成企业${i + 1}`,
      sectorId: sector.id,
      townshipId: township.id,
      aboveScale,
      employees,
      status,
      cover: { from: cover.from, until: cover.until, headcount: cover.headcount },
      policies: held.map((h) => {
        policies++;
        return {
          ...h,
          policyNo: `B${String(policies).padStart(7, '0')}`,
          insurerId: o.insurers[policies % o.insurers.length]!.id,
        };
      }),
    };
  }
}

export async function buildCounty(opts: { enterprises?: number; dir?: string } = {}): Promise<County> {
  const started = performance.now();
  const n = opts.enterprises ?? 100_000;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'anze-bench-'));
  const url = `file:${join(dir, 'county.db')}`;
  const clock = fixedClock(NOW);
  const prisma = openDatabase(url); // migrated by src/db/migrate.ts
  const { campaignId } = await seedCampaign(prisma, readCampaignFile(), clock, TZ);
  await seedDemo(prisma, campaignId, clock, TZ);
  await prisma.$disconnect();

  const db = new Database(sqlitePath(url));
  db.pragma('journal_mode = WAL');
  const county = db.prepare('SELECT "countyCode" FROM "Campaign" WHERE id = ?').get(campaignId) as {
    countyCode: string;
  };
  const sectors = db.prepare('SELECT id, code FROM "Sector" WHERE "campaignId" = ?').all(campaignId) as {
    id: number;
    code: string;
  }[];
  const townships = db
    .prepare(`SELECT id, name FROM "Unit" WHERE "countyCode" = ? AND kind = 'township'`)
    .all(county.countyCode) as { id: number; name: string }[];
  const insurers = db
    .prepare(`SELECT id FROM "Unit" WHERE "countyCode" = ? AND kind = 'insurer'`)
    .all(county.countyCode) as { id: number }[];
  const stamp = clock.now().toISOString().replace('Z', '+00:00');
  const addEnterprise =
    db.prepare(`INSERT INTO "Enterprise" ("countyCode", "creditCode", name, "sectorId", "townshipId", "aboveScale", employees, status,
    "isDemo", "coverFrom", "coverUntil", "coverHeadcount", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`);
  const addPolicy =
    db.prepare(`INSERT INTO "Policy" ("policyNo", "insurerId", "enterpriseId", "startOn", "endOn", "insuredHeadcount", "premiumFen", "liabilityPerPerson", status, "isDemo", "createdAt", "updatedAt")
    VALUES (?, ?, ?, ?, ?, ?, ?, 400000, ?, 0, ?, ?)`);
  let policies = 0;
  db.transaction(() => {
    for (const e of syntheticEnterprises({ n, countyCode: county.countyCode, sectors, townships, insurers })) {
      const { lastInsertRowid } = addEnterprise.run(
        county.countyCode,
        e.creditCode,
        e.name,
        e.sectorId,
        e.townshipId,
        e.aboveScale ? 1 : 0,
        e.employees,
        e.status,
        e.cover.from,
        e.cover.until,
        e.cover.headcount,
        stamp,
        stamp,
      );
      for (const h of e.policies) {
        policies++;
        addPolicy.run(
          h.policyNo,
          h.insurerId,
          Number(lastInsertRowid),
          h.startOn,
          h.endOn,
          h.insuredHeadcount,
          h.insuredHeadcount * 15000,
          h.status,
          stamp,
          stamp,
        );
      }
    }
  })();
  db.close();
  return {
    url,
    file: sqlitePath(url),
    campaignId,
    enterprises: n,
    policies,
    seconds: (performance.now() - started) / 1000,
  };
}
