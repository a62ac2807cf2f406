import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { WorkCalendar } from '../../src/domain/calendar.ts';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { NOW, testBot, TZ, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
let scheduler: Scheduler;
const say = (userId: string, text: string) => bus.handle({ channel: 'sandbox', userId, chatId: null, text });
const at = (day: string, hhmm: string) => new Date(`${day}T${hhmm}:00+08:00`);

/** Everything /暂缓 may write: a refusal (or an undo) must leave all of it as it was. */
const snapshot = async () =>
  JSON.stringify([
    (await t.db.obligation.findMany({ orderBy: { id: 'asc' } })).map(({ updatedAt: _, ...o }) => o),
    await t.db.obligationEvent.findMany({ orderBy: { id: 'asc' } }),
    await t.db.outboxMessage.findMany({ orderBy: { id: 'asc' } }),
  ]);
/** Runs a day's 09:00 reminders; returns the texts queued for each group. */
async function run(day: string): Promise<(key: string) => Promise<string[]>> {
  t.clock.set(at(day, '09:00'));
  const [r] = await scheduler.runAt(t.clock.now());
  expect(r!.state).toBe('ran');
  return async (key) =>
    (
      await t.db.outboxMessage.findMany({ where: { target: key, createdAt: at(day, '09:00') }, orderBy: { id: 'asc' } })
    ).map((m) => (JSON.parse(m.payload) as { markdown: { content: string } }).markdown.content);
}
const jtjItem = async () =>
  (await t.db.obligation.findFirstOrThrow({ where: { unit: { code: 'jtj' }, period: '2026', dutyId: { not: null } } }))
    .id;

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  scheduler = new Scheduler({
    db: t.db,
    clock: t.clock,
    timeZone: TZ,
    locale: 'zh-CN',
    calendar: new WorkCalendar(),
    random: () => 0.5,
  });
});
afterAll(() => t.close());

describe('/暂缓', () => {
  it('pauses an item’s routine reminders, with its reason, until the day given, when they resume', async () => {
    const unitId = (await t.db.unit.findFirstOrThrow({ where: { code: 'jtj' } })).id;
    const o = await t.db.obligation.create({
      data: { campaignId: t.campaignId, unitId, title: '报送客运企业参保名单', period: '2026', dueOn: '2026-12-09' },
    });
    t.clock.set(at('2026-12-07', '10:00'));
    const out = await say('demo-liaison-jtj', `/暂缓 ${o.id} 12月9日 等待企业补交材料`);
    expect(out.outcome).toBe('ok');
    expect(out.text).toBe(
      `🔕 已暂缓 #${o.id} 报送客运企业参保名单 的例行提醒，2026-12-09 起恢复。\n理由：等待企业补交材料`,
    );
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id: o.id } })).toMatchObject({
      status: 'assigned',
      snoozedUntil: '2026-12-09',
      snoozeReason: '等待企业补交材料',
    });
    expect(await t.db.obligationEvent.findMany({ where: { obligationId: o.id } })).toMatchObject([
      {
        fromStatus: 'assigned',
        toStatus: 'assigned',
        actorUserId: 'demo-liaison-jtj',
        note: 'snoozed until 2026-12-09: 等待企业补交材料',
        at: t.clock.now(),
      },
    ]);
    expect(await t.db.auditEvent.findFirst({ where: { command: 'snooze' }, orderBy: { id: 'desc' } })).toMatchObject({
      actorUserId: 'demo-liaison-jtj',
      outcome: 'ok',
    });
    expect((await say('demo-liaison-jtj', '/任务')).text).toContain('待签收 · 暂缓提醒至 2026-12-09');

    // Tuesday: due within 3 working days (yellow) but snoozed: 交通局 hears only of its other item.
    const tuesday = (await (await run('2026-12-08'))('demo-webhook-jtj')).join('\n');
    expect(tuesday).toContain(`#${await jtjItem()} `);
    expect(tuesday).not.toContain(`#${o.id} `);
    // Wednesday, the day the snooze ends: reminded again.
    expect((await (await run('2026-12-09'))('demo-webhook-jtj')).join('\n')).toContain(
      `🟡 #${o.id} 报送客运企业参保名单`,
    );
  });

  it('an overdue item leaves its unit’s reminder but still escalates to the leaders', async () => {
    const id = await jtjItem();
    t.clock.set(at('2026-12-09', '10:00'));
    const out = await say('demo-liaison-jtj', `/暂缓 ${id} 12月20日 已约谈企业负责人`);
    expect(out.text).toContain('2026-12-20 起恢复');
    expect(out.text).toContain('⚠️ 该事项已逾期，暂缓期间仍会按规定升级报县领导督办。');
    // The leaders heard of it on Tuesday (above); the ladder's next step, three working days on,
    // escalates it again, snoozed or not.
    const queued = await run('2026-12-11');
    expect((await queued('demo-webhook-jtj')).join('\n')).not.toContain(`#${id} `);
    const [escalation] = (await queued('demo-webhook-leaders')).filter((m) => m.includes('逾期升级'));
    expect(escalation).toContain(`🔴 县交通运输局 #${id} `);
  });

  it('refuses, changing nothing: another unit’s item, a day not after today, no date, no reason, a closed item, no unit', async () => {
    t.clock.set(NOW);
    const id = await jtjItem();
    const zjj = (
      await t.db.obligation.findFirstOrThrow({
        where: { unit: { code: 'zjj' }, status: { not: 'done' }, period: '2026' },
      })
    ).id;
    const done = (await t.db.obligation.findFirstOrThrow({ where: { unit: { code: 'yjj' }, status: 'done' } })).id;
    const before = await snapshot();
    for (const [user, text, says] of [
      ['demo-liaison-jtj', `/暂缓 ${zjj} 12月20日 等材料`, `事项 #${zjj} 由 县住建局 负责`],
      ['demo-insurer-pingan', `/暂缓 ${id} 12月20日 等材料`, '由 县交通运输局 负责'],
      ['demo-liaison-jtj', `/暂缓 ${id} 今天 等材料`, '暂缓到 2026-11-29 没有意义：日期应晚于今天（2026-11-29）'],
      ['demo-liaison-jtj', `/暂缓 ${id} 下辈子 等材料`, '“下辈子”不是日期'],
      ['demo-liaison-jtj', `/暂缓 ${id} 12月20日`, '缺少参数：理由'],
      ['demo-liaison-yjj', `/暂缓 ${done} 12月20日 等材料`, `#${done} 已办结`],
      ['demo-leader', `/暂缓 ${id} 12月20日 等材料`, '由 县交通运输局 负责'],
    ] as const) {
      const out = await say(user, text);
      expect(out.outcome, text).not.toBe('ok');
      expect(out.text, text).toContain(says);
    }
    expect(await snapshot()).toBe(before);
  });

  it('/撤销 takes the snooze back', async () => {
    const id = await jtjItem();
    const before = await snapshot();
    expect((await say('demo-liaison-jtj', `/暂缓 ${id} 12月31日 年底前集中整改`)).outcome).toBe('ok');
    expect(await snapshot()).not.toBe(before);
    expect((await say('demo-liaison-jtj', '/撤销')).outcome).toBe('ok');
    expect(await snapshot()).toBe(before);
  });
});
