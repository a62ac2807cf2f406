import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
const coverage = async () => (await bus.handle({ channel: 'sandbox', userId: 'demo-leader', chatId: null, text: '/覆盖率' })).text;

/** "非煤矿山  23/27 家 85.1%" → [23, 27] for each sector, read off the reply. */
function figures(reply: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const m of reply.matchAll(/^\S+ (\S+)\s+(\d+)\/(\d+) 家/gm)) out.set(m[1]!, [Number(m[2]), Number(m[3])]);
  return out;
}

/** The same figures counted independently: every enterprise and policy read, counted in plain code. */
async function expected(day: string): Promise<Map<string, [number, number]>> {
  const sectors = await t.db.sector.findMany({ where: { campaignId: t.campaignId } });
  const enterprises = await t.db.enterprise.findMany({ include: { policies: true } });
  const reports = await t.db.progressReport.findMany({ orderBy: { reportedAt: 'desc' } });
  const out = new Map<string, [number, number]>();
  for (const s of sectors) {
    const known = enterprises.filter((e) => e.sectorId === s.id);
    const scope = known.filter((e) => e.status === 'operating' && (s.highRisk || e.aboveScale));
    let insured = scope.filter((e) => e.policies.some((p) => p.status === 'valid' && p.startOn <= day && p.endOn >= day)).length;
    let total = scope.length;
    const ledgerTownships = new Set(known.map((e) => e.townshipId));
    const seen = new Set<string>();
    for (const r of reports.filter((r) => r.sectorId === s.id && r.townshipId !== null)) {
      if (ledgerTownships.has(r.townshipId!) || seen.has(String(r.townshipId))) continue;
      seen.add(String(r.townshipId));
      insured += r.insured;
      total += r.total;
    }
    if (!known.length && !seen.size) {
      const r = reports.find((r) => r.sectorId === s.id && r.townshipId === null);
      if (r) [insured, total] = [r.insured, r.total];
    }
    out.set(s.name, [insured, total]);
  }
  return out;
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
});
afterAll(() => t.close());

describe('/覆盖率', () => {
  it('shows all eight sectors and other 规上 with the figures counted independently', async () => {
    const reply = await coverage();
    const shown = figures(reply);
    expect([...shown.keys()]).toEqual(['非煤矿山', '危险化学品', '烟花爆竹', '交通运输', '建筑施工', '民用爆炸物品', '金属冶炼', '农机渔业', '其他规上工贸企业']);
    expect(shown).toEqual(await expected('2026-11-29'));
    expect(reply).toContain('截至 2026-11-29 08:00');
    expect(reply).toContain('含演示数据');
  });

  it('says where each figure comes from: the ledger, or a report where the ledger has nothing', async () => {
    const lines = (await coverage()).split('\n');
    const block = (name: string) => lines.slice(lines.findIndex((l) => l.includes(name)), lines.findIndex((l) => l.includes(name)) + 3).join('\n');
    expect(block('民用爆炸物品')).toContain('3/4 家');
    expect(block('民用爆炸物品')).toMatch(/来源：上报 11-24 08:00/);
    expect(block('民用爆炸物品')).not.toContain('台账');
    expect(block('农机渔业')).toMatch(/来源：台账 \+ 上报 11-27 08:00/);
    expect(block('交通运输')).toMatch(/人数 \d+\/\d+ [\d.]+% · 来源：台账$/m);
  });

  it('shows a target that has passed its date as still in force, with the gap', async () => {
    const reply = await coverage();
    expect(reply).toMatch(/^截至 2026-11-29 08:00 · 目标 100%（2021-12-31 已到期，继续执行）$/m);
    expect(reply).toMatch(/非煤矿山  \d+\/\d+ 家 [\d.]+%，差 \d+ 家/);
    // Other 规上 has a target of its own, so its row says it.
    expect(reply).toMatch(/其他规上工贸企业[^\n]*\n\s+目标 100%（2022-12-31 已到期/);
  });

  it('follows the day asked about: a policy that ends is no longer counted, with no write', async () => {
    const policy = await t.db.policy.findFirstOrThrow({ where: { endOn: { gte: '2026-11-29', lte: '2026-12-20' }, enterprise: { status: 'operating', sector: { highRisk: true } } }, include: { enterprise: { include: { sector: true, policies: true } } } });
    const sector = policy.enterprise.sector.name;
    const [insuredNow] = figures(await coverage()).get(sector)!;
    t.clock.set(`${policy.endOn}T12:00:00+08:00`);
    const onLastDay = figures(await coverage()).get(sector)!;
    t.clock.set('2026-12-31T12:00:00+08:00');
    const later = figures(await coverage()).get(sector)!;
    t.clock.set('2026-11-29T08:00:00+08:00');
    expect(onLastDay).toEqual((await expected(policy.endOn)).get(sector));
    expect(later).toEqual((await expected('2026-12-31')).get(sector));
    expect(later[0]).toBeLessThan(insuredNow);
  });

  it('counts a cancelled policy and a closed enterprise out', async () => {
    const [before] = figures(await coverage()).get('交通运输')!;
    const e = await t.db.enterprise.findFirstOrThrow({ where: { sector: { code: 'transport' }, status: 'operating', policies: { some: { status: 'valid', startOn: { lte: '2026-11-29' }, endOn: { gte: '2026-11-29' } } } } });
    await t.db.policy.updateMany({ where: { enterpriseId: e.id }, data: { status: 'cancelled' } });
    const [afterCancel, totalAfterCancel] = figures(await coverage()).get('交通运输')!;
    expect(afterCancel).toBe(before - 1);
    await t.db.enterprise.update({ where: { id: e.id }, data: { status: 'closed' } });
    expect(figures(await coverage()).get('交通运输')).toEqual([afterCancel, totalAfterCancel - 1]);
    expect(figures(await coverage())).toEqual(await expected('2026-11-29'));
  });
});
