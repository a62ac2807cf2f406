import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { parseServiceCounts, parseServiceType } from '../../src/domain/visits.ts';
import { pinganDongping, testDb, TZ, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
/** The 东坪镇 enterprise 平安 insures (from before yesterday on), and one that only another insurer does. */
let insured: { id: number; name: string; creditCode: string };
let other: { id: number; name: string; creditCode: string };

const say = async (userId: string, text: string) => {
  const o = await bus.handle({ channel: 'sandbox', userId, chatId: null, text });
  if (process.env.SHOW) console.log(`> ${userId}: ${text}\n${o.text}\n`);
  return o;
};
const validOn = (day: string) => ({ status: 'valid', startOn: { lte: day }, endOn: { gte: day } });
/** Everything these commands write, to show that a refusal wrote nothing. */
const snapshot = async () =>
  JSON.stringify(
    await Promise.all([
      t.db.preventionVisit.findMany({ orderBy: { id: 'asc' } }),
      t.db.servicePlan.findMany({ orderBy: { id: 'asc' } }),
      t.db.obligation.findMany({ where: { unit: { kind: 'insurer' } }, orderBy: { id: 'asc' } }),
      t.db.obligationEvent.count(),
      t.db.outboxMessage.count(),
    ]),
  );
/** The /走访记录 line of one visit. */
const lineOf = (reply: string, id: number) => reply.split('\n').find((l) => l.startsWith(`#${id} `));

beforeAll(async () => {
  t = await testDb({ demo: true });
  bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
  insured = await pinganDongping(t.db, '2026-11-27');
  other = await t.db.enterprise.findFirstOrThrow({
    where: {
      policies: {
        some: { insurer: { code: 'chinalife-pc' }, ...validOn('2026-11-29') },
        none: { insurer: { code: 'pingan-pc' }, ...validOn('2026-11-29') },
      },
    },
    orderBy: { id: 'asc' },
  });
  // A liaison of another township, to be refused.
  const qingtang = await t.db.unit.findFirstOrThrow({ where: { code: '430923101' } });
  await t.db.member.create({
    data: { userId: 'liaison-qingtang', name: '清塘铺镇联络员', roles: 'liaison', unitId: qingtang.id },
  });
});
afterAll(() => t.close());

describe('service types and plan counts', () => {
  it('reads the AQ 9010 aliases and counts per type', () => {
    expect(
      ['培训', '评估', '标准化', '隐患排查', '排查', '隐患', '应急演练', '演练', '科技推广', '科技', '其他'].map(
        parseServiceType,
      ),
    ).toEqual([
      'training',
      'risk_assessment',
      'standardisation',
      'hazard_inspection',
      'hazard_inspection',
      'hazard_inspection',
      'emergency_drill',
      'emergency_drill',
      'technology',
      'technology',
      'other',
    ]);
    expect(parseServiceType('参观')).toBeNull();
    expect(parseServiceCounts('培训4 排查6 演练一次')).toEqual({
      training: 4,
      hazard_inspection: 6,
      emergency_drill: 1,
    });
    expect(parseServiceCounts('每季度排查一次')).toBeNull();
  });
});

describe('an insurer records a visit, the township confirms, the leader sees it archived', () => {
  let id: number;

  it('/走访 records the visit as confirmed by the insurer and notifies the township chat', async () => {
    const outboxBefore = await t.db.outboxMessage.count();
    const out = await say('demo-insurer-pingan', `/走访 ${insured.creditCode} 排查 昨天 张工 消防通道堵塞 已当场告知`);
    expect(out.outcome).toBe('ok');
    const visit = await t.db.preventionVisit.findFirstOrThrow({ where: { enterpriseId: insured.id } });
    id = visit.id;
    expect(visit).toMatchObject({
      serviceType: 'hazard_inspection',
      visitedOn: '2026-11-28',
      staff: '张工',
      findings: '消防通道堵塞 已当场告知',
      recordedBy: 'demo-insurer-pingan',
      insurerConfirmedBy: 'demo-insurer-pingan',
      enterpriseConfirmedAt: null,
    });
    expect(visit.insurerConfirmedAt?.toISOString()).toBe(t.clock.now().toISOString());
    expect(out.text).toContain(`✅ 已登记走访 #${id} 2026-11-28 ${insured.name} · 隐患排查`);
    expect(out.text).toContain(`请东坪镇、县应急管理局的联络员代企业核实后发送 /确认 ${id}`);
    expect(out.text).toContain('已通知 1 个工作群：演示·东坪镇工作群');
    const sent = await t.db.outboxMessage.findMany({
      where: { id: { gt: 0 } },
      orderBy: { id: 'asc' },
      skip: outboxBefore,
    });
    expect(sent.map((m) => [m.channel, m.target])).toEqual([['webhook', 'demo-webhook-dongping']]);
    expect(sent[0]!.payload).toContain(`/确认 ${id}`);
  });

  it('/走访记录 shows it awaiting confirmation', async () => {
    const reply = (await say('demo-leader', '/走访记录')).text;
    expect(lineOf(reply, id)).toBe(`#${id} 2026-11-28 ${insured.name} · 隐患排查 · 平安 🟡待确认`);
  });

  it('the 东坪镇 liaison confirms with satisfaction 5, and the insurer hears of it', async () => {
    const out = await say('demo-liaison-dongping', `/确认 ${id} 5 讲解清楚`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('满意度：5/5');
    expect(out.text).toContain('已归档');
    expect(await t.db.preventionVisit.findUniqueOrThrow({ where: { id } })).toMatchObject({
      enterpriseConfirmedBy: 'demo-liaison-dongping',
      satisfaction: 5,
      comment: '讲解清楚',
    });
    const notice = await t.db.outboxMessage.findFirstOrThrow({ where: { channel: 'app' }, orderBy: { id: 'desc' } });
    expect(notice.target).toBe('demo-insurer-pingan');
    expect(notice.payload).toContain('已归档');
  });

  it('the leader sees it archived; the month filters it; a sector department that does not lead it does not see it', async () => {
    expect(lineOf((await say('demo-leader', '/走访记录')).text, id)).toMatch(/🟢已归档$/);
    expect(lineOf((await say('demo-leader', '/走访记录 11月')).text, id)).toBeDefined();
    expect((await say('demo-leader', '/走访记录 2026-10')).text).toContain('没有您可以查看的走访记录');
    expect(lineOf((await say('demo-liaison-dongping', '/走访记录')).text, id)).toBeDefined();
    expect(lineOf((await say('demo-insurer-pingan', `/走访记录 ${insured.creditCode}`)).text, id)).toMatch(
      /隐患排查 🟢已归档$/,
    );
    expect((await say('demo-liaison-jtj', '/走访记录')).text).toContain('没有您可以查看的走访记录');
  });

  it('refuses to confirm twice, an insurer confirming, a liaison of another township and a bad score, writing nothing', async () => {
    const before = await snapshot();
    const twice = await say('demo-liaison-dongping', `/确认 ${id} 4`);
    expect(twice.text).toContain(`走访 #${id} 已由演示·东坪镇联络员于 2026-11-29 08:00 确认，不能重复确认`);
    // A fresh visit, so the refusals below are not about it being confirmed already.
    const fresh = await t.db.preventionVisit.create({
      data: {
        enterpriseId: insured.id,
        insurerId: (await t.db.unit.findFirstOrThrow({ where: { code: 'pingan-pc' } })).id,
        serviceType: 'training',
        visitedOn: '2026-11-27',
        recordedBy: 'demo-insurer-pingan',
        insurerConfirmedAt: t.clock.now(),
      },
    });
    const withFresh = await snapshot();
    const insurer = await say('demo-insurer-pingan', `/确认 ${fresh.id} 5`);
    expect(insurer.text).toContain('保险机构不能确认走访');
    const stranger = await say('liaison-qingtang', `/确认 ${fresh.id}`);
    expect(stranger.text).toContain(`您不负责${insured.name}，不能代其确认：请由东坪镇、县应急管理局的联络员确认`);
    const score = await say('demo-liaison-dongping', `/确认 ${fresh.id} 9 很好`);
    expect(score.text).toContain('满意度请写 1 到 5');
    for (const out of [twice, insurer, stranger, score]) expect(out.outcome).toBe('invalid');
    expect(await snapshot()).toBe(withFresh);
    await t.db.preventionVisit.delete({ where: { id: fresh.id } });
    expect(await snapshot()).toBe(before);
  });
});

describe('an enterprise with its own contact', () => {
  it('is notified by app message and confirms itself; the township liaison is told to leave it to the contact', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({
      where: {
        id: { not: insured.id },
        status: 'operating',
        policies: { some: { insurer: { code: 'pingan-pc' }, ...validOn('2026-11-29') } },
      },
      orderBy: { id: 'asc' },
    });
    await t.db.member.create({
      data: { userId: 'contact-e', name: '企业安全员', roles: 'enterprise', enterpriseId: e.id },
    });
    const out = await say('demo-insurer-pingan', `/走访 ${e.creditCode} 培训 今天`);
    const visit = await t.db.preventionVisit.findFirstOrThrow({ where: { enterpriseId: e.id } });
    expect(out.text).toContain(`请企业联系人 企业安全员 发送 /确认 ${visit.id}`);
    expect(out.text).toContain('已通过应用消息通知 1 人：企业安全员');
    const notice = await t.db.outboxMessage.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect([notice.channel, notice.target]).toEqual(['app', 'contact-e']);
    expect(notice.payload).toContain(`/确认 ${visit.id}`);

    const before = await snapshot();
    const liaison = await say('demo-liaison-yjj', `/确认 ${visit.id}`);
    expect(liaison.text).toContain(`${e.name}有企业联系人 企业安全员，请由其本人确认`);
    expect(await snapshot()).toBe(before);
    expect((await say('contact-e', `/确认 ${visit.id} 四`)).outcome).toBe('ok');
    expect(await t.db.preventionVisit.findUniqueOrThrow({ where: { id: visit.id } })).toMatchObject({
      enterpriseConfirmedBy: 'contact-e',
      satisfaction: 4,
      comment: null,
    });
    expect(lineOf((await say('contact-e', '/走访记录')).text, visit.id)).toMatch(/🟢已归档$/);
  });
});

describe('/走访 refusals', () => {
  it('gives a numbered pick list for an ambiguous name, and writes nothing', async () => {
    const word = insured.name.slice(0, 4); // e.g. 东坪众诚: the township and a trade name
    const matches = await t.db.enterprise.findMany({ where: { name: { contains: word } }, orderBy: { name: 'asc' } });
    expect(matches.length).toBeGreaterThan(1);
    const before = await snapshot();
    const out = await say('demo-insurer-pingan', `/走访 ${word} 培训 今天`);
    expect(out.outcome).toBe('invalid');
    expect(out.text).toContain(`“${word}”对应多家企业，没有登记`);
    expect(out.text).toContain(`1. ${matches[0]!.name}（${matches[0]!.creditCode}）`);
    expect(out.text).toContain(`2. ${matches[1]!.name}（${matches[1]!.creditCode}）`);
    expect(await snapshot()).toBe(before);
  });

  it('refuses a future date and an enterprise the caller’s company does not insure, saying why', async () => {
    const before = await snapshot();
    const future = await say('demo-insurer-pingan', `/走访 ${insured.creditCode} 培训 明天`);
    expect(future.text).toContain('走访日期 2026-11-30 晚于今天（2026-11-29）');
    const foreign = await say('demo-insurer-pingan', `/走访 ${other.creditCode} 培训 今天`);
    expect(foreign.text).toContain(`${other.name}在 2026-11-29 没有中国平安财险安化支公司的有效保单`);
    expect(foreign.text).toContain('当日承保机构：中国人寿财险安化县支公司');
    const badType = await say('demo-insurer-pingan', `/走访 ${insured.creditCode} 参观 今天`);
    expect(badType.text).toContain('没有“参观”这种服务类型');
    expect(badType.text).toContain('用法：/走访');
    for (const out of [future, foreign, badType]) expect(out.outcome).toBe('invalid');
    expect(await snapshot()).toBe(before);
  });

  it('/撤销 after /走访 withdraws the visit and cancels its queued notice', async () => {
    const before = await snapshot();
    const out = await say('demo-insurer-pingan', `/走访 ${insured.creditCode} 演练 11月27日`);
    expect(out.outcome).toBe('ok');
    expect(
      await t.db.preventionVisit.count({ where: { enterpriseId: insured.id, serviceType: 'emergency_drill' } }),
    ).toBe(1);
    const undone = await say('demo-insurer-pingan', '/撤销');
    expect(undone.text).toContain(`已撤回走访记录 #`);
    expect(undone.text).toContain('尚未发出的 1 条通知已取消');
    expect(
      await t.db.preventionVisit.count({
        where: { enterpriseId: insured.id, serviceType: 'emergency_drill', withdrawnAt: null },
      }),
    ).toBe(0);
    // Kept, withdrawn; its notice to the township chat, not yet sent, is cancelled.
    const [, plans, obligations, events, outbox] = JSON.parse(before) as unknown[];
    expect(JSON.parse(await snapshot()).slice(1)).toEqual([plans, obligations, events, (outbox as number) + 1]);
    expect(await t.db.outboxMessage.findFirstOrThrow({ orderBy: { id: 'desc' } })).toMatchObject({
      state: 'cancelled',
    });
  });
});

describe('/服务计划', () => {
  const obligation2027 = () =>
    t.db.obligation.findFirstOrThrow({
      where: { unit: { code: 'pingan-pc' }, duty: { key: 'insurer-annual-report' }, period: '2027' },
    });

  it('records the plan with counts and marks the 2027 annual report done; /撤销 restores both', async () => {
    expect((await obligation2027()).status).toBe('assigned');
    const eventsBefore = await t.db.obligationEvent.count();
    const out = await say('demo-insurer-pingan', '/服务计划 2027 培训4 排查6');
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('宣传教育培训 4 次、隐患排查 6 次，共 10 次');
    expect(out.text).toContain('（2027-01-15 前）已办结');
    const plan = await t.db.servicePlan.findFirstOrThrow({ where: { year: 2027 } });
    expect(JSON.parse(plan.counts!)).toEqual({ training: 4, hazard_inspection: 6 });
    const done = await obligation2027();
    expect(done.status).toBe('done');
    expect(done.doneAt?.toISOString()).toBe(t.clock.now().toISOString());
    const event = await t.db.obligationEvent.findFirstOrThrow({
      where: { obligationId: done.id },
      orderBy: { id: 'desc' },
    });
    expect(event).toMatchObject({
      fromStatus: 'assigned',
      toStatus: 'done',
      note: 'service plan',
      actorUserId: 'demo-insurer-pingan',
    });

    expect((await say('demo-insurer-pingan', '/撤销')).outcome).toBe('ok');
    expect(await t.db.servicePlan.count()).toBe(0);
    expect(await obligation2027()).toMatchObject({ status: 'assigned', doneAt: null });
    expect(await t.db.obligationEvent.count({ where: { withdrawnAt: null } })).toBe(eventsBefore);
  });

  it('a second plan for the year replaces the first, and /撤销 brings the first back', async () => {
    await say('demo-insurer-pingan', '/服务计划 2027 培训4 排查6');
    const out = await say('demo-insurer-pingan', '/服务计划 2027 每季度对全部投保企业排查一次');
    expect(out.text).toContain('已更新中国平安财险安化支公司 2027 年事故预防服务计划');
    expect(out.text).toContain('此前已办结');
    expect(await t.db.servicePlan.findFirstOrThrow({ where: { year: 2027 } })).toMatchObject({
      text: '每季度对全部投保企业排查一次',
      counts: null,
    });
    await say('demo-insurer-pingan', '/撤销');
    expect(await t.db.servicePlan.findFirstOrThrow({ where: { year: 2027 } })).toMatchObject({ text: '培训4 排查6' });
    expect((await obligation2027()).status).toBe('done');
  });

  it('closes an item overdue since January as 逾期办结 with the days late, as /排名 counts it', async () => {
    const lateBefore = /中国平安财险安化支公司  按时 \d+ · 逾期办结 (\d+)/.exec(
      (await say('demo-leader', '/排名')).text,
    )![1];
    const out = await say('demo-insurer-pingan', '/服务计划 2026 培训2');
    expect(out.text).toContain('（2026-01-15 前）已逾期办结，逾期 318 天');
    expect(out.text).not.toContain('已办结。');
    const lateAfter = /中国平安财险安化支公司  按时 \d+ · 逾期办结 (\d+)/.exec(
      (await say('demo-leader', '/排名')).text,
    )![1];
    expect(Number(lateAfter)).toBe(Number(lateBefore) + 1);
    await say('demo-insurer-pingan', '/撤销');
  });

  it('refuses a year out of range naming the years it takes, and a leader (not an insurer), without writing', async () => {
    const before = await snapshot();
    const far = await say('demo-insurer-pingan', '/服务计划 2030 培训4');
    expect(far.outcome).toBe('invalid');
    expect(far.text).toContain('年份“2030”不能登记：可登记 2000 年至 2027 年的计划');
    const old = await say('demo-insurer-pingan', '/服务计划 1999 培训4');
    expect(old.text).toContain('年份“1999”不能登记：可登记 2000 年至 2027 年的计划');
    const leader = await say('demo-leader', '/服务计划 2027 培训4');
    expect(leader.outcome).toBe('denied');
    const admin = await say('demo-admin', '/服务计划 2027 培训4');
    expect(admin.text).toContain('只有保险机构的联系人可以登记服务计划，您的单位是');
    expect(await snapshot()).toBe(before);
  });
});
