import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { inspectionProgress, parseFindings, rankInspections } from '../../src/domain/inspections.ts';
import { testBot, type TestDb } from '../support/db.ts';

// The October enforcement inspection (#25 item 1): /检查 records what a department or township
// found at an enterprise; the duty that counts inspections shows the progress in /任务 and /排名.

let t: TestDb;
let bus: Bus;
/** Operating enterprises of the demo roster: a 交通运输 one and a 危化 one, both in 东坪镇. */
let transport: { id: number; name: string; creditCode: string };
let chemicals: { id: number; name: string; creditCode: string };

const say = async (userId: string, text: string) => {
  const o = await bus.handle({ channel: 'sandbox', userId, chatId: null, text });
  if (process.env.SHOW) console.log(`> ${userId}: ${text}\n${o.text}\n`);
  return o;
};
/** Everything an inspection could write, to show that a refusal wrote nothing. */
const snapshot = async () =>
  JSON.stringify(
    await Promise.all([
      t.db.inspection.findMany({ orderBy: { id: 'asc' } }),
      t.db.obligation.findMany({ orderBy: { id: 'asc' } }),
      t.db.obligationEvent.count(),
      t.db.outboxMessage.count(),
    ]),
  );
const inScope = (code: string) => ({
  status: 'operating',
  sector: { code },
  township: { code: '430923121' },
});

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  transport = await t.db.enterprise.findFirstOrThrow({ where: inScope('transport'), orderBy: { id: 'asc' } });
  chemicals = await t.db.enterprise.findFirstOrThrow({ where: inScope('hazardous_chemicals'), orderBy: { id: 'asc' } });
});
afterAll(() => t.close());

describe('findings', () => {
  it('reads the words inspectors use; 合规 stands alone', () => {
    expect(parseFindings('未投保、摊派')).toEqual(['uninsured', 'charged']);
    expect(parseFindings('断保,未全员')).toEqual(['lapsed', 'partial']);
    expect(parseFindings('合规')).toEqual(['compliant']);
    expect(parseFindings('合规、摊派')).toBeNull();
    expect(parseFindings('挺好')).toBeNull();
  });
});

describe('/检查', () => {
  it('records the findings, the deadline and the penalty in exact fen, and counts towards the department', async () => {
    const before = (await inspectionProgress(t.db, t.campaignId, '2026')).find((p) => p.unit.code === 'jtj')!;
    expect(before.inspected).toBe(0);
    const out = await say(
      'demo-liaison-jtj',
      `/检查 ${transport.creditCode} 未投保、摊派 12月31日 处罚 安交罚〔2026〕3号 12345.67 当场下达整改通知书`,
    );
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('✅ 已登记执法检查');
    expect(out.text).toContain('发现：未投保、保费摊派给从业人员');
    expect(out.text).toContain('整改期限：2026-12-31');
    expect(out.text).toContain('行政处罚：安交罚〔2026〕3号，罚款 ¥12,345.67');
    expect(out.text).toContain('备注：当场下达整改通知书');
    const stored = await t.db.inspection.findFirstOrThrow({ where: { enterpriseId: transport.id } });
    expect(stored).toMatchObject({
      findings: 'uninsured|charged',
      inspectedOn: '2026-11-29',
      rectifyBy: '2026-12-31',
      penaltyNo: '安交罚〔2026〕3号',
      penaltyFen: 1_234_567,
      note: '当场下达整改通知书',
      recordedBy: 'demo-liaison-jtj',
    });
    const after = (await inspectionProgress(t.db, t.campaignId, '2026')).find((p) => p.unit.code === 'jtj')!;
    expect(after).toMatchObject({ inspected: 1, inScope: before.inScope });
    expect(out.text).toContain(`已检查 1/${before.inScope} 家`);
    // A second inspection of the same enterprise is the same enterprise inspected.
    expect((await say('demo-liaison-dongping', `/检查 ${transport.creditCode} 其他`)).outcome).toBe('ok');
    expect((await inspectionProgress(t.db, t.campaignId, '2026')).find((p) => p.unit.code === 'jtj')!.inspected).toBe(
      1,
    );
  });

  it('shows the progress beside the October duty in /任务, in /排名 and on the same figures', async () => {
    const progress = (await inspectionProgress(t.db, t.campaignId, '2026')).find((p) => p.unit.code === 'jtj')!;
    const tasks = (await say('demo-liaison-jtj', '/任务')).text.split('\n');
    // 交通局's 2026 inspection duty (overdue in the demo) carries the count; next year's starts at zero.
    const duty2026 = tasks.findIndex(
      (l) => l.includes('专项执法检查') && tasks[tasks.indexOf(l) + 1]!.includes('2026-10-31'),
    );
    expect(duty2026).toBeGreaterThan(-1);
    expect(tasks[duty2026 + 2]).toContain(`检查进度：已检查 ${progress.inspected}/${progress.inScope} 家`);
    const rank = (await say('demo-leader', '/排名')).text;
    const ranking = (await rankInspections(t.db, t.campaignId, '2026-11-29'))!;
    expect(ranking.dueOn).toBe('2026-10-31');
    expect(ranking.ranked[0]!.item.unit.code).toBe('jtj');
    expect(rank).toContain('四、专项执法检查进度（2026 年，2026-10-31 前');
    expect(rank).toMatch(new RegExp(`🔴 1\\. 县交通运输局  已检查 1/${progress.inScope} 家`));
  });

  it('refuses an inspector outside the sector or township, a past deadline, a penalty that is not money; writes nothing', async () => {
    const before = await snapshot();
    const refusals: [string, string, RegExp][] = [
      ['demo-liaison-jtj', `/检查 ${chemicals.creditCode} 未投保`, /县交通运输局不能检查.*县应急管理局/],
      ['demo-liaison-yjj', `/检查 ${chemicals.creditCode} 未投保 2026-11-01`, /整改期限 2026-11-01 早于今天/],
      ['demo-liaison-yjj', `/检查 ${chemicals.creditCode} 未投保 处罚 安应急罚1号 五块钱`, /“五块钱”不是金额/],
      ['demo-liaison-yjj', `/检查 ${chemicals.creditCode} 未投保 处罚 安应急罚1号`, /处罚请写/],
      ['demo-liaison-yjj', `/检查 ${chemicals.creditCode} 合规 摊派`, /不是检查发现/],
      ['demo-liaison-yjj', `/检查 ${chemicals.creditCode} 挺好`, /“挺好”不是检查发现/],
      ['demo-insurer-pingan', `/检查 ${chemicals.creditCode} 合规`, /.+/],
    ];
    for (const [who, text, answer] of refusals) {
      const out = await say(who, text);
      expect(out.outcome, text).not.toBe('ok');
      expect(out.text, text).toMatch(answer);
    }
    expect(await snapshot()).toBe(before);
  });

  it('is taken back with /撤销 and leaves the count', async () => {
    const count = async () =>
      (await inspectionProgress(t.db, t.campaignId, '2026')).find((p) => p.unit.code === 'yjj')!.inspected;
    const before = await count();
    expect((await say('demo-liaison-yjj', `/检查 ${chemicals.creditCode} 合规`)).outcome).toBe('ok');
    expect(await count()).toBe(before + 1);
    expect((await say('demo-liaison-yjj', '/撤销')).text).toMatch(/已撤回执法检查 #\d+/);
    expect(await count()).toBe(before);
    const withdrawn = await t.db.inspection.findFirstOrThrow({ where: { enterpriseId: chemicals.id } });
    expect(withdrawn.withdrawnBy).toBe('demo-liaison-yjj');
  });
});
