import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { fixedClock } from '../../src/clock.ts';
import { openDatabase, type Db } from '../../src/db/client.ts';
import { readCampaignFile } from '../../src/domain/campaign-file.ts';
import { seedDemo } from '../../src/domain/demo.ts';
import { seedCampaign } from '../../src/domain/seed.ts';

export const TZ = 'Asia/Shanghai';
/** A Sunday morning in Anhua, for tests that need "today". */
export const NOW = '2026-11-29T08:00:00+08:00';

export interface TestDb { db: Db; url: string; dir: string; campaignId: number; clock: ReturnType<typeof fixedClock>; close(): Promise<void> }

/** A real SQLite file in a temporary folder, migrated and loaded with the Anhua campaign (and the demo roster). */
export async function testDb(opts: { demo?: boolean } = {}): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), 'anze-test-'));
  const url = `file:${join(dir, 'test.db')}`;
  const clock = fixedClock(NOW);
  const db = openDatabase(url);
  const { campaignId } = await seedCampaign(db, readCampaignFile(), clock, TZ);
  if (opts.demo) await seedDemo(db, campaignId, clock, TZ);
  return {
    db, url, dir, campaignId, clock,
    async close() {
      await db.$disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test database with the command bus over it, as the sandbox chat and the callbacks use it. */
export async function testBot(opts: { demo?: boolean } = {}): Promise<{ t: TestDb; bus: Bus }> {
  const t = await testDb(opts);
  return { t, bus: new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() }) };
}
