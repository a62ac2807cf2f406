import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { testBot, type TestDb } from '../support/db.ts';

// Rule: a date typed without its year takes the year its field looks to — deadlines, extensions
// and snoozes forward, visits backward, a policy's start the nearest and its end after the start —
// and every reply shows the full date understood. Stated at the turn of a year, from both sides.

let t: TestDb;
let bus: Bus;
const say = (userId: string, text: string) => bus.handle({ channel: 'sandbox', userId, chatId: null, text });
const at = (day: string) => t.clock.set(new Date(`${day}T10:00:00+08:00`));
/** An enterprise 平安 insures from late December to early January, for visits and policies. */
let enterprise: { id: number; name: string };
const snapshot = async () =>
  JSON.stringify(
    await Promise.all([
      t.db.obligation.findMany({ orderBy: { id: 'asc' } }),
      t.db.preventionVisit.findMany({ orderBy: { id: 'asc' } }),
      t.db.policy.findMany({ orderBy: { id: 'asc' } }),
    ]),
  );

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  enterprise = await t.db.enterprise.findFirstOrThrow({
    where: {
      township: { code: '430923121' },
      policies: {
        some: {
          insurer: { code: 'pingan-pc' },
          status: 'valid',
          startOn: { lte: '2026-12-20' },
          endOn: { gte: '2027-01-10' },
        },
      },
    },
    orderBy: { id: 'asc' },
  });
});
afterAll(() => t.close());

describe('forward-looking fields: the next such day on or after today', () => {
  it('in late December, 1月15日 is next January’s: /交办, /延期 and /暂缓', async () => {
    at('2026-12-30');
    const assigned = await say('demo-leader', '/交办 应急局 报送危化企业台账 1月15日');
    expect(assigned.outcome, assigned.text).toBe('ok');
    expect(assigned.text).toContain('截止 2027-01-15');
    const o = await t.db.obligation.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(o.dueOn).toBe('2027-01-15');

    // 十二月三十一日 is tomorrow, not last year's.
    const snoozed = await say('demo-liaison-yjj', `/暂缓 ${o.id} 十二月三十一日 等待企业补交材料`);
    expect(snoozed.text).toContain('2026-12-31 起恢复');
    const snoozedAgain = await say('demo-liaison-yjj', `/暂缓 ${o.id} 1月10日 等待企业补交材料`);
    expect(snoozedAgain.text).toContain('2027-01-10 起恢复');

    const extended = await say('demo-liaison-yjj', `/延期 ${o.id} 1月20日 企业放假`);
    expect(extended.outcome, extended.text).toBe('ok');
    expect(extended.text).toContain('2027-01-15 → 2027-01-20');
  });

  it('in early January, 1月3日 is today and 12月28日 is this coming December', async () => {
    at('2027-01-03');
    const today = await say('demo-leader', '/交办 交通局 报送台账 1月3日');
    expect(today.text).toContain('截止 2027-01-03');
    const december = await say('demo-leader', '/交办 交通局 报送台账 12月28日');
    expect(december.text).toContain('截止 2027-12-28');
    const o = await t.db.obligation.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(o.dueOn).toBe('2027-12-28');
    const snoozed = await say('demo-liaison-jtj', `/暂缓 ${o.id} 12月20日 年底集中办理`);
    expect(snoozed.text).toContain('2027-12-20 起恢复');
  });

  it('refuses a day that does not exist, one more than two years ahead, and a snooze past the deadline, writing nothing', async () => {
    at('2026-12-30');
    const o = await t.db.obligation.findFirstOrThrow({ where: { unit: { code: 'jtj' } }, orderBy: { id: 'desc' } });
    const before = await snapshot();
    for (const [user, text, says] of [
      ['demo-leader', '/交办 应急局 报送台账 2月30日', '“2月30日”不是一个日期'],
      ['demo-leader', '/交办 应急局 报送台账 2029-01-15', '日期 2029-01-15 太远了：最晚只能到 2028-12-30'],
      ['demo-liaison-jtj', `/延期 ${o.id} 二月三十日 企业放假`, '“二月三十日”不是一个日期'],
      ['demo-liaison-jtj', `/延期 ${o.id} 20290115 企业放假`, '最晚只能到 2028-12-30'],
      ['demo-liaison-jtj', `/暂缓 ${o.id} 20290115 等待`, '最晚只能到 2028-12-30'],
      ['demo-liaison-jtj', `/暂缓 ${o.id} 2028-01-10 等待`, `暂缓到 2028-01-10 晚于截止日期 ${o.dueOn}`],
    ] as const) {
      const out = await say(user, text);
      expect(out.outcome, text).toBe('invalid');
      expect(out.text, text).toContain(says);
    }
    expect(await snapshot()).toBe(before);
  });
});

describe('backward-looking fields: the last such day on or before today', () => {
  it('in early January, an insurer’s visit on 12月28日 took place last December', async () => {
    at('2027-01-03');
    const out = await say('demo-insurer-pingan', `/走访 ${enterprise.name} 排查 12月28日 张工`);
    expect(out.outcome, out.text).toBe('ok');
    expect(out.text).toContain('2026-12-28');
    expect(await t.db.preventionVisit.findFirstOrThrow({ orderBy: { id: 'desc' } })).toMatchObject({
      enterpriseId: enterprise.id,
      visitedOn: '2026-12-28',
    });
  });

  it('in late December, a visit on 12月29日 was yesterday, and 2月30日 is no date', async () => {
    at('2026-12-30');
    const out = await say('demo-insurer-pingan', `/走访 ${enterprise.name} 培训 12月29日`);
    expect(out.text).toContain('2026-12-29');
    const bad = await say('demo-insurer-pingan', `/走访 ${enterprise.name} 培训 2月30日`);
    expect(bad.outcome).toBe('invalid');
    expect(bad.text).toContain('“2月30日”不是一个日期');
  });
});

describe('a policy: its start the nearest such day, its end the first after its start', () => {
  it('in early January, 12月1日 to 11月30日 is last December to this November', async () => {
    at('2027-01-03');
    const out = await say('demo-insurer-pingan', `/投保 ${enterprise.name} 平安 PA-TURN-1 12月1日 11月30日`);
    expect(out.outcome, out.text).toBe('ok');
    expect(out.text).toContain('2026-12-01 至 2027-11-30');
  });

  it('in late December, 1月1日 to 12月31日 is next year', async () => {
    at('2026-12-30');
    const out = await say('demo-insurer-pingan', `/投保 ${enterprise.name} 平安 PA-TURN-2 1月1日 12月31日`);
    expect(out.outcome, out.text).toBe('ok');
    expect(out.text).toContain('2027-01-01 至 2027-12-31');
  });
});
