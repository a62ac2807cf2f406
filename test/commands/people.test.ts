import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { loadMembersFile } from '../../src/domain/members-file.ts';
import { MAX_STRANGERS } from '../../src/domain/strangers.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

// #24 items 1 and 2 in the sandbox chat: each unit's people (联络员, 责任人, 分管领导), onboarding of
// people who wrote without being registered, and a leaving member's hand-over.

let t: TestDb;
let bus: Bus;
const say = (userId: string, text: string, chatId: string | null = null) =>
  bus.handle({ channel: 'sandbox', userId, chatId, text });
/** Everything these commands could change (the audit trail aside). */
const state = async () =>
  JSON.stringify(
    await Promise.all([
      t.db.member.findMany({ orderBy: { id: 'asc' } }),
      t.db.obligation.findMany({ orderBy: { id: 'asc' } }),
      t.db.outboxMessage.count(),
      t.db.pendingAction.count({ where: { state: 'pending' } }),
    ]),
  );

beforeAll(async () => {
  t = await testDb({ demo: true });
  bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
});
afterAll(() => t.close());

describe("each unit's people", () => {
  it('are set with /绑定 and shown by /我是谁 and /任务, 分管领导 first', async () => {
    expect((await say('demo-admin', '/绑定 zeren-dp 责任人 东坪')).outcome).toBe('ok');
    expect((await say('demo-admin', '/绑定 fenguan-dp 分管领导 东坪')).outcome).toBe('ok');
    const who = (await say('zeren-dp', '/我是谁')).text;
    expect(who).toContain('角色：责任人');
    expect(who).toContain(
      '本单位：分管领导 演示·东坪镇分管领导、fenguan-dp；责任人 演示·东坪镇责任人、zeren-dp；联络员 演示·东坪镇联络员',
    );
    // The 责任人 runs what the unit's liaison runs: its /任务, with the same people line.
    const tasks = await say('zeren-dp', '/任务');
    expect(tasks.outcome).toBe('ok');
    expect(tasks.text.split('\n')[1]).toContain('责任人 演示·东坪镇责任人、zeren-dp');
  });

  it('refuses a unit role for someone in no unit, or in a unit that is not a department or township, writing nothing', async () => {
    const before = await state();
    const none = await say('demo-admin', '/绑定 drifter 责任人');
    expect(none.outcome).toBe('invalid');
    expect(none.text).toBe('drifter 不在任何单位，不能做责任人。请写上单位：/绑定 drifter 责任人 <单位>');
    const insurer = await say('demo-admin', '/绑定 demo-insurer-pingan +分管领导');
    expect(insurer.text).toContain(
      '有“分管领导”角色的成员必须登记在县直部门、乡镇或安委办下，中国平安财险安化支公司不是',
    );
    expect(await state()).toBe(before);
  });

  it('are loaded from the members file, a unit role without its unit reported by line', async () => {
    const csv = [
      'kind,id,name,roles,unit,locale,webhook_key,purpose',
      'member,file-zeren,文件责任人,责任人,jtj,,,',
      'member,file-fenguan,文件分管领导,in_charge|liaison,jtj,,,',
      'member,file-nounit,无单位,responsible,,,,',
      'member,file-insurer,错单位,in_charge,pingan-pc,,,',
    ].join('\n');
    const r = await loadMembersFile(t.db, csv, '430923');
    expect(r.members).toBe(2);
    expect(r.rejected).toEqual([
      { line: 4, reason: 'unit: responsible needs a unit' },
      { line: 5, reason: 'unit: in_charge cannot sit in pingan-pc (insurer)' },
    ]);
    expect((await t.db.member.findUniqueOrThrow({ where: { userId: 'file-fenguan' } })).roles).toBe(
      'liaison|in_charge',
    );
    expect(await t.db.member.findUnique({ where: { userId: 'file-nounit' } })).toBeNull();
  });
});

// The journey from there (the 登记 button pressed, the newcomer at work) runs through WeCom in
// test/http/cards.test.ts; here, on both databases, the record of who wrote.
describe('people not registered', () => {
  it('are one row each, counting attempts, shown by /待登记 with what they tried and a 登记 button', async () => {
    for (let i = 0; i < 3; i++)
      expect((await say('newbie-dp', `/上报 危化 ${i}/9`, 'demo-chat-dongping')).outcome).toBe('denied');
    expect(await t.db.stranger.findMany({ where: { userId: 'newbie-dp' } })).toMatchObject([
      { attempts: 3, lastText: '/上报 危化 2/9', chatId: 'demo-chat-dongping' },
    ]);
    const seen = await say('demo-admin', '/待登记');
    expect(seen.text).toContain('• newbie-dp · 3 次 · 最近 11-29 08:00 在 演示·东坪镇工作群：“/上报 危化 2/9”');
    expect(seen.buttons!.find((b) => b.command.includes('newbie-dp'))).toEqual({
      label: '登记 newbie-dp',
      command: '/绑定 newbie-dp 联络员 430923121',
      style: 'primary',
    });
  });

  it('keeps at most MAX_STRANGERS rows: the one silent longest goes', async () => {
    const start = t.clock.now();
    await t.db.stranger.createMany({
      data: Array.from({ length: MAX_STRANGERS }, (_, i) => ({
        userId: `spam-${i}`,
        channel: 'bot',
        lastText: 'x',
        firstAt: new Date(start.getTime() - 60_000 + i),
        lastAt: new Date(start.getTime() - 60_000 + i),
      })),
    });
    await say('spam-new', 'hello');
    expect(await t.db.stranger.count()).toBe(MAX_STRANGERS);
    expect(await t.db.stranger.findUnique({ where: { userId: 'spam-new' } })).not.toBeNull();
  });
});

describe('hand-over', () => {
  /** 交通局's item waiting to be signed for (ids differ between SQLite and PostgreSQL). */
  let item: { id: number; title: string };
  const holder = async () => (await t.db.obligation.findUniqueOrThrow({ where: { id: item.id } })).holderUserId;
  it("passes a leaving liaison's roles and held items to the successor, tells both, and /任务 shows them; the leaver's access ends", async () => {
    item = await t.db.obligation.findFirstOrThrow({
      where: { unit: { code: 'jtj' }, status: 'assigned', withdrawnAt: null },
      orderBy: [{ dueOn: 'asc' }, { id: 'asc' }],
    });
    // The jtj liaison signs for it and so holds it.
    expect((await say('demo-liaison-jtj', `/签收 ${item.id}`)).outcome).toBe('ok');
    expect(await holder()).toBe('demo-liaison-jtj');
    expect((await say('demo-admin', '/绑定 jtj-next 查看 交通局')).outcome).toBe('ok');
    const preview = await say('demo-liaison-jtj', '/交接 jtj-next');
    expect(preview.outcome).toBe('pending');
    expect(preview.text).toContain(
      '将把 演示·交通局联络员 在县交通运输局的角色（联络员）和经办的 1 项未办结事项交给 jtj-next。',
    );
    expect(preview.text).toContain('交接后不再有其他角色，使用权限随之解除');
    const outboxBefore = await t.db.outboxMessage.count();
    const done = await say('demo-liaison-jtj', '/执行');
    expect(done.outcome).toBe('ok');
    expect(done.text).toContain(`#${item.id} ${item.title}`);
    expect(done.text).toContain('已通过应用消息通知 2 人：jtj-next、演示·交通局联络员');
    const told = await t.db.outboxMessage.findMany({
      where: { id: { gt: 0 } },
      orderBy: { id: 'asc' },
      skip: outboxBefore,
    });
    expect(told.map((m) => m.target)).toEqual(['jtj-next', 'demo-liaison-jtj']);
    expect(told[0]!.payload).toContain('演示·交通局联络员 已把在县交通运输局的工作交接给您');
    // The leaver hears whom it went to.
    expect(told[1]!.payload).toContain('您的工作已交接给 jtj-next');
    expect(await t.db.member.findUniqueOrThrow({ where: { userId: 'jtj-next' } })).toMatchObject({
      roles: 'liaison|viewer',
    });
    expect(await t.db.member.findUniqueOrThrow({ where: { userId: 'demo-liaison-jtj' } })).toMatchObject({
      roles: '',
      active: false,
    });
    const tasks = (await say('jtj-next', '/任务')).text;
    expect(tasks).toContain(`#${item.id} ${item.title}`);
    expect(tasks).toContain('经办：jtj-next');
    expect(tasks).toMatch(/联络员 .*jtj-next/);
    expect((await say('demo-liaison-jtj', '/我是谁')).text).toContain('还未登记');
  });

  it('by an admin is undone by /撤销 until the successor acts on a handed-over item', async () => {
    const before = await state();
    const lastMessage = (await t.db.outboxMessage.aggregate({ _max: { id: true } }))._max.id ?? 0;
    t.clock.advance(60_000);
    expect((await say('demo-admin', '/交接 jtj-next demo-responsible-jtj')).outcome).toBe('pending');
    expect((await say('demo-admin', '/执行')).outcome).toBe('ok');
    expect(await holder()).toBe('demo-responsible-jtj');
    const undone = await say('demo-admin', '/撤销');
    expect(undone.outcome).toBe('ok');
    expect(await holder()).toBe('jtj-next');
    expect(await t.db.member.findUniqueOrThrow({ where: { userId: 'jtj-next' } })).toMatchObject({
      roles: 'liaison|viewer',
      active: true,
    });
    expect((await t.db.member.findUniqueOrThrow({ where: { userId: 'demo-responsible-jtj' } })).roles).toBe(
      'responsible',
    );
    // Cancelled, not sent: nothing else of the first hand-over remains.
    expect(
      await t.db.outboxMessage.count({
        where: {
          id: { gt: lastMessage },
          state: { not: 'cancelled' },
          target: { in: ['jtj-next', 'demo-responsible-jtj'] },
        },
      }),
    ).toBe(0);

    expect((await say('demo-admin', '/交接 jtj-next demo-responsible-jtj')).outcome).toBe('pending');
    expect((await say('demo-admin', '/执行')).outcome).toBe('ok');
    t.clock.advance(60_000);
    expect((await say('demo-responsible-jtj', `/反馈 ${item.id} 已安排检查`)).outcome).toBe('ok');
    const refused = await say('demo-admin', '/撤销');
    expect(refused.outcome).toBe('invalid');
    expect(refused.text).toMatch(/演示·交通局责任人.*反馈/);
    expect(await holder()).toBe('demo-responsible-jtj');
    expect(before).not.toBe(await state());
  });

  it('refuses an unknown successor, one outside the unit, someone else’s work, with a clear answer and nothing written', async () => {
    const before = await state();
    const cases: [string, string, string][] = [
      ['demo-admin', '/交接 demo-liaison-dongping nobody-here', '找不到已登记的成员“nobody-here”'],
      [
        'demo-admin',
        '/交接 demo-liaison-dongping demo-liaison-yjj',
        '演示·应急局联络员（demo-liaison-yjj）在县应急管理局，不在东坪镇，不能接任',
      ],
      ['demo-liaison-dongping', '/交接 demo-liaison-dongping', '接任者不能是 演示·东坪镇联络员 本人'],
      ['demo-liaison-yjj', '/交接 demo-liaison-dongping demo-responsible-dongping', '您只能交接自己的工作'],
      ['demo-admin', '/交接 demo-leader demo-admin', '没有联络员、责任人或分管领导的角色'],
    ];
    for (const [who, line, answer] of cases) {
      const out = await say(who, line);
      expect(out.outcome, line).toBe('invalid');
      expect(out.text, line).toContain(answer);
    }
    expect(await state()).toBe(before);
  });
});
