import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CampaignFileError,
  DEFAULT_CAMPAIGN_FILE,
  parseCampaignFile,
  readCampaignFile,
} from '../../src/domain/campaign-file.ts';
import { seedDemo } from '../../src/domain/demo.ts';
import { loadMembersFile } from '../../src/domain/members-file.ts';
import { ensureAdmins, seedCampaign } from '../../src/domain/seed.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

const anhua = () => JSON.parse(readFileSync(DEFAULT_CAMPAIGN_FILE, 'utf8'));
function problems(edit: (f: any) => void): string[] {
  const f = anhua();
  edit(f);
  try {
    parseCampaignFile(JSON.stringify(f));
  } catch (e) {
    if (e instanceof CampaignFileError) return e.problems;
    throw e;
  }
  return [];
}

describe('the campaign file', () => {
  it('holds the Anhua plan', () => {
    const f = readCampaignFile();
    expect(f.docNumber).toBe('安安委办发〔2021〕39号');
    expect(f.sectors.filter((s) => s.highRisk)).toHaveLength(8);
    expect(f.units.filter((u) => u.kind === 'township')).toHaveLength(23);
    expect(f.units.find((u) => u.statCode === '430923123')?.name).toBe('龙塘镇');
  });

  it('names the field of every error', () => {
    expect(problems((f) => (f.targets[0].dueOn = '2021-13-01'))).toEqual([
      'targets[0].dueOn: must be a date YYYY-MM-DD',
    ]);
    expect(problems((f) => f.responsibilities[1].sectors.push('mining'))).toEqual([
      'responsibilities[1].sectors[1]: unknown sector mining',
    ]);
    expect(problems((f) => (f.units[3].code = 'yjj'))).toEqual([
      'units[3].code: duplicate code yjj',
      'responsibilities[2].lead: unknown unit zjj',
    ]);
    expect(problems((f) => delete f.county)).toEqual([expect.stringMatching(/^county: /)]);
    expect(problems((f) => (f.duties[0].due = '1-15'))).toEqual(['duties[0].due: must be MM-DD']);
    expect(() => parseCampaignFile('{ not json')).toThrow(/not valid JSON/);
  });
});

describe('seeding', () => {
  let t: TestDb;
  beforeAll(async () => (t = await testDb()));
  afterAll(() => t.close());

  const snapshot = async () => ({
    campaigns: await t.db.campaign.count(),
    sectors: await t.db.sector.count(),
    units: await t.db.unit.count(),
    responsibilities: await t.db.sectorResponsibility.count(),
    targets: await t.db.target.count(),
    duties: await t.db.duty.count(),
    obligations: await t.db.obligation.count(),
    rules: await t.db.ruleSetting.count(),
    enterprises: await t.db.enterprise.count(),
    policies: await t.db.policy.count(),
    members: await t.db.member.count(),
    chats: await t.db.groupChat.count(),
    reports: await t.db.progressReport.count(),
  });

  it('loads the plan: lead and co-responsible units, targets, the next obligations', async () => {
    const lead = await t.db.sectorResponsibility.findMany({
      where: { role: 'lead' },
      include: { unit: true, sector: true },
    });
    expect(Object.fromEntries(lead.map((r) => [r.sector.code, r.unit.code]))).toMatchObject({
      metal_smelting: 'kgj',
      transport: 'jtj',
      civil_explosives: 'gaj',
    });
    const smelting = await t.db.sectorResponsibility.findMany({
      where: { sector: { code: 'metal_smelting' }, role: 'co' },
      include: { unit: true },
    });
    expect(smelting).toHaveLength(24); // 县应急管理局 and the 23 townships
    // On 2026-11-29 the next insurers' report is due 2027-01-15, the next inspection 2027-10-31.
    const due = await t.db.obligation.findMany({ include: { duty: true, unit: true } });
    expect(new Set(due.map((o) => `${o.duty!.key}@${o.dueOn}`))).toEqual(
      new Set(['insurer-annual-report@2027-01-15', 'enforcement-inspection@2027-10-31']),
    );
    expect(
      due
        .filter((o) => o.duty!.key === 'enforcement-inspection')
        .map((o) => o.unit.code)
        .sort(),
    ).toEqual(['gaj', 'jtj', 'kgj', 'nyncj', 'yjj', 'zjj']);
  });

  it('changes nothing when the same file and the demo are loaded again', async () => {
    await seedDemo(t.db, t.campaignId, t.clock, TZ);
    const once = await snapshot();
    expect(once.enterprises).toBeGreaterThan(250);
    await seedCampaign(t.db, readCampaignFile(), t.clock, TZ);
    await seedDemo(t.db, t.campaignId, t.clock, TZ);
    expect(await snapshot()).toEqual(once);
  });

  it('leaves something overdue in the demo, and marks demo data', async () => {
    const overdue = await t.db.obligation.findMany({
      where: { status: { not: 'done' }, dueOn: { lt: '2026-11-29' } },
      include: { unit: true },
    });
    expect(overdue.map((o) => o.unit.code).sort()).toEqual(['jtj', 'pingan-pc', 'zjj']);
    expect(await t.db.enterprise.count({ where: { isDemo: false } })).toBe(0);
    expect((await t.db.enterprise.findFirstOrThrow()).name).toMatch(/（演示）$/);
  });

  it('makes the BOT_ADMINS admins', async () => {
    await ensureAdmins(t.db, ['demo-leader', 'new-admin']);
    expect((await t.db.member.findUniqueOrThrow({ where: { userId: 'demo-leader' } })).roles).toBe('admin|leader');
    expect((await t.db.member.findUniqueOrThrow({ where: { userId: 'new-admin' } })).roles).toBe('admin');
  });

  it('loads members and chats from CSV, reporting bad rows by line and keeping the rest', async () => {
    const csv = [
      'kind,id,name,roles,unit,locale,webhook_key,purpose',
      'member,liaison-a,联络员甲,liaison,yjj,,,',
      'member,bad-role,某人,boss,yjj,,,',
      'member,nobody,某人,viewer,no-such-unit,,,',
      'chat,wrChat1,应急局工作群,,yjj,,key-1,unit',
      'chat,,无标识群,,yjj,,,unit',
    ].join('\n');
    const r = await loadMembersFile(t.db, csv, '430923');
    expect(r).toMatchObject({ members: 1, chats: 1 });
    expect(r.rejected.map((x) => x.line)).toEqual([3, 4, 6]);
    expect(
      (await t.db.member.findUniqueOrThrow({ where: { userId: 'liaison-a' }, include: { unit: true } })).unit!.name,
    ).toBe('县应急管理局');
    expect(await t.db.member.findUnique({ where: { userId: 'bad-role' } })).toBeNull();
    await loadMembersFile(t.db, csv, '430923');
    expect(await t.db.groupChat.count({ where: { webhookKey: 'key-1' } })).toBe(1);
  });

  it('loads nothing of a members file with a broken quote, naming its line', async () => {
    const csv = [
      'kind,id,name,roles,unit,locale,webhook_key,purpose',
      'member,quote-a,联络员乙,liaison,yjj,,,',
      'member,quote-b,"联络员丙,liaison,yjj,,,',
    ].join('\n');
    expect(await loadMembersFile(t.db, csv, '430923')).toEqual({
      members: 0,
      chats: 0,
      rejected: [{ line: 3, reason: 'unmatched quote; nothing was loaded' }],
    });
    expect(await t.db.member.count({ where: { userId: { startsWith: 'quote-' } } })).toBe(0);
  });
});
