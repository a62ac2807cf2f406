import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { addDays } from '../../src/clock.ts';
import { NOW, testBot, type TestDb } from '../support/db.ts';
import { dialog, type Turn } from '../support/dialog.ts';

let t: TestDb;
let bus: Bus;
const say = (userId: string, text: string) => bus.handle({ channel: 'sandbox', userId, chatId: null, text });
const TODAY = '2026-11-29';

/**
 * Everything an obligation command may write: a refusal must leave all of it as it was; an undo, all
 * that lists and reminders see (`live`: its withdrawn step and cancelled messages are kept, left out).
 */
const snapshot = async (live = false) =>
  JSON.stringify([
    // updatedAt is Prisma's own stamp of the last write, which an undo is too.
    (await t.db.obligation.findMany({ orderBy: { id: 'asc' } })).map(({ updatedAt: _, ...o }) => o),
    await t.db.obligationEvent.findMany({ where: live ? { withdrawnAt: null } : {}, orderBy: { id: 'asc' } }),
    await t.db.outboxMessage.findMany({
      where: live ? { state: { not: 'cancelled' } } : {},
      orderBy: { id: 'asc' },
    }),
  ]);
const unitId = async (code: string) => (await t.db.unit.findFirstOrThrow({ where: { code } })).id;
/** The demo's open 2026 enforcement inspection of a unit (due 10-31, overdue on 11-29). */
const inspection = async (code: string) =>
  t.db.obligation.findFirstOrThrow({ where: { unitId: await unitId(code), period: '2026', dutyId: { not: null } } });
/** "🔴 #12 title" lines of a reply → id → colour. */
const colours = (reply: string) =>
  new Map([...reply.matchAll(/^(🔴|🟡|🔵) #(\d+) /gm)].map((m) => [Number(m[2]), m[1]!]));
const webhooks = async (key: string) =>
  (await t.db.outboxMessage.findMany({ where: { channel: 'webhook', target: key }, orderBy: { id: 'asc' } })).map(
    (m) => (JSON.parse(m.payload) as { markdown: { content: string } }).markdown.content,
  );

beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(() => t.close());

describe('/逾期 on the demo data', () => {
  it('lists exactly the overdue obligations (交通局, 住建局, 平安财险) by unit, counted independently', async () => {
    const open = await t.db.obligation.findMany({
      where: { status: { not: 'done' }, dueOn: { lt: TODAY } },
      include: { unit: true },
    });
    expect(open.map((o) => o.unit.code).sort()).toEqual(['jtj', 'pingan-pc', 'zjj']);
    const out = await say('demo-leader', '/逾期');
    expect(out.outcome).toBe('ok');
    const shown = colours(out.text);
    expect([...shown.keys()].sort()).toEqual(open.map((o) => o.id).sort());
    expect([...shown.values()]).toEqual(['🔴', '🔴', '🔴']);
    for (const name of ['【县交通运输局】', '【县住建局】', '【中国平安财险安化支公司】'])
      expect(out.text).toContain(name);
    expect(out.text).toContain('截止 2026-10-31，已逾期 29 天');
  });

  it('counts uninsured and soon-ending policies per sector from the ledger', async () => {
    const out = (await say('demo-leader', '/逾期')).text;
    const enterprises = await t.db.enterprise.findMany({
      where: { status: 'operating', sector: { code: 'construction' } },
      include: { policies: { where: { status: 'valid' } } },
    });
    const uninsured = enterprises.filter((e) => !e.policies.some((p) => p.startOn <= TODAY && p.endOn >= TODAY));
    const lastEnd = (e: (typeof enterprises)[number]) =>
      e.policies
        .map((p) => p.endOn)
        .sort()
        .at(-1) ?? '';
    const lapsed = uninsured.filter((e) => lastEnd(e) >= addDays(TODAY, -90));
    const expiring = enterprises.filter((e) => !uninsured.includes(e) && lastEnd(e) <= addDays(TODAY, 30));
    expect(uninsured.length).toBeGreaterThan(0);
    expect(out).toContain(
      `建筑施工：未参保 ${uninsured.length} 家（含近 90 天断保 ${lapsed.length} 家） · 30 天内到期 ${expiring.length} 家`,
    );
    expect(out).toContain('含演示数据');
  });

  it('gives a liaison their own unit only', async () => {
    const own = (await say('demo-liaison-jtj', '/逾期')).text;
    expect(own).toContain('县交通运输局 逾期和临期督办事项');
    expect([...colours(own).keys()]).toEqual([(await inspection('jtj')).id]);
    expect(own).toContain('交通运输：未参保');
    expect(own).not.toContain('建筑施工');
    const other = await say('demo-liaison-jtj', '/逾期 住建局');
    expect(other.outcome).toBe('invalid');
    expect(other.text).toContain('只能查看本单位（县交通运输局）');
    expect((await say('demo-insurer-pingan', '/逾期')).outcome).toBe('denied');
  });
});

describe('an obligation from assigned to done', () => {
  it('goes assigned → acknowledged → extension requested → extended → feedback → done, each step an event', async () => {
    const o = await inspection('jtj');
    const tasks = await say('demo-liaison-jtj', '/任务');
    expect(colours(tasks.text).get(o.id)).toBe('🔴');
    expect(tasks.text).toContain('待签收');
    // The legend explains the colours (how near the date), not a status the items do not have.
    expect(tasks.text).toContain('🔴 已逾期 🟡 3 个工作日内到期 🔵 未到期');

    expect((await say('demo-liaison-jtj', `/签收 ${o.id}`)).text).toContain(`已签收 #${o.id}`);
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id: o.id } })).toMatchObject({ status: 'acknowledged' });

    const ask = await say('demo-liaison-jtj', `/延期 ${o.id} 12月20日 等待企业补交材料`);
    expect(ask.outcome).toBe('ok');
    expect(ask.text).toContain('2026-10-31 → 2026-12-20');
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id: o.id } })).toMatchObject({
      dueOn: '2026-10-31',
      requestedDueOn: '2026-12-20',
      requestReason: '等待企业补交材料',
    });
    const [notice] = await webhooks('demo-webhook-leaders');
    expect(notice).toContain(`#${o.id} 县交通运输局`);
    expect(notice).toContain(`/批准 ${o.id}`);
    expect((await say('demo-liaison-jtj', '/任务')).text).toContain('申请延期至 2026-12-20，待批准');
    const leader = await say('demo-leader', '/任务');
    expect(leader.text).toContain(`#${o.id} 县交通运输局：2026-10-31 → 2026-12-20（等待企业补交材料）`);
    // Buttons are only those that run as pressed: 批准 does, 驳回 needs a reason and is typed.
    expect(leader.buttons).toContainEqual({ label: `批准 #${o.id}`, command: `/批准 ${o.id}`, style: 'primary' });
    expect(leader.buttons?.some((b) => b.command.startsWith('/驳回'))).toBe(false);

    const approve = await say('demo-leader', `/批准 ${o.id}`);
    expect(approve.text).toContain(`已批准 #${o.id}（县交通运输局）延期：2026-10-31 → 2026-12-20`);
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id: o.id } })).toMatchObject({
      status: 'extended',
      dueOn: '2026-12-20',
      requestedDueOn: null,
      requestReason: null,
    });
    expect((await webhooks('demo-webhook-jtj')).at(-1)).toContain('2026-10-31 → **2026-12-20**');
    const extended = (await say('demo-liaison-jtj', '/任务')).text;
    expect(colours(extended).get(o.id)).toBe('🔵');
    expect(extended).toContain('截止 2026-12-20 · 已延期');

    await say('demo-liaison-jtj', `/反馈 ${o.id} 已检查 40 家，剩余 5 家`);
    expect((await say('demo-liaison-jtj', '/任务')).text).toContain('已反馈 · 已延期');
    const done = await say('demo-liaison-jtj', `/办结 ${o.id} 检查报告已报县安委办`);
    expect(done.text).toContain('已按期办结（截止 2026-12-20）');
    const closed = await t.db.obligation.findUniqueOrThrow({
      where: { id: o.id },
      include: { events: { orderBy: { id: 'asc' } } },
    });
    expect(closed.status).toBe('done');
    expect(closed.doneAt).toEqual(new Date(NOW));
    expect(closed.events.map((e) => [e.fromStatus, e.toStatus, e.actorUserId, e.note, e.dueOn])).toEqual([
      [null, 'assigned', null, 'seed', null],
      ['assigned', 'acknowledged', 'demo-liaison-jtj', null, null],
      ['acknowledged', 'extension_requested', 'demo-liaison-jtj', '等待企业补交材料', '2026-12-20'],
      ['acknowledged', 'extended', 'demo-leader', '2026-10-31', '2026-12-20'],
      ['extended', 'feedback', 'demo-liaison-jtj', '已检查 40 家，剩余 5 家', null],
      ['feedback', 'done', 'demo-liaison-jtj', '检查报告已报县安委办', null],
    ]);
    expect(colours((await say('demo-liaison-jtj', '/任务')).text).has(o.id)).toBe(false);
  });

  it('refuses, changing nothing: another unit’s item, a non-leader approving, a date not after the due date, unknown ids, a closed item', async () => {
    const zjj = await inspection('zjj');
    const jtj = await t.db.obligation.findFirstOrThrow({
      where: { unitId: await unitId('jtj'), status: { not: 'done' } },
    });
    const yjjDone = await t.db.obligation.findFirstOrThrow({ where: { unitId: await unitId('yjj'), status: 'done' } });
    const before = await snapshot();
    const liveBefore = await snapshot(true);
    const refusals: Turn[] = [
      ['demo-liaison-jtj', `/签收 ${zjj.id}`, `事项 #${zjj.id} 由 县住建局 负责`],
      ['demo-liaison-jtj', `/办结 ${zjj.id}`, '由 县住建局 负责'],
      ['demo-admin', `/反馈 ${zjj.id} 代为反馈`, '由 县住建局 负责'],
      ['demo-liaison-jtj', `/批准 ${jtj.id}`, '不能使用 /批准'],
      ['demo-insurer-pingan', `/驳回 ${jtj.id} 不行`, '不能使用 /驳回'],
      ['demo-liaison-jtj', `/延期 ${jtj.id} ${jtj.dueOn} 来不及`, `不晚于现在的截止日期 ${jtj.dueOn}`],
      ['demo-liaison-jtj', `/延期 ${jtj.id} 下辈子 来不及`, '“下辈子”不是日期'],
      ['demo-liaison-jtj', `/延期 ${jtj.id} 2027-12-31`, '缺少参数：理由'],
      ['demo-liaison-jtj', '/签收 9999', '没有编号为 9999 的督办事项'],
      ['demo-liaison-jtj', '/签收 abc', '事项编号“abc”不正确'],
      ['demo-leader', '/批准 9999', '没有编号为 9999'],
      ['demo-leader', `/批准 ${jtj.id}`, `#${jtj.id} 没有待批准的延期申请`],
      ['demo-liaison-yjj', `/办结 ${yjjDone.id}`, `#${yjjDone.id} 已办结`],
      ['demo-liaison-jtj', '/任务 住建局', '只能查看本单位（县交通运输局）'],
    ];
    for (const out of await dialog(bus, refusals)) expect(out.outcome, out.text).not.toBe('ok');
    await say('demo-liaison-jtj', `/签收 ${jtj.id}`);
    const acked = await snapshot();
    expect((await say('demo-liaison-jtj', `/签收 ${jtj.id}`)).text).toContain('已签收过了');
    expect(await snapshot()).toBe(acked);
    expect((await say('demo-liaison-jtj', '/撤销')).text).toContain(`已撤回#${jtj.id} 的签收`);
    expect(await snapshot(true)).toBe(liveBefore);
    // The step is kept, marked withdrawn.
    expect(
      await t.db.obligationEvent.findFirstOrThrow({ where: { obligationId: jtj.id, toStatus: 'acknowledged' } }),
    ).toMatchObject({ withdrawnBy: 'demo-liaison-jtj' });
  });

  it('/驳回 clears the request with the reason and tells the unit; /撤销 reverts a /办结', async () => {
    const o = await t.db.obligation.findFirstOrThrow({
      where: { unitId: await unitId('jtj'), status: { not: 'done' } },
    });
    await say('demo-liaison-jtj', `/延期 ${o.id} 2027-11-30 年底前工程集中`);
    const reject = await say('demo-leader', `/驳回 ${o.id} 时间节点不能推迟`);
    expect(reject.text).toContain(`已驳回 #${o.id}（县交通运输局）的延期申请，仍按 ${o.dueOn} 截止`);
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id: o.id } })).toMatchObject({
      dueOn: o.dueOn,
      status: o.status,
      requestedDueOn: null,
      requestReason: null,
    });
    expect((await webhooks('demo-webhook-jtj')).at(-1)).toContain('理由：时间节点不能推迟');

    await say('demo-liaison-jtj', `/延期 ${o.id} 2027-11-30 再次申请`);
    const before = await snapshot(true);
    await say('demo-liaison-jtj', `/办结 ${o.id}`);
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id: o.id } })).toMatchObject({
      status: 'done',
      requestedDueOn: null,
    });
    expect((await say('demo-liaison-jtj', '/撤销')).outcome).toBe('ok');
    expect(await snapshot(true)).toBe(before);
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id: o.id } })).toMatchObject({
      status: o.status,
      doneAt: null,
      requestedDueOn: '2027-11-30',
      requestReason: '再次申请',
    });
  });

  it('/办结 after the due day says 逾期办结 and the days late', async () => {
    const o = await t.db.obligation.findFirstOrThrow({
      where: { unitId: await unitId('jtj'), status: { not: 'done' } },
    });
    await t.db.obligation.update({ where: { id: o.id }, data: { dueOn: '2026-11-19' } });
    const out = await say('demo-liaison-jtj', `/办结 ${o.id}`);
    expect(out.text).toContain(`#${o.id} ${o.title} 已逾期办结（截止 2026-11-19，逾期 10 天）`);
    expect((await say('demo-liaison-jtj', '/撤销')).outcome).toBe('ok');
    await t.db.obligation.update({ where: { id: o.id }, data: { dueOn: o.dueOn } });
  });
});

describe('/交办', () => {
  it('to 全部乡镇 waits for /执行, then creates 23 obligations once; /撤销 withdraws them', async () => {
    const count = () =>
      t.db.obligation.count({ where: { dutyId: null, title: '摸排辖区未参保企业', withdrawnAt: null } });
    const preview = await say('demo-admin', '/交办 全部乡镇 摸排辖区未参保企业 本月底');
    expect(preview.outcome).toBe('pending');
    expect(preview.text).toContain('将向 23 个单位交办：摸排辖区未参保企业，截止 2026-11-30');
    expect(preview.text).toContain('清塘铺镇、仙溪镇');
    expect(await count()).toBe(0);
    const run = await say('demo-admin', '/执行');
    expect(run.text).toContain('已向 23 个单位交办');
    expect(run.text).toContain('已通知 1 个工作群');
    // The townships nobody could reach, all named on one line with the reason, counted independently.
    const unheard = (
      await t.db.unit.findMany({
        where: { kind: 'township', chats: { none: {} }, members: { none: {} } },
        orderBy: { sortOrder: 'asc' },
      })
    ).map((u) => u.name);
    expect(unheard.length).toBeGreaterThan(10);
    expect(run.text).toContain(
      `⚠️ 以下 ${unheard.length} 个未能通知（没有可用的工作群，也没有登记联络员，请管理员用 /群 或 /绑定 补上）：${unheard.join('、')}。`,
    );
    expect((await say('demo-admin', '/执行')).text).toContain('没有等待确认的操作');
    const made = await t.db.obligation.findMany({
      where: { dutyId: null, title: '摸排辖区未参保企业' },
      include: { unit: true, events: true },
    });
    expect(made).toHaveLength(23);
    expect(new Set(made.map((o) => o.unit.kind))).toEqual(new Set(['township']));
    expect(new Set(made.map((o) => o.unitId)).size).toBe(23);
    for (const o of made) {
      expect(o).toMatchObject({
        status: 'assigned',
        dueOn: '2026-11-30',
        period: '2026',
        assignedBy: 'demo-admin',
        sectorId: null,
      });
      expect(o.events.map((e) => [e.fromStatus, e.toStatus, e.actorUserId])).toEqual([
        [null, 'assigned', 'demo-admin'],
      ]);
    }
    const dongping = made.find((o) => o.unit.code === '430923121')!;
    expect((await webhooks('demo-webhook-dongping')).at(-1)).toContain(`#${dongping.id}`);
    expect(colours((await say('demo-liaison-dongping', '/任务')).text).get(dongping.id)).toBe('🟡');

    const undone = await say('demo-admin', '/撤销');
    expect(undone.text).toContain(`已撤回交办 #${Math.min(...made.map((o) => o.id))}（`);
    expect(undone.text).toContain('（23）');
    expect(await count()).toBe(0);
    // Kept, with their history, marked withdrawn; out of the unit's list.
    expect(await t.db.obligationEvent.count({ where: { obligationId: { in: made.map((o) => o.id) } } })).toBe(23);
    expect(colours((await say('demo-liaison-dongping', '/任务')).text).has(dongping.id)).toBe(false);
  });

  it('/取消 drops the preview: nothing is created, and /执行 finds nothing', async () => {
    const before = await snapshot();
    expect((await say('demo-leader', '/交办 各乡镇 报送联络员名单 12月5日')).outcome).toBe('pending');
    expect((await say('demo-leader', '/取消')).text).toContain('已取消');
    expect((await say('demo-leader', '/执行')).text).toContain('没有等待确认的操作');
    expect(await snapshot()).toBe(before);
    expect(
      await t.db.pendingAction.findFirst({ where: { userId: 'demo-leader' }, orderBy: { id: 'desc' } }),
    ).toMatchObject({ state: 'cancelled' });
  });

  it('to one unit, or a sector’s lead department, runs at once; refusals change nothing', async () => {
    const one = await say('demo-admin', '/交办 危化 报送危化企业参保台账 12月10日');
    expect(one.outcome).toBe('ok');
    const o = await t.db.obligation.findFirstOrThrow({
      where: { title: '报送危化企业参保台账' },
      include: { unit: true, sector: true },
    });
    expect([o.unit.code, o.sector?.code, o.dueOn]).toEqual(['yjj', 'hazardous_chemicals', '2026-12-10']);
    expect(one.text).toContain(`已交办 #${o.id} 给 县应急管理局`);
    expect((await webhooks('demo-webhook-yjj')).at(-1)).toContain(`/签收 ${o.id}`);

    const before = await snapshot();
    for (const [user, text, says] of [
      ['demo-admin', '/交办 火星 报送台账 明天', '没有找到“火星”'],
      ['demo-admin', '/交办 其他 报送台账 明天', '其他规上工贸企业 没有牵头单位'],
      ['demo-admin', '/交办 应急局 报送台账', '最后一个词应是截止日期'],
      ['demo-admin', '/交办 应急局 报送台账 昨天', '截止日期 2026-11-28 早于今天（2026-11-29）'],
      ['demo-admin', '/交办 应急局 报送台账 2月30日', '“2月30日”不是一个日期'],
      ['demo-admin', '/交办 应急局 报送台账 2029-01-01', '日期 2029-01-01 太远了：最晚只能到 2028-11-29'],
      ['demo-liaison-yjj', '/交办 东坪 报送台账 明天', '不能使用 /交办'],
    ] as const) {
      const out = await say(user, text);
      expect(out.outcome, text).not.toBe('ok');
      expect(out.text, text).toContain(says);
    }
    expect(await snapshot()).toBe(before);
  });
});

describe('/交办 reaches every unit it names, or says who it could not', () => {
  const appTexts = async (userId: string) =>
    (await t.db.outboxMessage.findMany({ where: { channel: 'app', target: userId }, orderBy: { id: 'asc' } })).map(
      (m) => (JSON.parse(m.payload) as { text: { content: string } }).text.content,
    );

  it('to a unit without a group chat, tells its liaisons through the app', async () => {
    await t.db.member.create({
      data: { userId: 'zjj-liaison', name: '住建局联络员', roles: 'liaison', unitId: await unitId('zjj') },
    });
    expect(await t.db.groupChat.count({ where: { unitId: await unitId('zjj') } })).toBe(0);
    const out = await say('demo-admin', '/交办 住建局 报送在建项目参保清单 12月20日');
    expect(out.outcome).toBe('ok');
    const o = await t.db.obligation.findFirstOrThrow({ where: { title: '报送在建项目参保清单' } });
    expect((await appTexts('zjj-liaison')).at(-1)).toContain(`#${o.id}`);
    expect(out.text).toContain('已通过应用消息通知 1 人：住建局联络员');
    expect(out.text).not.toContain('工作群');
  });

  it('to a unit with neither a group nor a liaison, says so in the reply', async () => {
    const xianxi = await t.db.unit.findFirstOrThrow({ where: { name: '仙溪镇' } });
    expect(await t.db.member.count({ where: { unitId: xianxi.id } })).toBe(0);
    const before = await t.db.outboxMessage.count();
    const out = await say('demo-admin', '/交办 仙溪 摸排辖区企业 12月20日');
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('⚠️ 未能通知仙溪镇：没有可用的工作群，也没有登记联络员');
    expect(await t.db.outboxMessage.count()).toBe(before);
  });
});

describe('/任务 colours', () => {
  it('blue while more than 3 working days remain, yellow within them, red once overdue', async () => {
    t.clock.set('2026-12-01T09:00:00+08:00'); // a Tuesday
    try {
      for (const day of ['2026-12-01', '2026-12-04', '2026-12-07'])
        await say('demo-admin', `/交办 东坪 颜色测试 ${day}`);
      const ids = (await t.db.obligation.findMany({ where: { title: '颜色测试' }, orderBy: { dueOn: 'asc' } })).map(
        (o) => o.id,
      );
      const tue = (await say('demo-liaison-dongping', '/任务')).text;
      expect(ids.map((id) => colours(tue).get(id))).toEqual(['🟡', '🟡', '🔵']);
      expect(tue).toContain('今天（2026-12-01）到期');
      expect(tue).toContain('截止 2026-12-04，还剩 3 个工作日');

      t.clock.set('2026-12-05T09:00:00+08:00'); // Saturday: Monday is one working day away
      const sat = await say('demo-liaison-dongping', '/任务');
      expect(ids.map((id) => colours(sat.text).get(id))).toEqual(['🔴', '🔴', '🟡']);
      expect(sat.text).toContain('截止 2026-12-04，已逾期 1 天');
      // /逾期 shows the red and the yellow ones, under the unit.
      const late = await say('demo-leader', '/逾期 东坪');
      expect(ids.map((id) => colours(late.text).get(id))).toEqual(['🔴', '🔴', '🟡']);
      expect(late.text).toContain('【东坪镇】');
    } finally {
      t.clock.set(NOW);
    }
  });
});
