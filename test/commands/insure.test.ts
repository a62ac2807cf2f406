import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/clock.ts';
import type { Bus } from '../../src/bot/bus.ts';
import { parseYuanToFen, ruleInForce } from '../../src/domain/policies.ts';
import { testBot, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
const TODAY = '2026-11-29';
const say = (userId: string, text: string) => bus.handle({ channel: 'sandbox', userId, chatId: null, text });
const policies = () => t.db.policy.findMany({ orderBy: { id: 'asc' } });

/** "非煤矿山  23/27 家 85.1%" → [23, 27] for a sector, read off the /覆盖率 reply. */
async function coverageOf(sector: string): Promise<[number, number]> {
  const reply = (await say('demo-leader', '/覆盖率')).text;
  const m = new RegExp(`^\\S+ ${sector}\\s+(\\d+)/(\\d+) 家`, 'm').exec(reply);
  return [Number(m![1]), Number(m![2])];
}

/** An operating high-risk enterprise with no policy at all, outside 东坪镇 (whose liaison must be refused for it). */
async function uninsured(lead?: string) {
  const dongping = await t.db.unit.findFirstOrThrow({ where: { code: '430923121' } });
  const sector = {
    highRisk: true,
    ...(lead ? { responsibilities: { some: { role: 'lead', unit: { code: lead } } } } : {}),
  };
  return t.db.enterprise.findFirstOrThrow({
    where: { status: 'operating', sector, policies: { none: {} }, townshipId: { not: dongping.id } },
    include: { sector: true, township: true },
    orderBy: { id: 'asc' },
  });
}

beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(() => t.close());

describe('/投保', () => {
  it('by the insurer, for an uninsured enterprise, raises its sector’s insured count by one; /撤销 withdraws it', async () => {
    const e = await uninsured();
    const before = await coverageOf(e.sector.name);
    const out = await say('demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-T-0001 ${TODAY} 2027-11-28`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('✅ 已登记保单 PA-T-0001');
    expect(out.text).toContain(`${e.name}（${e.sector.name}·${e.township.name}）`);
    expect(out.text).toContain(`中国平安财险安化支公司｜2026-11-29 至 2027-11-28｜${e.employees} 人`);
    expect(out.text).toContain('每人 ¥400,000 记录（应急〔2025〕27号，2025-03-29 起施行的最低标准）');
    expect(out.text).toContain('🟢 该企业今日在保，保障至 2027-11-28');
    const policy = await t.db.policy.findFirstOrThrow({ where: { policyNo: 'PA-T-0001' }, include: { insurer: true } });
    expect(policy).toMatchObject({
      enterpriseId: e.id,
      startOn: TODAY,
      endOn: '2027-11-28',
      insuredHeadcount: e.employees,
      premiumFen: null,
      liabilityPerPerson: 400000,
      renewsPolicyId: null,
      status: 'valid',
    });
    expect(policy.insurer.code).toBe('pingan-pc');
    expect(await coverageOf(e.sector.name)).toEqual([before[0] + 1, before[1]]);

    expect((await say('demo-insurer-pingan', '/撤销')).text).toContain(`已撤回保单 PA-T-0001（${e.name}）`);
    expect(await t.db.policy.findFirstOrThrow({ where: { policyNo: 'PA-T-0001' } })).toMatchObject({
      status: 'withdrawn',
      withdrawnBy: 'demo-insurer-pingan',
    });
    expect(await coverageOf(e.sector.name)).toEqual(before);
    // Its number may be entered again, corrected.
    const again = await say('demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-T-0001 ${TODAY} 2027-11-27`);
    expect(again.text).toContain('✅ 已登记保单 PA-T-0001');
    expect(await coverageOf(e.sector.name)).toEqual([before[0] + 1, before[1]]);
    expect((await say('demo-insurer-pingan', '/撤销')).outcome).toBe('ok');
  });

  it('takes the headcount and premium as typed, warns about a headcount off the ledger, and says when cover starts later', async () => {
    const e = await uninsured('yjj');
    const out = await say(
      'demo-liaison-yjj',
      `/投保 ${e.name} 人寿 GS2026-77 12月1日 2027-11-30 ${e.employees + 1} 1.2万`,
    );
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('保费 ¥12,000');
    expect(out.text).toContain(`投保人数超过台账职工数 ${e.employees}`);
    expect(out.text).toContain('🔵 该企业今日未在保：2026-12-01 起保，保障至 2027-11-30');
    expect(
      await t.db.policy.findFirstOrThrow({ where: { policyNo: 'GS2026-77' }, include: { insurer: true } }),
    ).toMatchObject({
      startOn: '2026-12-01',
      insuredHeadcount: e.employees + 1,
      premiumFen: 1_200_000,
      insurer: { code: 'chinalife-pc' },
    });
  });

  it('applies the liability rule in force on the start day', async () => {
    expect(await ruleInForce(t.db, 'min_liability_per_person', '2017-12-31')).toBeNull();
    expect(await ruleInForce(t.db, 'min_liability_per_person', '2025-03-28')).toMatchObject({
      value: 300000,
      source: '安监总办〔2017〕140号',
    });
    expect(await ruleInForce(t.db, 'min_liability_per_person', '2025-03-29')).toMatchObject({
      value: 400000,
      source: '应急〔2025〕27号',
    });
    const e = await uninsured();
    const out = await say('demo-admin', `/投保 ${e.creditCode} 平安 PA-OLD-1 2024-06-01 2025-05-31`);
    expect(out.text).toContain('每人 ¥300,000 记录（安监总办〔2017〕140号');
    expect(out.text).toContain('🔴 该企业今日未在保');
    expect((await t.db.policy.findFirstOrThrow({ where: { policyNo: 'PA-OLD-1' } })).liabilityPerPerson).toBe(300000);
  });

  it('links a renewal to the policy that ended within 60 days before it', async () => {
    const lapsed = await t.db.policy.findFirstOrThrow({
      where: {
        status: 'valid',
        endOn: { gte: addDays(TODAY, -60), lt: TODAY },
        enterprise: { policies: { every: { endOn: { lt: TODAY } } } },
      },
      include: { enterprise: true },
    });
    const out = await say('demo-admin', `/投保 ${lapsed.enterprise.creditCode} 平安 PA-RENEW-1 ${TODAY} 2027-11-28`);
    expect(out.text).toContain(`🔁 续保：接续保单 ${lapsed.policyNo}（${lapsed.endOn} 到期）`);
    expect((await t.db.policy.findFirstOrThrow({ where: { policyNo: 'PA-RENEW-1' } })).renewsPolicyId).toBe(lapsed.id);
  });

  it('lets the liaison of the department leading the sector record one', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({ where: { sector: { code: 'transport' } } });
    const out = await say('demo-liaison-jtj', `/投保 ${e.creditCode} 平安 JT-1 ${TODAY} 2027-11-28`);
    expect(out.outcome).toBe('ok');
  });

  it('gives a short numbered pick list for an ambiguous name, and records nothing', async () => {
    const before = await policies();
    const out = await say('demo-insurer-pingan', `/投保 化工有限公司 平安 PA-T-9 ${TODAY} 2027-11-28`);
    expect(out.outcome).toBe('invalid');
    const lines = out.text.split('\n');
    expect(lines[0]).toBe('“化工有限公司”对应多家企业，没有登记。请用全称或信用代码重发：');
    expect(
      lines.slice(1, 6).every((l, i) => l.startsWith(`${i + 1}. `) && /化工有限公司.*（[0-9A-Z]{18}）$/.test(l)),
    ).toBe(true);
    expect(lines[6]).toBe('…');
    expect(await policies()).toEqual(before);
  });

  it('refuses a duplicate number, an end before the start, an unknown insurer, and anyone else, with nothing written', async () => {
    const e = await uninsured();
    const pingan = await t.db.unit.findFirstOrThrow({ where: { code: 'pingan-pc' } });
    const existing = await t.db.policy.findFirstOrThrow({
      where: { insurerId: pingan.id },
      include: { enterprise: true },
    });
    const before = await policies();
    const cases: [string, string, RegExp][] = [
      [
        'demo-insurer-pingan',
        `/投保 ${e.creditCode} 平安 ${existing.policyNo} ${TODAY} 2027-11-28`,
        new RegExp(`保单号 ${existing.policyNo} 已登记过（${existing.enterprise.name.replace(/[()（）]/g, '.')}）`),
      ],
      [
        'demo-insurer-pingan',
        `/投保 ${e.creditCode} 平安 PA-T-2 2027-11-28 ${TODAY}`,
        /止保日期 2026-11-29 不晚于起保日期 2027-11-28/,
      ],
      [
        'demo-insurer-pingan',
        `/投保 ${e.creditCode} 太平洋 PA-T-3 ${TODAY} 2027-11-28`,
        /找不到保险公司“太平洋”.*中国人寿财险安化县支公司、中国平安财险安化支公司/,
      ],
      [
        'demo-insurer-pingan',
        `/投保 ${e.creditCode} 人寿 PA-T-4 ${TODAY} 2027-11-28`,
        new RegExp(`可以登记的是：承保的中国人寿财险安化县支公司、${e.township.name}联络员、县.+联络员，或管理员`),
      ],
      [
        'demo-liaison-dongping',
        `/投保 ${e.creditCode} 平安 PA-T-5 ${TODAY} 2027-11-28`,
        new RegExp(`${e.township.name}联络员`),
      ],
      ['demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-T-6 后年 2027-11-28`, /起保日“后年”不是日期/],
      ['demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-T-7 ${TODAY} 2027-11-28 0`, /投保人数“0”不对/],
      ['demo-leader', `/投保 ${e.creditCode} 平安 PA-T-8 ${TODAY} 2027-11-28`, /不能使用 \/投保/],
    ];
    for (const [who, text, expected] of cases) {
      const out = await say(who, text);
      expect(out.outcome, text).not.toBe('ok');
      expect(out.text, text).toMatch(expected);
    }
    expect(await policies()).toEqual(before);
  });
});

describe('policies that cannot be right', () => {
  it('refuses a term longer than the campaign allows and a premium of zero, naming the rule; writes nothing', async () => {
    const e = await uninsured();
    const before = await policies();
    const long = await say('demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-LONG-1 ${TODAY} 2028-01-05`);
    expect(long.outcome).toBe('invalid');
    expect(long.text).toContain('保险期间 2026-11-29 至 2028-01-05 超过 13 个月（县安委办设定');
    const free = await say('demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-FREE-1 ${TODAY} 2027-11-28 5 0`);
    expect(free.outcome).toBe('invalid');
    expect(free.text).toContain('保费必须大于 0');
    expect(await policies()).toEqual(before);
    // Thirteen months to the day is still a policy.
    const edge = await say('demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-EDGE-1 ${TODAY} 2027-12-29`);
    expect(edge.outcome).toBe('ok');
    expect((await say('demo-insurer-pingan', '/撤销')).outcome).toBe('ok');
  });

  it('records a second policy over the same days with a warning, and leaders find it with /逾期 保单', async () => {
    const e = await uninsured();
    await say('demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-DUP-1 ${TODAY} 2027-11-28`);
    // A renewal overlapping a few days is no warning; a second year-long cover is.
    const renewal = await say('demo-insurer-pingan', `/投保 ${e.creditCode} 平安 PA-DUP-2 2027-11-25 2028-11-24`);
    expect(renewal.text).not.toContain('重叠');
    const out = await say('demo-liaison-yjj', `/投保 ${e.creditCode} 人寿 GS-DUP-3 2026-12-01 2027-11-30`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('⚠️ 与 中国平安财险安化支公司 保单 PA-DUP-1（2026-11-29 至 2027-11-28）重叠 363 天');
    const list = (await say('demo-leader', '/逾期 保单')).text;
    expect(list).toContain(`· ${e.name}（中国人寿财险安化县支公司 GS-DUP-3，2026-12-01 至 2027-11-30）`);
    expect(list).toContain('来源：台账');
    expect((await say('demo-liaison-yjj', '/逾期 保单')).outcome).toBe('invalid');
  });
});

describe('amounts in yuan', () => {
  it('reads digits, decimals, 万 and Chinese numerals into fen', () => {
    expect(parseYuanToFen('6750')).toBe(675_000);
    expect(parseYuanToFen('6750.5')).toBe(675_050);
    expect(parseYuanToFen('¥1.2万')).toBe(1_200_000);
    expect(parseYuanToFen('一万二千元')).toBe(1_200_000);
    expect(parseYuanToFen('abc')).toBeNull();
  });
});
