import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/clock.ts';
import { lapses } from '../../src/domain/lookup.ts';
import { median, parseOutcome } from '../../src/domain/claims.ts';
import { parseFindingKind } from '../../src/domain/findings.ts';
import { content, queued, reminderWorlds, runDay, unitId, world, type World } from '../support/reminders.ts';
import { pinganDongping } from '../support/db.ts';

// Claims and disputes (及时赔付、争议协调) and third-party agencies' findings, whole lifecycles in the
// sandbox chat: claim → overdue reminder → payment; dispute → outcome; finding → insurer and county
// office told → counted in /排名. Each world is a fresh copy of the demo county.

reminderWorlds();

let w: World;
let insured: { id: number; name: string; creditCode: string };
const say = async (userId: string, text: string, chatId: string | null = null) => {
  const o = await w.bus.handle({ channel: 'sandbox', userId, chatId, text });
  if (process.env.SHOW) console.log(`> ${userId}: ${text}\n${o.text}\n`);
  return o;
};
/** Everything these commands write, to show that a refusal wrote nothing. */
const snapshot = async () =>
  JSON.stringify(
    await Promise.all([
      w.db.claim.findMany({ orderBy: { id: 'asc' } }),
      w.db.claimDispute.findMany({ orderBy: { id: 'asc' } }),
      w.db.agencyFinding.findMany({ orderBy: { id: 'asc' } }),
      w.db.outboxMessage.count(),
    ]),
  );

beforeAll(async () => {
  w = await world();
  insured = await pinganDongping(w.db, '2026-11-01');
});

describe('words', () => {
  it('reads outcomes, finding kinds, medians and lapses', () => {
    expect(['达成一致', '维持', '转仲裁或诉讼', '诉讼', '和好'].map(parseOutcome)).toEqual([
      'agreed',
      'upheld',
      'referred',
      'referred',
      null,
    ]);
    expect(['走访迟', '未走访', '理赔', '其他', '迟到'].map(parseFindingKind)).toEqual([
      'visit_late',
      'visit_missing',
      'claim',
      'other',
      null,
    ]);
    const once = (...values: number[]) => values.map((value) => ({ value, count: 1 }));
    expect([median([]), median(once(5)), median(once(9, 1, 4)), median(once(1, 2, 3, 10))]).toEqual([null, 5, 4, 2.5]);
    // Counted values: 3 × 2 days, 1 × 7, 2 × 30 is 2 2 2 7 30 30.
    const counted = [
      { value: 30, count: 2 },
      { value: 2, count: 3 },
      { value: 7, count: 1 },
      { value: 99, count: 0 },
    ];
    expect(median(counted)).toBe(4.5);
    expect(median(counted.slice(0, 2))).toBe(2);
    expect(
      lapses(
        [
          { startOn: '2024-01-01', endOn: '2024-12-31' },
          { startOn: '2025-03-01', endOn: '2026-02-28' },
        ],
        '2026-11-29',
      ),
    ).toEqual([
      { from: '2025-01-01', until: '2025-02-28', days: 59 },
      { from: '2026-03-01', until: null, days: 274 },
    ]);
  });
});

describe('a claim: recorded, overdue and reminded, then paid', () => {
  let id: number;

  it('refuses bad input and writes nothing', async () => {
    const before = await snapshot();
    const cases: [string, string][] = [
      [`/理赔 不存在的企业名称 11月20日 11月21日 8000`, '台账里找不到企业“不存在的企业名称”'],
      [`/理赔 ${insured.creditCode} 11月20日 11月19日 8000`, '报案日期 2026-11-19 早于事故日期 2026-11-20'],
      [`/理赔 ${insured.creditCode} 11月20日 11月21日 八千块`, '金额“八千块”不对'],
      [`/理赔 ${insured.creditCode} 11月20日 11月21日 12.345`, '金额“12.345”不对'],
      [`/理赔 ${insured.creditCode} 11月20日 11月21日 0`, '金额“0”不对'],
      [`/理赔 ${insured.creditCode} 2026-12-20 2026-12-21 8000`, '晚于今天（2026-11-29）'],
    ];
    for (const [line, says] of cases) {
      const out = await say('demo-insurer-pingan', line);
      expect(out.outcome, line).not.toBe('ok');
      expect(out.text, line).toContain(says);
    }
    expect(await snapshot()).toBe(before);
  });

  it('/理赔 records it in fen with the day it should be paid by, and its source', async () => {
    const out = await say('demo-insurer-pingan', `/理赔 ${insured.creditCode} 10月20日 10月21日 8.5万 一人手部受伤`);
    expect(out.outcome).toBe('ok');
    const claim = await w.db.claim.findFirstOrThrow({ where: { enterpriseId: insured.id } });
    id = claim.id;
    expect(claim).toMatchObject({ accidentOn: '2026-10-20', reportedOn: '2026-10-21', claimedFen: 8_500_000 });
    expect(claim.paidOn).toBeNull();
    // The enterprise is demo data: so is its claim.
    expect(claim.isDemo).toBe(true);
    expect(out.text).toContain(`✅ 已登记理赔 #${id} ${insured.name} · 2026-10-20 事故`);
    expect(out.text).toContain('索赔 ¥85,000');
    expect(out.text).toContain('应于 2026-11-20 前赔付（报案后 30 日，县安委办设定');
  });

  it('the daily run reminds the insurer and tells the lead unit, once a week', async () => {
    const r = await runDay(w, '2026-11-30');
    expect(r.state).toBe('ran');
    expect(r.reminders.map((x) => x.rule)).toContain('claim-overdue');
    const yjj = await queued(w.db, 'demo-webhook-yjj');
    const line = yjj.find((m) => m.text.includes('逾期未赔付的理赔'));
    expect(line?.text).toContain(`#${id} ${insured.name}`);
    expect(line?.text).toContain('应于 2026-11-20 前赔付，已逾期 10 天');
    // 平安 has no group: its staff hear it through the app.
    const app = await w.db.outboxMessage.findMany({ where: { channel: 'app', target: 'demo-insurer-pingan' } });
    expect(app.map((m) => content(m.payload)).some((t) => t.includes(`#${id} `) && t.includes('已逾期 10 天'))).toBe(
      true,
    );
    // The next day within the week: nothing again.
    const count = await w.db.outboxMessage.count();
    await runDay(w, '2026-12-01');
    const again = await w.db.outboxMessage.findMany({ skip: count, orderBy: { id: 'asc' } });
    expect(again.filter((m) => content(m.payload).includes('逾期未赔付的理赔'))).toEqual([]);
  });

  it('/赔付 refuses a payment before the accident, an amount that is not money, another insurer; then records it', async () => {
    w.clock.set(new Date('2026-12-01T10:00:00+08:00'));
    const before = await snapshot();
    expect((await say('demo-insurer-pingan', `/赔付 ${id} 8万 2026-10-19`)).text).toContain(
      '赔付日期 2026-10-19 早于事故日期 2026-10-20',
    );
    expect((await say('demo-insurer-pingan', `/赔付 ${id} -5 今天`)).text).toContain('赔付金额“-5”不对');
    expect((await say('demo-insurer-pingan', `/赔付 99999 8万 今天`)).text).toContain('没有编号为 99999 的理赔');
    expect((await say('demo-admin', `/绑定 other-insurer 保险机构 人寿`)).outcome).toBe('ok');
    const before2 = await snapshot();
    expect((await say('other-insurer', `/赔付 ${id} 8万 今天`)).text).toContain('只有该公司可以登记赔付');
    expect(await snapshot()).toBe(before2);
    expect(before).not.toBe('');

    const out = await say('demo-insurer-pingan', `/赔付 ${id} 8万 今天`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain(
      `已登记赔付 #${id} ${insured.name} · 2026-10-20 事故：¥80,000，2026-12-01 赔付，报案后 41 天`,
    );
    expect(out.text).toContain('🔴 超过期限（应于 2026-11-20 前');
    expect(out.text).toContain('赔付金额为索赔金额 ¥85,000 的 94%');
    // The lead unit that was told of it hears it is paid.
    expect(out.text).toContain('演示·应急局工作群');
    expect(await w.db.claim.findUniqueOrThrow({ where: { id } })).toMatchObject({
      paidFen: 8_000_000,
      paidOn: '2026-12-01',
    });
    expect((await say('demo-insurer-pingan', `/赔付 ${id} 8万 今天`)).text).toContain('已于 2026-12-01 赔付 ¥80,000');
  });

  it('a paid claim is reminded no more', async () => {
    const count = await w.db.outboxMessage.count();
    await runDay(w, '2026-12-08');
    const later = await w.db.outboxMessage.findMany({ skip: count, orderBy: { id: 'asc' } });
    expect(later.filter((m) => content(m.payload).includes(`#${id} `))).toEqual([]);
  });

  it('/排名 counts it for 平安: one claim, paid, median 41 days', async () => {
    const out = await say('demo-leader', '/排名');
    const line = out.text.split('\n').find((l) => l.includes('中国平安财险安化支公司') && l.includes('理赔'));
    expect(line).toContain('理赔 1 件 · 已赔 1 · 逾期未赔 0 · 报案至赔付中位 41 天 · 未结争议 0 · 第三方发现 0');
    expect(out.text).toContain('理赔期限：报案后 30 日（县安委办设定');
  });
});

describe('a dispute: opened with its coordinating unit, ended with an outcome', () => {
  let id: number;

  beforeAll(async () => {
    w.clock.set(new Date('2026-12-08T10:00:00+08:00'));
    id = (await w.db.claim.findFirstOrThrow({ where: { enterpriseId: insured.id } })).id;
  });

  it('refuses someone who is no party, and an unknown unit', async () => {
    const before = await snapshot();
    expect((await say('demo-liaison-jtj', `/争议 ${id} 应急局 赔得太少`)).text).toContain('不是理赔');
    expect((await say('demo-insurer-pingan', `/争议 ${id} 应急厅 赔得太少`)).text).toContain('找不到协调单位“应急厅”');
    expect(await snapshot()).toBe(before);
  });

  it('/争议 tells the coordinating unit, with a button per outcome', async () => {
    const out = await say('demo-liaison-dongping', `/争议 ${id} 应急局 伤残等级认定偏低，赔付不足`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain(`⚖️ 已登记争议：#${id} ${insured.name} · 2026-10-20 事故，由县应急管理局协调。`);
    const sent = (await queued(w.db, 'demo-webhook-yjj')).at(-1)!;
    expect(sent.text).toContain('理赔争议请协调');
    expect(sent.text).toContain(`/协调 ${id} <达成一致|维持|转仲裁或诉讼>`);
    // 平安 has no group: its staff hear it through the app.
    const app = await w.db.outboxMessage.findMany({
      where: { target: 'demo-insurer-pingan' },
      orderBy: { id: 'desc' },
    });
    expect(content(app[0]!.payload)).toContain('理赔争议请协调');
    expect((await say('demo-liaison-dongping', `/争议 ${id} 应急局 再说一次`)).text).toContain('已有争议在协调中');
  });

  it('/协调 is for the coordinating unit; it ends the dispute and tells the insurer and the opener', async () => {
    expect((await say('demo-liaison-jtj', `/协调 ${id} 达成一致`)).text).toContain('只有其联络员或县领导可以登记结果');
    expect((await say('demo-liaison-yjj', `/协调 ${id} 再议`)).text).toContain('没有“再议”这种协调结果');
    const out = await say('demo-liaison-yjj', `/协调 ${id} 达成一致 按八级伤残补足赔款`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('达成一致');
    expect(out.text).toContain('演示·平安财险');
    expect(await w.db.claimDispute.findFirstOrThrow({ where: { claimId: id } })).toMatchObject({
      outcome: 'agreed',
      outcomeNote: '按八级伤残补足赔款',
      closedBy: 'demo-liaison-yjj',
    });
    expect((await say('demo-liaison-yjj', `/协调 ${id} 维持`)).text).toContain('没有正在协调的争议');
  });

  it('/撤销 takes the outcome back, and the dispute is open again; the opener cannot withdraw a settled one', async () => {
    expect((await say('demo-liaison-yjj', '/撤销')).text).toContain('的协调结果');
    expect((await w.db.claimDispute.findFirstOrThrow({ where: { claimId: id } })).closedAt).toBeNull();
    expect((await say('demo-liaison-yjj', `/协调 ${id} 维持`)).outcome).toBe('ok');
    expect((await say('demo-liaison-dongping', '/撤销')).text).toContain('演示·应急局联络员');
  });
});

describe('an agency finding: told to the insurer and the county office, counted in /排名', () => {
  it('refuses an unknown insurer, an enterprise the insurer never insured, and writes nothing', async () => {
    const other = await w.db.enterprise.findFirstOrThrow({
      where: { policies: { none: { insurer: { code: 'pingan-pc' } } } },
      orderBy: { id: 'asc' },
    });
    const before = await snapshot();
    expect((await say('demo-agency', `/发现 太保 未走访 ${insured.creditCode} 没有走访`)).text).toContain(
      '找不到保险公司“太保”',
    );
    expect((await say('demo-agency', `/发现 平安 未走访 ${other.creditCode} 没有走访`)).text).toContain('从未承保');
    expect((await say('demo-agency', `/发现 平安 迟到 ${insured.creditCode} 没有走访`)).text).toContain(
      '没有“迟到”这种发现类别',
    );
    expect((await say('demo-insurer-pingan', `/发现 平安 未走访 ${insured.creditCode} 没有走访`)).outcome).toBe(
      'denied',
    );
    expect(await snapshot()).toBe(before);
  });

  it('/发现 is told to 平安 and the county office, and counts in /排名', async () => {
    const out = await say('demo-agency', `/发现 平安 未走访 ${insured.creditCode} 投保后半年未见走访记录`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('✅ 已登记发现 #');
    expect(out.text).toContain('演示·平安财险');
    // The county office (县安委办) has no group of its own but the leaders' group: it is told there.
    expect(out.text).toContain('演示·县领导群');
    const leaders = (await queued(w.db, 'demo-webhook-leaders')).at(-1)!;
    expect(leaders.text).toContain('演示·安全生产第三方服务机构对中国平安财险安化支公司的服务发现（未走访）');
    const claim = await w.db.claim.findFirstOrThrow({ where: { enterpriseId: insured.id } });
    expect((await say('demo-agency', `/发现 平安 理赔 #${claim.id} 报案后逾期赔付`)).outcome).toBe('ok');
    const rank = (await say('demo-agency', '/排名')).text;
    const line = rank.split('\n').find((l) => l.includes('中国平安财险安化支公司') && l.includes('理赔'));
    expect(line).toContain('第三方发现 2');
    expect(line).toMatch(/^🟡 2\. /);
  });
});

describe('/查询 by each kind of member, within their scope', () => {
  it('shows the enterprise to the leader: policies, headcount, visits, open items, claims', async () => {
    const out = await say('demo-leader', `/查询 ${insured.name}`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain(`🏭 ${insured.name}（${insured.creditCode}）`);
    expect(out.text).toMatch(/东坪镇 · 规模以[上下] · 职工 \d+ 人 · 在营/);
    expect(out.text).toMatch(
      /🟢 中国平安财险安化支公司 \S+ \d{4}-\d\d-\d\d~\d{4}-\d\d-\d\d 投保 \d+\/\d+ 人 (全员覆盖|⚠️未全员覆盖)/,
    );
    expect(out.text).toContain('理赔（共 1 件');
    expect(out.text).toContain('已赔 ¥80,000（2026-12-01）');
    expect(out.text).toContain('争议已结（县应急管理局：维持原处理）');
    expect(out.text).toContain('第三方机构对承保服务的发现：2 条');
  });

  it('several matches give a numbered list with a button each', async () => {
    const out = await say('demo-leader', '/查询 东坪');
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('“东坪”对应多家企业，请选择：');
    expect(out.text).toMatch(/^1\. /m);
    expect(out.buttons?.length).toBeGreaterThan(1);
    expect(out.buttons![0]!.command).toMatch(/^\/查询 [0-9A-Z]{18}$/);
    // Pressing one is typing it.
    expect((await say('demo-leader', out.buttons![0]!.command)).text).toContain('🏭 ');
  });

  it('an insurer’s pick list holds only the enterprises it insures or has insured', async () => {
    const out = await say('demo-insurer-pingan', '/查询 东坪');
    expect(out.buttons?.length).toBeGreaterThan(1);
    for (const b of out.buttons!) {
      const code = b.command.split(' ')[1]!;
      const held = await w.db.policy.count({
        where: { insurer: { code: 'pingan-pc' }, enterprise: { creditCode: code }, status: { not: 'withdrawn' } },
      });
      expect(held, code).toBeGreaterThan(0);
    }
  });

  it('a township sees its own; another township, a department of other sectors and an insurer that never insured it are refused', async () => {
    expect((await say('demo-liaison-dongping', `/查询 ${insured.creditCode}`)).text).toContain('🏭 ');
    expect((await say('demo-insurer-pingan', `/查询 ${insured.creditCode}`)).text).toContain('🏭 ');
    expect((await say('demo-agency', `/查询 ${insured.creditCode}`)).text).toContain('🏭 ');
    const elsewhere = await w.db.enterprise.findFirstOrThrow({
      where: { township: { code: { not: '430923121' } }, sector: { code: { not: 'transport' } } },
      orderBy: { id: 'asc' },
    });
    const township = await say('demo-liaison-dongping', `/查询 ${elsewhere.creditCode}`);
    expect(township.text).toContain(`${elsewhere.name}不在您的查询范围（东坪镇的企业）`);
    const jtj = await say('demo-liaison-jtj', `/查询 ${elsewhere.creditCode}`);
    expect(jtj.text).toContain('不在您的查询范围（县交通运输局牵头或参与的行业的企业）');
    const never = await w.db.enterprise.findFirstOrThrow({
      where: { policies: { none: { insurer: { code: 'pingan-pc' } } } },
      orderBy: { id: 'asc' },
    });
    expect((await say('demo-insurer-pingan', `/查询 ${never.creditCode}`)).text).toContain(
      '不在您的查询范围（中国平安财险安化支公司承保或承保过的企业）',
    );
    expect((await say('demo-leader', '/查询 没有这家企业')).text).toContain('台账里找不到“没有这家企业”');
    expect(await unitId(w.db, 'demo-agency')).toBeGreaterThan(0);
    expect(addDays('2026-11-29', 1)).toBe('2026-11-30');
  });
});

describe('undo, and the agency role', () => {
  it('/撤销 withdraws a claim (kept, out of figures); refused once another party disputed it', async () => {
    w.clock.set(new Date('2026-12-09T10:00:00+08:00'));
    const rank = async () =>
      (await say('demo-leader', '/排名')).text
        .split('\n')
        .find((l) => l.includes('中国平安财险安化支公司') && l.includes('理赔'))!;
    const before = await rank();
    expect((await say('demo-insurer-pingan', `/理赔 ${insured.creditCode} 12月1日 12月2日 3000`)).outcome).toBe('ok');
    const claim = await w.db.claim.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(await rank()).toContain('理赔 2 件');
    const undone = await say('demo-insurer-pingan', '/撤销');
    expect(undone.text).toContain(`已撤回理赔 #${claim.id}`);
    expect((await w.db.claim.findUniqueOrThrow({ where: { id: claim.id } })).withdrawnBy).toBe('demo-insurer-pingan');
    expect(await rank()).toBe(before);
    expect((await say('demo-insurer-pingan', `/赔付 ${claim.id} 3000 今天`)).text).toContain('或已撤回');

    expect((await say('demo-insurer-pingan', `/理赔 ${insured.creditCode} 12月1日 12月2日 3000`)).outcome).toBe('ok');
    const second = await w.db.claim.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect((await say('demo-liaison-dongping', `/争议 ${second.id} 东坪 金额不对`)).outcome).toBe('ok');
    const refused = await say('demo-insurer-pingan', '/撤销');
    expect(refused.text).toContain('演示·东坪镇联络员');
    expect((await w.db.claim.findUniqueOrThrow({ where: { id: second.id } })).withdrawnAt).toBeNull();
  });

  it('/撤销 withdraws a finding: it no longer counts', async () => {
    const count = () => w.db.agencyFinding.count({ where: { withdrawnAt: null } });
    const n = await count();
    expect((await say('demo-agency', `/发现 平安 其他 ${insured.creditCode} 回访电话无人接听`)).outcome).toBe('ok');
    expect(await count()).toBe(n + 1);
    expect((await say('demo-agency', '/撤销')).text).toContain('对中国平安财险安化支公司的发现');
    expect(await count()).toBe(n);
  });

  it('an agency is bound to a third-party unit only, and says who it is', async () => {
    expect((await say('demo-admin', '/绑定 agency-two 第三方机构 应急局')).outcome).not.toBe('ok');
    expect(await w.db.member.findUnique({ where: { userId: 'agency-two' } })).toBeNull();
    expect((await say('demo-admin', '/绑定 agency-two 第三方机构 演示·安全生产第三方服务机构')).outcome).toBe('ok');
    expect((await say('agency-two', '/我是谁')).text).toContain('第三方机构');
    // An agency reads figures but records no claim.
    expect((await say('agency-two', '/覆盖率')).outcome).toBe('ok');
    expect((await say('agency-two', `/理赔 ${insured.creditCode} 昨天 今天 3000`)).outcome).toBe('denied');
  });
});

describe('/理赔记录', () => {
  it('lists the claims within scope, newest first, filtered by overdue, dispute or insurer', async () => {
    const claims = await w.db.claim.findMany({ orderBy: { id: 'asc' } });
    const [paid, withdrawn, disputed] = claims;
    const all = (await say('demo-agency', '/理赔记录')).text;
    expect(all).toContain(`#${paid!.id} `);
    expect(all).toContain(`#${disputed!.id} `);
    expect(all).not.toContain(`#${withdrawn!.id} `);
    expect(all.indexOf(`#${disputed!.id} `)).toBeLessThan(all.indexOf(`#${paid!.id} `));
    const inDispute = (await say('demo-leader', '/理赔记录 争议')).text;
    expect(inDispute).toContain(`#${disputed!.id} `);
    expect(inDispute).toContain('争议协调中（东坪镇）');
    expect(inDispute).not.toContain(`#${paid!.id} `);
    expect((await say('demo-leader', '/理赔记录 逾期')).text).toBe(
      '没有符合条件的理赔记录。\n⚠️ 含演示数据，仅供试用。',
    );
    expect((await say('demo-leader', '/理赔记录 平安')).text).toContain(`#${paid!.id} `);
    // Another insurer sees only its own: none.
    expect((await say('other-insurer', '/理赔记录')).text).toContain('没有符合条件的理赔记录');
    expect((await say('demo-leader', '/理赔记录 太保')).text).toContain('“太保”不是保险公司');
  });

  it('shows a claim in the same line as /查询 does, with its latest dispute', async () => {
    const paid = await w.db.claim.findFirstOrThrow({ where: { enterpriseId: insured.id }, orderBy: { id: 'asc' } });
    // Its first dispute ended 维持; a second one is now open.
    expect((await say('demo-liaison-dongping', `/争议 ${paid.id} 应急局 鉴定结论有新证据`)).outcome).toBe('ok');
    const lineOf = (text: string) => text.split('\n').find((l) => l.startsWith(`#${paid.id} `));
    const listed = lineOf((await say('demo-leader', '/理赔记录 平安')).text);
    const looked = lineOf((await say('demo-leader', `/查询 ${insured.creditCode}`)).text);
    expect(listed).toContain('争议协调中（县应急管理局）');
    expect(listed).not.toContain('维持');
    expect(looked).toBe(listed);
  });
});
