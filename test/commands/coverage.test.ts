import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { refreshCover } from '../../src/domain/cover.ts';
import { byName, expectedCells, sumBy, wholes, type ExpectedCell } from '../support/coverage.ts';
import { ANHUA_SECTORS, testBot, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
const coverage = async () =>
  (await bus.handle({ channel: 'sandbox', userId: 'demo-leader', chatId: null, text: '/覆盖率' })).text;

/** "非煤矿山  23/27 家 85.1%" → [23, 27] for each sector, read off the reply. */
function figures(reply: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const m of reply.matchAll(/^\S+ (\S+)\s+(\d+)\/(\d+) 家/gm)) out.set(m[1]!, [Number(m[2]), Number(m[3])]);
  return out;
}

/** The same figures counted independently (test/support/coverage.ts), per sector by name. */
async function expected(day: string, now = t.clock.now()): Promise<Map<string, [number, number]>> {
  const sectors = await t.db.sector.findMany({ where: { campaignId: t.campaignId } });
  const sums = sumBy(wholes(await expectedCells(t.db, t.campaignId, day, now)), (c) => c.sectorId);
  return new Map(sectors.map((s) => [s.name, sums.get(s.id) ?? [0, 0]]));
}

beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(() => t.close());

describe('/覆盖率', () => {
  it('shows all eight sectors and other 规上 with the figures counted independently', async () => {
    const reply = await coverage();
    const shown = figures(reply);
    expect([...shown.keys()]).toEqual(ANHUA_SECTORS);
    expect(shown).toEqual(await expected('2026-11-29'));
    expect(reply).toContain('截至 2026-11-29 08:00');
    expect(reply).toContain('含演示数据');
  });

  it('says where each figure comes from: the ledger, or a report where the ledger has nothing', async () => {
    const lines = (await coverage()).split('\n');
    const block = (name: string) =>
      lines
        .slice(
          lines.findIndex((l) => l.includes(name)),
          lines.findIndex((l) => l.includes(name)) + 3,
        )
        .join('\n');
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
    const policy = await t.db.policy.findFirstOrThrow({
      where: {
        endOn: { gte: '2026-11-29', lte: '2026-12-20' },
        enterprise: { status: 'operating', sector: { highRisk: true } },
      },
      include: { enterprise: { include: { sector: true, policies: true } } },
    });
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
    const e = await t.db.enterprise.findFirstOrThrow({
      where: {
        sector: { code: 'transport' },
        status: 'operating',
        policies: { some: { status: 'valid', startOn: { lte: '2026-11-29' }, endOn: { gte: '2026-11-29' } } },
      },
    });
    await t.db.policy.updateMany({ where: { enterpriseId: e.id }, data: { status: 'cancelled' } });
    // As every writer of policies does: the enterprise's kept cover follows them.
    await refreshCover(t.db, [e.id], '2026-11-29');
    const [afterCancel, totalAfterCancel] = figures(await coverage()).get('交通运输')!;
    expect(afterCancel).toBe(before - 1);
    await t.db.enterprise.update({ where: { id: e.id }, data: { status: 'closed' } });
    expect(figures(await coverage()).get('交通运输')).toEqual([afterCancel, totalAfterCancel - 1]);
    expect(figures(await coverage())).toEqual(await expected('2026-11-29'));
  });
});

const say = (text: string, userId = 'demo-leader') => bus.handle({ channel: 'sandbox', userId, chatId: null, text });
const WEEK = 7 * 86_400_000;
const ROW = /^(?:🟢|🟡|🔴|⚪) (\S+)\s+(\d+)\/(\d+) 家 (?:[\d.]+%|—)(?:，差 \d+ 家)?  (↑\d+|↓\d+|—|新)$/gmu;

/** The rows a view shows, in order: name, insured, in scope, and the change since last week. */
function rows(reply: string): { name: string; insured: number; total: number; change: string }[] {
  return [...reply.matchAll(ROW)].map((m) => ({
    name: m[1]!,
    insured: Number(m[2]),
    total: Number(m[3]),
    change: m[4]!,
  }));
}

/** "最弱五个：平口镇 66.7%、乐安镇 66.7%、…" → the names. */
function weakestNames(reply: string): string[] {
  const line = reply.split('\n').find((l) => l.startsWith('最弱'))!;
  return line
    .slice(line.indexOf('：') + 1)
    .split('、')
    .map((x) => x.split(' ')[0]!);
}

/**
 * Checks a view against the independent count: the figures of each row today, its change
 * against the same count a week earlier (day − 7, reports made by now − 7 days), the five weakest,
 * and that it fits a phone (≤ 20480 bytes, at most two lines per row).
 */
async function checkView(
  text: string,
  keyOf: (c: ExpectedCell) => number | null | undefined,
  name: (k: number | null) => string,
) {
  const reply = (await say(text)).text;
  const now = t.clock.now();
  const today = byName(sumBy(await expectedCells(t.db, t.campaignId, '2026-11-29', now), keyOf), name);
  const lastWeek = byName(
    sumBy(await expectedCells(t.db, t.campaignId, '2026-11-22', new Date(now.getTime() - WEEK)), keyOf),
    name,
  );
  const shown = rows(reply);
  expect(new Map(shown.map((r) => [r.name, [r.insured, r.total]]))).toEqual(
    new Map([...today].filter(([, [, total]]) => total > 0)),
  );
  for (const r of shown) {
    const before = lastWeek.get(r.name);
    const d = before ? r.insured - before[0] : null;
    expect(r.change, r.name).toBe(d === null ? '新' : d > 0 ? `↑${d}` : d < 0 ? `↓${-d}` : '—');
  }
  // The weakest five: below target (100 % everywhere in this plan), and no other row below target has a lower rate.
  const rate = (n: string) => today.get(n)![0] / today.get(n)![1];
  const unmet = shown.filter((r) => r.insured < r.total).map((r) => r.name);
  const weak = weakestNames(reply);
  expect(weak).toHaveLength(Math.min(5, unmet.length));
  const rest = unmet.filter((n) => !weak.includes(n));
  for (const w of weak) for (const n of rest) expect(rate(w), `${w} vs ${n}`).toBeLessThanOrEqual(rate(n));
  expect(Buffer.byteLength(reply)).toBeLessThanOrEqual(20480);
  const lines = reply.split('\n');
  lines.forEach((l, i) => {
    if (l.startsWith('   ')) expect(lines[i - 1]!.startsWith('   '), l).toBe(false);
  });
  expect(reply).toContain('截至 2026-11-29 08:00');
  return { reply, shown, today };
}

describe('/覆盖率 views', () => {
  let townshipName: Map<number | null, string>;
  let sectorName: Map<number | null, string>;
  beforeAll(async () => {
    townshipName = new Map((await t.db.unit.findMany({ where: { kind: 'township' } })).map((u) => [u.id, u.name]));
    townshipName.set(null, '全县（未分乡镇）');
    sectorName = new Map((await t.db.sector.findMany()).map((s) => [s.id, s.name]));
  });
  const township = (k: number | null) => townshipName.get(k)!;
  const sector = (k: number | null) => sectorName.get(k)!;

  it('by sector (no argument), with the change since last week and the five weakest', async () => {
    const { reply } = await checkView('/覆盖率', (c) => (c.part ? undefined : c.sectorId), sector);
    expect(reply).toMatch(/^最弱五个：/m);
  });

  it('乡镇: all 23 townships weakest first, every in-scope sector counted, county-wide reports left out and said so', async () => {
    const { reply, shown } = await checkView('/覆盖率 乡镇', (c) => c.townshipId ?? undefined, township);
    expect(shown.map((r) => r.name).sort()).toEqual(
      [...townshipName.values()].filter((n) => n !== '全县（未分乡镇）').sort(),
    );
    const rates = shown.map((r) => r.insured / r.total);
    expect(rates).toEqual([...rates].sort((a, b) => a - b));
    expect(reply).toMatch(/^📊 安化县安责险参保率（按乡镇/);
    expect(reply).toContain('只有全县上报、未分乡镇的行业不计入：民用爆炸物品');
    expect(reply).toMatch(/古楼乡 .*\n\s+人数 \d+\/\d+ [\d.]+% · 来源：台账 \+ 上报 11-27 08:00$/m);
    expect((await say('/coverage township')).text).toBe(reply);
  });

  it('<sector>: that sector across the townships that have figures', async () => {
    const chem = await t.db.sector.findFirstOrThrow({ where: { code: 'hazardous_chemicals' } });
    const { shown } = await checkView(
      '/覆盖率 危化',
      (c) => (c.sectorId === chem.id ? c.townshipId : undefined),
      township,
    );
    expect(shown.length).toBeGreaterThan(3);
    expect(shown.length).toBeLessThan(23);
    const agri = await t.db.sector.findFirstOrThrow({ where: { code: 'agri_machinery_fishery' } });
    const { reply } = await checkView(
      '/覆盖率 农机',
      (c) => (c.sectorId === agri.id ? c.townshipId : undefined),
      township,
    );
    // 古楼乡 keeps no 农机渔业 ledger: its figure is its report, which has no headcount.
    expect(reply).toMatch(/古楼乡  5\/6 家 83\.3%，差 1 家  新\n   来源：上报 11-27 08:00$/m);
    const civil = await t.db.sector.findFirstOrThrow({ where: { code: 'civil_explosives' } });
    const explosives = await checkView(
      '/覆盖率 民爆',
      (c) => (c.sectorId === civil.id ? c.townshipId : undefined),
      township,
    );
    expect(explosives.reply).toMatch(/全县（未分乡镇）  3\/4 家 75\.0%，差 1 家  新\n   来源：上报 11-24 08:00$/m);
  });

  it('<township>: that township across sectors, by name, short name or code', async () => {
    const dongping = await t.db.unit.findFirstOrThrow({ where: { code: '430923121' } });
    const { reply, shown } = await checkView(
      '/覆盖率 东坪',
      (c) => (c.townshipId === dongping.id ? c.sectorId : undefined),
      sector,
    );
    expect(reply).toMatch(/^📊 东坪镇安责险参保率（分行业）/);
    expect(shown.map((r) => r.name)).toEqual([...sectorName.values()].filter((n) => shown.some((r) => r.name === n)));
    expect(reply).toContain('⚪ 民用爆炸物品  暂无台账和上报数据');
    expect((await say('/覆盖率 东坪镇')).text).toBe(reply);
    expect((await say('/覆盖率 430923121')).text).toBe(reply);
  });

  it('部门: lead departments by the sectors they lead', async () => {
    const leads = await t.db.sectorResponsibility.findMany({ where: { role: 'lead' }, include: { unit: true } });
    const leadOf = new Map(leads.map((l) => [l.sectorId, l.unitId]));
    const unitName = new Map(leads.map((l) => [l.unitId, l.unit.name]));
    const { shown } = await checkView(
      '/覆盖率 部门',
      (c) => (c.part ? undefined : leadOf.get(c.sectorId)),
      (k) => unitName.get(k!)!,
    );
    expect(shown.map((r) => r.name)).toEqual([
      '县应急管理局',
      '县交通运输局',
      '县住建局',
      '县公安局',
      '县科工局',
      '县农业农村局',
    ]);
  });

  it('refuses a word it does not know, saying what it accepts, and changes nothing', async () => {
    const before = await Promise.all([
      t.db.progressReport.count(),
      t.db.policy.count(),
      t.db.outboxMessage.count(),
      t.db.pendingAction.count(),
    ]);
    const out = await say('/覆盖率 火星');
    expect(out.outcome).toBe('invalid');
    expect(out.text).toContain('不认识“火星”');
    for (const form of ['/覆盖率 乡镇', '/覆盖率 部门', '危化', '东坪', '/覆盖率 图', '/覆盖率 趋势'])
      expect(out.text).toContain(form);
    // A word too many after 图 is named as such, not 图 taken for a place; no chart is started.
    const extra = await say('/覆盖率 图 多余');
    expect(extra.outcome).toBe('invalid');
    expect(extra.text).toContain('多了参数：多余');
    expect(await t.db.job.count()).toBe(0);
    expect(
      await Promise.all([
        t.db.progressReport.count(),
        t.db.policy.count(),
        t.db.outboxMessage.count(),
        t.db.pendingAction.count(),
      ]),
    ).toEqual(before);
  });

  it("counts a report made 3 days ago today but not in last week's figure", async () => {
    const [civil, dongping, gaj] = await Promise.all([
      t.db.sector.findFirstOrThrow({ where: { code: 'civil_explosives' } }),
      t.db.unit.findFirstOrThrow({ where: { code: '430923121' } }),
      t.db.unit.findFirstOrThrow({ where: { code: 'gaj' } }),
    ]);
    const now = t.clock.now().getTime();
    const report = (insured: number, daysAgo: number) =>
      t.db.progressReport.create({
        data: {
          campaignId: t.campaignId,
          unitId: gaj.id,
          sectorId: civil.id,
          townshipId: dongping.id,
          insured,
          total: 3,
          reportedBy: 'test',
          reportedAt: new Date(now - daysAgo * 86_400_000),
        },
      });
    const made = [await report(1, 10), await report(2, 3)];
    try {
      const explosives = await checkView(
        '/覆盖率 民爆',
        (c) => (c.sectorId === civil.id ? c.townshipId : undefined),
        township,
      );
      // A week ago only the 10-day-old report (1/3) was known; today the 3-day-old one (2/3) counts.
      expect(explosives.reply).toMatch(/东坪镇  2\/3 家 66\.7%，差 1 家  ↑1\n   来源：上报 11-26 08:00$/m);
      // The county line keeps the county-wide report (3/4); the township's reports are a note on it.
      const bySector = await checkView('/覆盖率', (c) => (c.part ? undefined : c.sectorId), sector);
      expect(bySector.shown.find((r) => r.name === '民用爆炸物品')).toMatchObject({ insured: 3, total: 4 });
      expect(bySector.reply).toContain('东坪镇 11-26 08:00 上报 2/3（晚于全县上报，只计入该乡镇）');
      const inDongping = await checkView(
        '/覆盖率 东坪',
        (c) => (c.townshipId === dongping.id ? c.sectorId : undefined),
        sector,
      );
      expect(inDongping.shown.find((r) => r.name === '民用爆炸物品')).toMatchObject({
        insured: 2,
        total: 3,
        change: '↑1',
      });
      await checkView('/覆盖率 乡镇', (c) => c.townshipId ?? undefined, township);
    } finally {
      await t.db.progressReport.deleteMany({ where: { id: { in: made.map((r) => r.id) } } });
    }
  });
});
