import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, sqlitePath } from '../../src/db/client.ts';
import { DATA_VERSION_TABLE } from '../../src/db/versions.ts';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { readCampaignFile } from '../../src/domain/campaign-file.ts';
import { refreshCover } from '../../src/domain/cover.ts';
import { coverageBySector } from '../../src/domain/coverage.ts';
import { seedCampaign } from '../../src/domain/seed.ts';
import { MoveError, moveToPostgres } from '../../src/domain/move.ts';
import { translator } from '../../src/i18n.ts';
import { emptyDatabase, NO_POSTGRES, NOW, TEST_POSTGRES_URL, testDb, TZ, type TestDb } from '../support/db.ts';

// `anze move-to-postgres`: the demo county's SQLite file into a fresh PostgreSQL database. The test
// picks both databases itself (SQLite source, PostgreSQL target), so it runs once, in the vitest
// project "sqlite", and needs TEST_POSTGRES_URL (skipped without it; under CI=true, a failure).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const XINHUA_FILE = fileURLToPath(new URL('../fixtures/xinhua.json', import.meta.url));
const DAY = '2026-11-29';
const en = translator('en', 'terminal');

if (!TEST_POSTGRES_URL) console.warn(`⚠️  ${NO_POSTGRES}`);

describe.runIf(!TEST_POSTGRES_URL && process.env.CI === 'true')('CI', () => {
  it('has a PostgreSQL server for the move to PostgreSQL (.ci/run starts one)', () => {
    throw new Error(NO_POSTGRES);
  });
});

/** Rows per table, the id sequences' positions and the campaigns of a PostgreSQL database: all a move could change. */
async function snapshot(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (
      await c.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT IN ('_prisma_migrations', '${DATA_VERSION_TABLE}') ORDER BY 1`,
      )
    ).rows.map((r) => r.table_name);
    const rows: Record<string, number> = {};
    for (const t of tables)
      rows[t] = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}"`)).rows[0]!.n;
    const sequences = (
      await c.query(`SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`)
    ).rows;
    const campaigns = (await c.query(`SELECT id, "countyCode" FROM "Campaign" ORDER BY id`)).rows;
    return { rows, sequences, campaigns };
  } finally {
    await c.end();
  }
}

describe.skipIf(!TEST_POSTGRES_URL)('moving a county from SQLite to PostgreSQL', () => {
  let source: TestDb;
  let file: string;
  let sourceRows: Record<string, number>;
  const drops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    source = await testDb({ demo: true, provider: 'sqlite' });
    file = sqlitePath(source.url);
    // What a copy could get wrong: a policy renewing one with a higher id (a forward self-reference),
    // an audit event with JSON text, a lease (a text key, no sequence).
    const [first, last] = await Promise.all([
      source.db.policy.findFirstOrThrow({ orderBy: { id: 'asc' } }),
      source.db.policy.findFirstOrThrow({ orderBy: { id: 'desc' } }),
    ]);
    await source.db.policy.update({ where: { id: first.id }, data: { renewsPolicyId: last.id } });
    await source.db.auditEvent.create({
      data: { at: new Date(NOW), channel: 'cli', action: 'test', outcome: 'ok', detail: '{"note":"引号\\"与换行\\n"}' },
    });
    await source.db.lease.create({
      data: { name: 'leader', holder: 'a', token: 7, expiresAt: new Date(NOW), renewedAt: new Date(NOW) },
    });
    await source.db.longConnMedia.create({
      data: { key: 'image:content:x', mediaId: 'media-of-the-source-bot', expiresAt: new Date(NOW) },
    });
    const raw = new Database(file, { readonly: true });
    const names = raw
      .prepare(
        // The write counts and the bot's media ids are each database's own, never copied (src/db/versions.ts, src/domain/move.ts).
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT IN ('_prisma_migrations', '${DATA_VERSION_TABLE}', 'LongConnMedia')`,
      )
      .pluck()
      .all() as string[];
    sourceRows = Object.fromEntries(
      names.map((n) => [n, raw.prepare(`SELECT count(*) FROM "${n}"`).pluck().get() as number]),
    );
    raw.close();
  });

  afterAll(async () => {
    for (const drop of drops) await drop();
    await source?.close();
  });

  const target = async () => {
    const t = await emptyDatabase('postgresql');
    drops.push(t.drop);
    return t.url;
  };

  let moved: string;

  it('copies every table in batches; counts, figures, ids and sequences match', async () => {
    moved = await target();
    // Few bound values per INSERT, so every table of any size takes several batches.
    const report = await moveToPostgres(file, moved, { clock: source.clock, timeZone: TZ, t: en, maxBoundValues: 60 });

    expect(Object.keys(sourceRows).length).toBeGreaterThan(20);
    expect(Object.fromEntries(report.tables.map((t) => [t.name, t.rows]))).toEqual(sourceRows);
    expect(report.tables.map((t) => t.name)).not.toContain('LongConnMedia');
    expect(report.rows).toBe(Object.values(sourceRows).reduce((a, b) => a + b, 0));
    expect(report.batches).toBeGreaterThan(report.tables.length + sourceRows.Policy! / 5);
    expect(report.day).toBe(DAY);
    expect(report.campaigns).toEqual([{ countyCode: '430923', countyName: '安化县', sectors: expect.any(Number) }]);

    const after = await snapshot(moved);
    // The source bot's media id stays behind.
    expect(after.rows).toEqual({ ...sourceRows, LongConnMedia: 0 });

    const db = await connectDatabase(moved);
    try {
      const now = source.clock.now();
      const figures = await coverageBySector(db, source.campaignId, DAY, now);
      expect(figures.length).toBeGreaterThan(5);
      expect(figures.some((r) => r.insured > 0)).toBe(true);
      expect(figures).toEqual(await coverageBySector(source.db, source.campaignId, DAY, now));

      // Rows are the same rows: ids, the forward self-reference, booleans, instants, text.
      const order = { orderBy: { id: 'asc' as const } };
      expect(await db.policy.findMany(order)).toEqual(await source.db.policy.findMany(order));
      expect(await db.sector.findMany(order)).toEqual(await source.db.sector.findMany(order));
      expect(await db.member.findMany(order)).toEqual(await source.db.member.findMany(order));
      expect(await db.auditEvent.findMany(order)).toEqual(await source.db.auditEvent.findMany(order));
      expect(await db.lease.findMany()).toEqual(await source.db.lease.findMany());

      // The sequences continue after the copied ids.
      const maxId = (await source.db.auditEvent.findFirstOrThrow({ orderBy: { id: 'desc' } })).id;
      const next = await db.auditEvent.create({
        data: { at: new Date(NOW), channel: 'cli', action: 'after', outcome: 'ok' },
      });
      expect(next.id).toBe(maxId + 1);
      await db.auditEvent.delete({ where: { id: next.id } });
    } finally {
      await db.$disconnect();
    }
  });

  it('refuses a second move of the county and writes nothing', async () => {
    const before = await snapshot(moved);
    const error = await moveToPostgres(file, moved, { clock: source.clock, timeZone: TZ, t: en }).catch((e) => e);
    expect(error).toBeInstanceOf(MoveError);
    expect(error.message).toMatch(/already holds 安化县（430923）'s campaign “.+”: refused, nothing was written/);
    expect(await snapshot(moved)).toEqual(before);
  });

  it('says so from the command line in the operator language, exit 1, password hidden', async () => {
    const url = new URL(moved);
    const run = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/move-to-postgres.ts'), file, url.toString()],
      { cwd: ROOT, env: { ...process.env, BOT_LOCALE: 'zh-CN' } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/已有 安化县（430923） 的活动“.+”：拒绝迁移，未写入任何数据。$/)]);
    expect(run.stderr).toContain(`${url.username}:***@`);
    expect(run.stderr).not.toContain(`:${url.password}@`);
  });

  it('leaves the target unchanged when a row conflicts half-way', async () => {
    const url = await target();
    // A migrated target where one of the demo members' userids is taken already (Member is copied
    // after campaigns, units, sectors, enterprises and policies).
    await (await connectDatabase(url)).$disconnect();
    const userId = (await source.db.member.findFirstOrThrow({ orderBy: { id: 'asc' } })).userId;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(
      `INSERT INTO "Member" (id, "userId", name, roles, "updatedAt") VALUES (9000, $1, '占位', 'viewer', now())`,
      [userId],
    );
    await c.end();
    const before = await snapshot(url);
    expect(before.rows.Member).toBe(1);

    const error = await moveToPostgres(file, url, { clock: source.clock, timeZone: TZ, t: en }).catch((e) => e);
    expect(error).toBeInstanceOf(MoveError);
    expect(error.message).toMatch(
      /^Rows of Member collide with rows the target holds already \(duplicate key .*"Member_userId_key"\).*nothing was written\.$/,
    );
    expect(error.message).not.toContain('\n');
    expect(await snapshot(url)).toEqual(before);
  });
});

// A shared deployment: Anhua (the demo county) moved into an empty database, then 新化县 (another
// campaign, test/fixtures/xinhua.json) into the same one. Xinhua's rows are renumbered after
// Anhua's, and what refers to them follows: its figures, a leader's /撤销 of an assignment made
// before the move, the assignment's notice still queued, a reminder ledger row.
describe.skipIf(!TEST_POSTGRES_URL)('moving two counties into one PostgreSQL database', () => {
  let anhua: TestDb;
  let xinhua: {
    db: Awaited<ReturnType<typeof connectDatabase>>;
    file: string;
    campaignId: number;
    drop(): Promise<void>;
  };
  let url: string;
  let drop: () => Promise<void>;
  let obligationId: number;
  let claimId: number;
  let inspectionId: number;
  const title = '摸排新化未参保企业';
  const now = () => new Date(NOW);
  /** Coverage as a leader reads it: sector names and figures, no ids. */
  const figuresOf = async (db: Awaited<ReturnType<typeof connectDatabase>>, campaignId: number) =>
    (await coverageBySector(db, campaignId, DAY, now())).map((r) => ({
      name: r.name,
      enterprises: r.enterprises,
      insured: r.insured,
      gap: r.gap,
    }));
  let anhuaFigures: Awaited<ReturnType<typeof figuresOf>>;
  let xinhuaFigures: Awaited<ReturnType<typeof figuresOf>>;

  beforeAll(async () => {
    anhua = await testDb({ demo: true, provider: 'sqlite' });
    anhuaFigures = await figuresOf(anhua.db, anhua.campaignId);
    // Anhua's own claim, dispute, inspection, proposal and import run: Xinhua's follow them.
    {
      const db = anhua.db;
      const campaignId = anhua.campaignId;
      const insurer = await db.unit.findFirstOrThrow({ where: { kind: 'insurer' } });
      const enterprise = await db.enterprise.findFirstOrThrow({ orderBy: { id: 'asc' } });
      const item = await db.obligation.findFirstOrThrow({ orderBy: { id: 'asc' } });
      const claim = await db.claim.create({
        data: {
          countyCode: '430923',
          enterpriseId: enterprise.id,
          insurerId: insurer.id,
          accidentOn: '2026-11-01',
          reportedOn: '2026-11-02',
          claimedFen: 100_000,
          recordedBy: 'anhua-insurer',
          recordedAt: now(),
        },
      });
      await db.claimDispute.create({
        data: { claimId: claim.id, coordinatorId: item.unitId, reason: '—', openedBy: 'anhua', openedAt: now() },
      });
      await db.inspection.create({
        data: {
          campaignId,
          enterpriseId: enterprise.id,
          unitId: item.unitId,
          sectorId: enterprise.sectorId,
          townshipId: enterprise.townshipId,
          inspectedOn: '2026-11-28',
          findings: 'compliant',
          recordedBy: 'anhua',
          recordedAt: now(),
        },
      });
      await db.blacklistProposal.create({
        data: {
          campaignId,
          enterpriseId: enterprise.id,
          obligationId: item.id,
          unitId: item.unitId,
          reason: '—',
          proposedBy: 'anhua',
          proposedAt: now(),
        },
      });
      await db.importRun.create({
        data: {
          kind: 'roster',
          campaignId,
          countyCode: '430923',
          day: DAY,
          source: 'a.xlsx',
          state: 'applied',
          startedAt: now(),
          aliveAt: now(),
          finishedAt: now(),
        },
      });
    }

    const x = await emptyDatabase('sqlite');
    const db = await connectDatabase(x.url);
    const { campaignId } = await seedCampaign(db, readCampaignFile(XINHUA_FILE), anhua.clock, TZ);
    const unit = async (code: string) =>
      (await db.unit.findUniqueOrThrow({ where: { countyCode_code: { countyCode: '430922', code } } })).id;
    const sector = async (code: string) =>
      (await db.sector.findUniqueOrThrow({ where: { campaignId_code: { campaignId, code } } })).id;
    const [aqw, dongping, insurer, chemicals] = await Promise.all([
      unit('aqw'),
      unit('430922121'),
      unit('pingan-pc'),
      sector('hazardous_chemicals'),
    ]);
    const enterprises: number[] = [];
    for (let i = 1; i <= 3; i++)
      enterprises.push(
        (
          await db.enterprise.create({
            data: {
              countyCode: '430922',
              creditCode: `91430922MOVE${String(i).padStart(6, '0')}`,
              name: `新化测试化工${i}`,
              sectorId: chemicals,
              townshipId: dongping,
              employees: 20,
            },
          })
        ).id,
      );
    await db.policy.create({
      data: {
        policyNo: 'XH-MOVE-1',
        insurerId: insurer,
        enterpriseId: enterprises[0]!,
        startOn: '2026-01-01',
        endOn: '2026-12-31',
        insuredHeadcount: 20,
      },
    });
    await refreshCover(db, enterprises, DAY);
    // The roster's history names sector and township by id, without a foreign key.
    await db.enterpriseState.create({
      data: {
        enterpriseId: enterprises[0]!,
        countyCode: '430922',
        validFrom: '2026-11-01',
        status: 'operating',
        sectorId: chemicals,
        townshipId: dongping,
        aboveScale: false,
        employees: 20,
        added: true,
      },
    });
    await db.member.createMany({
      data: [
        { userId: 'xh-leader', name: '新化·县领导', roles: 'leader', unitId: aqw },
        { userId: 'xh-liaison', name: '新化·东坪镇联络员', roles: 'liaison', unitId: dongping },
        { userId: 'xh-insurer', name: '新化·保险机构联系人', roles: 'insurer', unitId: insurer },
      ],
    });
    await db.groupChat.create({
      data: {
        chatId: 'xh-chat-dongping',
        webhookKey: 'xh-webhook-dongping',
        name: '新化东坪镇工作群',
        unitId: dongping,
      },
    });
    const bus = new Bus({ db, clock: anhua.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
    const out = await bus.handle({
      channel: 'sandbox',
      userId: 'xh-leader',
      chatId: null,
      text: `/交办 东坪 ${title} 12月10日`,
    });
    expect(out.outcome).toBe('ok');
    obligationId = (await db.obligation.findFirstOrThrow({ where: { title } })).id;
    await db.reminderLedger.create({
      data: { rule: 'tasks-step', target: `obligation:${obligationId}`, slot: '1', createdAt: now() },
    });
    // The new records: a claim recorded by its insurer (its undo entry, its overdue reminder), a dispute
    // over it, an inspection and a blacklist proposal on the assignment, a staged import run.
    const claimed = await bus.handle({
      channel: 'sandbox',
      userId: 'xh-insurer',
      chatId: null,
      text: '/理赔 新化测试化工1 11月20日 11月21日 8000',
    });
    expect(claimed.outcome).toBe('ok');
    claimId = (await db.claim.findFirstOrThrow()).id;
    await db.reminderLedger.create({
      data: { rule: 'claim-overdue-item', target: `claim:${claimId}`, slot: '2026-W48', createdAt: now() },
    });
    await db.claimDispute.create({
      data: { claimId, coordinatorId: aqw, reason: '金额有争议', openedBy: 'xh-insurer', openedAt: now() },
    });
    const inspection = await db.inspection.create({
      data: {
        campaignId,
        enterpriseId: enterprises[1]!,
        unitId: aqw,
        sectorId: chemicals,
        townshipId: dongping,
        inspectedOn: '2026-11-28',
        findings: 'uninsured',
        recordedBy: 'xh-leader',
        recordedAt: now(),
      },
    });
    await db.blacklistProposal.create({
      data: {
        campaignId,
        enterpriseId: enterprises[1]!,
        obligationId,
        unitId: dongping,
        reason: '拒不整改',
        proposedBy: 'xh-liaison',
        proposedAt: now(),
      },
    });
    inspectionId = inspection.id;
    await db.importRun.create({
      data: {
        kind: 'roster',
        campaignId,
        countyCode: '430922',
        day: DAY,
        source: 'roster.xlsx',
        state: 'staged',
        startedAt: now(),
        aliveAt: now(),
        rows: {
          create: {
            row: 2,
            op: 'added',
            creditCode: '91430922MOVE000009',
            name: '新化测试化工9',
            sectorId: chemicals,
            townshipId: dongping,
            employees: 5,
            keepState: true,
          },
        },
      },
    });
    xinhuaFigures = await figuresOf(db, campaignId);
    xinhua = { db, file: sqlitePath(x.url), campaignId, drop: x.drop };

    const target = await emptyDatabase('postgresql');
    ({ url, drop } = target);
  });

  afterAll(async () => {
    await xinhua?.db.$disconnect();
    await xinhua?.drop();
    await anhua?.close();
    await drop?.();
  });

  it('moves the first county with its ids, then the second renumbered after them', async () => {
    const first = await moveToPostgres(sqlitePath(anhua.url), url, { clock: anhua.clock, timeZone: TZ, t: en });
    expect(Object.values(first.offsets).every((o) => o === 0)).toBe(true);

    // Few bound values per INSERT: every table takes several batches.
    const second = await moveToPostgres(xinhua.file, url, {
      clock: anhua.clock,
      timeZone: TZ,
      t: en,
      maxBoundValues: 60,
    });
    expect(second.campaigns).toEqual([{ countyCode: '430922', countyName: '新化县', sectors: expect.any(Number) }]);
    expect(second.offsets.Campaign).toBe(1);
    expect(second.offsets.Obligation).toBeGreaterThan(0);
    // The national rules both files carry are the deployment's: kept once.
    expect(second.tables.find((tb) => tb.name === 'RuleSetting')).toMatchObject({ kept: expect.any(Number) });
    expect(second.tables.find((tb) => tb.name === 'RuleSetting')!.kept).toBeGreaterThan(0);
  });

  it("keeps both counties' figures", async () => {
    const db = await connectDatabase(url);
    try {
      const campaigns = await db.campaign.findMany({ orderBy: { id: 'asc' } });
      expect(campaigns.map((c) => c.countyCode)).toEqual(['430923', '430922']);
      expect(await figuresOf(db, campaigns[0]!.id)).toEqual(anhuaFigures);
      expect(await figuresOf(db, campaigns[1]!.id)).toEqual(xinhuaFigures);
      expect(xinhuaFigures.some((f) => f.insured > 0)).toBe(true);
    } finally {
      await db.$disconnect();
    }
  });

  it('renumbers the queued notice, the reminder ledger and the undo entry; /撤销 takes back the moved assignment', async () => {
    const db = await connectDatabase(url);
    try {
      const moved = await db.obligation.findFirstOrThrow({ where: { title } });
      expect(moved.id).not.toBe(obligationId);
      expect(moved.unitId).toBe(
        (await db.unit.findUniqueOrThrow({ where: { countyCode_code: { countyCode: '430922', code: '430922121' } } }))
          .id,
      );

      // The assignment's notice to the township's group, still queued: its number and its command follow.
      const notice = await db.outboxMessage.findFirstOrThrow({ where: { target: 'xh-webhook-dongping' } });
      expect(notice.state).toBe('pending');
      expect(notice.payload).toContain(`#${moved.id}`);
      expect(notice.payload).toContain(`/签收 ${moved.id}`);
      expect(notice.payload).not.toContain(`#${obligationId}\\n`);
      expect(await db.reminderLedger.count({ where: { target: `obligation:${moved.id}` } })).toBe(1);
      const state = await db.enterpriseState.findFirstOrThrow({
        where: { countyCode: '430922' },
        include: { enterprise: true },
      });
      expect(state).toMatchObject({ sectorId: state.enterprise.sectorId, townshipId: state.enterprise.townshipId });

      // The leader's /撤销 of the assignment made before the move: it withdraws the moved row and cancels
      // the queued notice (the undo entry names both by their new ids).
      const bus = new Bus({ db, clock: anhua.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
      const undo = await bus.handle({ channel: 'sandbox', userId: 'xh-leader', chatId: null, text: '/撤销' });
      expect(undo.outcome).toBe('ok');
      expect(undo.text).toContain(`#${moved.id}`);
      expect(await db.obligation.findUniqueOrThrow({ where: { id: moved.id } })).toMatchObject({
        withdrawnBy: 'xh-leader',
      });
      expect((await db.outboxMessage.findUniqueOrThrow({ where: { id: notice.id } })).state).toBe('cancelled');
      // Anhua's obligations are untouched.
      expect(
        await db.obligation.count({ where: { withdrawnAt: { not: null }, campaign: { countyCode: '430923' } } }),
      ).toBe(await anhua.db.obligation.count({ where: { withdrawnAt: { not: null } } }));
    } finally {
      await db.$disconnect();
    }
  });

  it('renumbers the claims, disputes, inspections, proposals and import runs; /撤销 takes back the moved claim', async () => {
    const db = await connectDatabase(url);
    try {
      const xh = await db.campaign.findFirstOrThrow({ where: { countyCode: '430922' } });
      const unitOf = async (code: string) =>
        (await db.unit.findUniqueOrThrow({ where: { countyCode_code: { countyCode: '430922', code } } })).id;
      const [aqw, dongping, insurer] = [await unitOf('aqw'), await unitOf('430922121'), await unitOf('pingan-pc')];
      const chemicals = (
        await db.sector.findUniqueOrThrow({
          where: { campaignId_code: { campaignId: xh.id, code: 'hazardous_chemicals' } },
        })
      ).id;
      const item = await db.obligation.findFirstOrThrow({ where: { title } });

      const claim = await db.claim.findFirstOrThrow({ where: { countyCode: '430922' }, include: { enterprise: true } });
      expect(claim.id).not.toBe(claimId);
      expect(claim).toMatchObject({ insurerId: insurer, enterprise: { name: '新化测试化工1' } });
      expect(await db.claimDispute.findFirstOrThrow({ where: { claimId: claim.id } })).toMatchObject({
        coordinatorId: aqw,
      });
      expect(await db.reminderLedger.count({ where: { target: `claim:${claim.id}` } })).toBe(1);

      const inspection = await db.inspection.findFirstOrThrow({ where: { campaignId: xh.id } });
      expect(inspection.id).not.toBe(inspectionId);
      expect(inspection).toMatchObject({ unitId: aqw, sectorId: chemicals, townshipId: dongping });
      expect((await db.enterprise.findUniqueOrThrow({ where: { id: inspection.enterpriseId } })).countyCode).toBe(
        '430922',
      );
      expect(await db.blacklistProposal.findFirstOrThrow({ where: { campaignId: xh.id } })).toMatchObject({
        obligationId: item.id,
        enterpriseId: inspection.enterpriseId,
        unitId: dongping,
      });
      const run = await db.importRun.findFirstOrThrow({ where: { countyCode: '430922' }, include: { rows: true } });
      expect(run.campaignId).toBe(xh.id);
      expect(run.rows).toMatchObject([{ sectorId: chemicals, townshipId: dongping }]);

      // The insurer's /撤销 of the claim recorded before the move withdraws the moved claim.
      const bus = new Bus({ db, clock: anhua.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
      const undo = await bus.handle({ channel: 'sandbox', userId: 'xh-insurer', chatId: null, text: '/撤销' });
      expect(undo.outcome, undo.text).toBe('ok');
      expect(undo.text).toContain(`#${claim.id}`);
      expect(await db.claim.findUniqueOrThrow({ where: { id: claim.id } })).toMatchObject({
        withdrawnBy: 'xh-insurer',
      });
      expect(await db.claim.count({ where: { withdrawnAt: { not: null } } })).toBe(1);
    } finally {
      await db.$disconnect();
    }
  });

  it('refuses a county whose national rule settings differ from those the target shares, with nothing written', async () => {
    const other = await emptyDatabase('postgresql');
    try {
      await (await connectDatabase(other.url)).$disconnect();
      const rule = readCampaignFile().rules[0]!;
      const c = new pg.Client({ connectionString: other.url });
      await c.connect();
      await c.query('INSERT INTO "RuleSetting" (key, value, "effectiveOn", source) VALUES ($1, $2, $3, $4)', [
        rule.key,
        rule.value + 1,
        rule.effectiveOn,
        'another county',
      ]);
      await c.end();
      const before = await snapshot(other.url);
      const error = await moveToPostgres(xinhua.file, other.url, { clock: anhua.clock, timeZone: TZ, t: en }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(MoveError);
      expect(error.message).toBe(
        `The rule setting ${rule.key} (from ${rule.effectiveOn}) is ${rule.value} in the source and ${rule.value + 1} in the target: counties sharing a deployment share its rules; make them agree first. Nothing was written.`,
      );
      expect(await snapshot(other.url)).toEqual(before);
    } finally {
      await other.drop();
    }
  });

  it('refuses to move either county again, with nothing written', async () => {
    const before = await snapshot(url);
    for (const file of [sqlitePath(anhua.url), xinhua.file]) {
      const error = await moveToPostgres(file, url, { clock: anhua.clock, timeZone: TZ, t: en }).catch((e) => e);
      expect(error).toBeInstanceOf(MoveError);
      expect(error.message).toMatch(/already holds .+: refused, nothing was written/);
    }
    expect(await snapshot(url)).toEqual(before);
  });
});
