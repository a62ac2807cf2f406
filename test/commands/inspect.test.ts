import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLedgerFile } from '../../src/domain/ledger-file.ts';
import { importLedger } from '../../src/domain/ledger-import.ts';
import { translator } from '../../src/i18n.ts';
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

describe('rectification (整改)', () => {
  /** A 交通运输 enterprise insured by nobody today, for the inspection → rectification → /投保 lifecycle. */
  let uninsured: { id: number; name: string; creditCode: string; employees: number };
  beforeAll(async () => {
    uninsured = await t.db.enterprise.findFirstOrThrow({
      where: {
        status: 'operating',
        sector: { code: 'transport' },
        policies: { none: { status: 'valid', startOn: { lte: '2026-11-29' }, endOn: { gte: '2026-11-29' } } },
      },
      orderBy: { id: 'asc' },
    });
  });
  const itemsOf = (inspectionId: number) =>
    t.db.obligation.findMany({ where: { inspectionId }, include: { unit: true }, orderBy: { id: 'asc' } });

  it('inspection → an item per finding for the sector’s lead department → /投保 closes the insurance one by itself', async () => {
    const out = await say('demo-liaison-jtj', `/检查 ${uninsured.creditCode} 未投保、摊派 12月20日`);
    expect(out.outcome).toBe('ok');
    const inspection = await t.db.inspection.findFirstOrThrow({
      where: { enterpriseId: uninsured.id },
      orderBy: { id: 'desc' },
    });
    const [insurance, charged] = await itemsOf(inspection.id);
    expect(insurance).toMatchObject({ finding: 'uninsured', dueOn: '2026-12-20', status: 'assigned' });
    expect(charged).toMatchObject({ finding: 'charged', dueOn: '2026-12-20', status: 'assigned' });
    // A demo enterprise's inspection and items are demo data too, as are its policies below.
    expect([inspection.isDemo, insurance!.isDemo, charged!.isDemo]).toEqual([true, true, true]);
    // 交通运输 is led by 交通局: it answers for the rectification.
    expect(insurance!.unit.code).toBe('jtj');
    expect(out.text).toContain('整改事项由县交通运输局负责督促');
    expect(out.text).toContain(`#${insurance!.id} `);
    expect(out.text).toMatch(/📨 已通知/);
    // The unit's group heard of both items.
    const queued = await t.db.outboxMessage.findMany({ orderBy: { id: 'desc' }, take: 1 });
    expect(queued[0]!.payload).toContain(`#${charged!.id} `);
    // In the unit's list, with the usual reminders' colours.
    expect((await say('demo-liaison-jtj', '/任务')).text).toContain(`#${insurance!.id} 整改：`);

    // By hand: the insurance item is refused, the other one needs evidence.
    const before = await snapshot();
    expect((await say('demo-liaison-jtj', `/办结 ${insurance!.id}`)).text).toContain('不能手工办结');
    expect((await say('demo-liaison-jtj', `/办结 ${charged!.id}`)).text).toContain('办结要写佐证材料');
    expect(await snapshot()).toBe(before);

    // A policy for fewer than the employees closes nothing; one covering them closes the insurance item.
    const short = await say(
      'demo-insurer-pingan',
      `/投保 ${uninsured.creditCode} 平安 RECT-1 2026-11-29 2027-11-28 ${uninsured.employees - 1}`,
    );
    expect(short.outcome).toBe('ok');
    expect(short.text).not.toContain('已自动销号');
    expect((await t.db.obligation.findUniqueOrThrow({ where: { id: insurance!.id } })).status).toBe('assigned');
    const full = await say(
      'demo-insurer-pingan',
      `/投保 ${uninsured.creditCode} 平安 RECT-2 2026-11-29 2027-11-28 ${uninsured.employees}`,
    );
    expect(full.text).toContain(`✅ 整改事项 #${insurance!.id} `);
    expect((await t.db.policy.findFirstOrThrow({ where: { policyNo: 'RECT-2' } })).isDemo).toBe(true);
    const closed = await t.db.obligation.findUniqueOrThrow({
      where: { id: insurance!.id },
      include: { events: { orderBy: { id: 'asc' } } },
    });
    expect(closed.status).toBe('done');
    expect(closed.events.at(-1)).toMatchObject({ toStatus: 'done', actorUserId: 'demo-insurer-pingan' });
    expect((await t.db.obligation.findUniqueOrThrow({ where: { id: charged!.id } })).status).toBe('assigned');

    // Taking the policy back reopens the item; recording it again closes it again.
    expect((await say('demo-insurer-pingan', '/撤销')).outcome).toBe('ok');
    expect((await t.db.obligation.findUniqueOrThrow({ where: { id: insurance!.id } })).status).toBe('assigned');
    expect(
      (
        await say(
          'demo-insurer-pingan',
          `/投保 ${uninsured.creditCode} 平安 RECT-2 2026-11-29 2027-11-28 ${uninsured.employees}`,
        )
      ).text,
    ).toContain(`✅ 整改事项 #${insurance!.id} `);

    // The other closes with evidence, by its unit.
    const done = await say('demo-liaison-jtj', `/办结 ${charged!.id} 企业已退还员工垫付保费，有收据`);
    expect(done.outcome).toBe('ok');
    expect((await t.db.obligation.findUniqueOrThrow({ where: { id: charged!.id } })).status).toBe('done');
  });

  it('goes to the lead department when a township inspects; without a deadline, the default; 合规 opens nothing', async () => {
    const out = await say('demo-liaison-dongping', `/检查 ${chemicals.creditCode} 未全员`);
    expect(out.text).toContain('整改事项由县应急管理局负责督促（未写整改期限，按 30 天计）');
    const inspection = await t.db.inspection.findFirstOrThrow({
      where: { enterpriseId: chemicals.id, withdrawnAt: null },
      orderBy: { id: 'desc' },
    });
    expect(await itemsOf(inspection.id)).toMatchObject([
      { finding: 'partial', dueOn: '2026-12-29', unit: { code: 'yjj' }, assignedBy: 'demo-liaison-dongping' },
    ]);
    await say('demo-liaison-yjj', `/检查 ${chemicals.creditCode} 合规`);
    const compliant = await t.db.inspection.findFirstOrThrow({
      where: { enterpriseId: chemicals.id },
      orderBy: { id: 'desc' },
    });
    expect(await itemsOf(compliant.id)).toEqual([]);
  });

  it('closes by itself when the policy import records a policy covering the headcount', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({
      where: {
        status: 'operating',
        sector: { code: 'construction' },
        policies: { none: { status: 'valid', startOn: { lte: '2026-11-29' }, endOn: { gte: '2026-11-29' } } },
      },
      orderBy: { id: 'asc' },
    });
    const zjj = await t.db.unit.findFirstOrThrow({ where: { code: 'zjj' } });
    await t.db.member.create({
      data: { userId: 'liaison-zjj', name: '住建局联络员', roles: 'liaison', unitId: zjj.id },
    });
    expect((await say('liaison-zjj', `/检查 ${e.creditCode} 未投保`)).outcome).toBe('ok');
    const item = await t.db.obligation.findFirstOrThrow({
      where: { inspection: { enterpriseId: e.id }, finding: 'uninsured' },
    });
    const file = join(t.dir, 'rectify-policies.csv');
    writeFileSync(
      file,
      [
        '保单号,保险公司,统一社会信用代码,起保日期,止保日期,参保人数',
        `IMP-RECT-1,平安,${e.creditCode},2026-11-29,2027-11-28,${e.employees}`,
      ].join('\r\n'),
    );
    const zh = translator('zh-CN');
    const report = await importLedger(t.db, 'policies', await readLedgerFile(file, zh), {
      campaignId: t.campaignId,
      day: '2026-11-29',
      timeZone: 'Asia/Shanghai',
      now: t.clock.now(),
      t: zh,
      source: file,
      actor: 'demo-admin',
    });
    expect(report.rejected).toEqual([]);
    const closed = await t.db.obligation.findUniqueOrThrow({
      where: { id: item.id },
      include: { events: { orderBy: { id: 'desc' }, take: 1 } },
    });
    expect(closed.status).toBe('done');
    expect(closed.events[0]).toMatchObject({ toStatus: 'done', actorUserId: 'demo-admin' });
  });
});

describe('the blacklist proposal', () => {
  it('refusal → proposal by the owning unit → a leader approves; recorded with who, published nowhere', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({ where: inScope('fireworks'), orderBy: { id: 'asc' } });
    expect((await say('demo-liaison-yjj', `/检查 ${e.creditCode} 摊派 12月10日`)).outcome).toBe('ok');
    const item = await t.db.obligation.findFirstOrThrow({
      where: { inspection: { enterpriseId: e.id }, finding: 'charged' },
      orderBy: { id: 'desc' },
    });
    const outbox = await t.db.outboxMessage.count();

    // Only the owning unit proposes, only for a rectification item, once while it is open.
    const before = await snapshot();
    expect((await say('demo-liaison-jtj', `/提请黑名单 ${item.id} 拒不整改`)).text).toContain('县应急管理局');
    const duty = await t.db.obligation.findFirstOrThrow({ where: { unit: { code: 'yjj' }, inspectionId: null } });
    expect((await say('demo-liaison-yjj', `/提请黑名单 ${duty.id} 拒不整改`)).text).toContain('不是整改事项');
    expect((await say('demo-leader', `/提请黑名单 ${item.id} 拒不整改`)).outcome).toBe('denied');
    expect(await snapshot()).toBe(before);

    const proposed = await say('demo-liaison-yjj', `/提请黑名单 ${item.id} 逾期拒不退还摊派的保费`);
    expect(proposed.outcome).toBe('ok');
    const p = await t.db.blacklistProposal.findFirstOrThrow({ where: { obligationId: item.id } });
    expect(p).toMatchObject({ state: 'proposed', proposedBy: 'demo-liaison-yjj', enterpriseId: e.id });
    expect((await say('demo-liaison-yjj', `/提请黑名单 ${item.id} 再次`)).text).toContain(`已有待决定的提请 #${p.id}`);

    // A leader's /任务 says one awaits; the county office's list carries the buttons; only a leader may see and decide.
    expect((await say('demo-leader', '/任务')).text).toContain('黑名单提请待决定 1 项');
    expect((await say('demo-liaison-yjj', '/黑名单')).outcome).toBe('denied');
    const list = await say('demo-leader', '/黑名单');
    expect(list.text).toContain(`⏳ #${p.id} ${e.name}`);
    expect(list.buttons).toContainEqual(expect.objectContaining({ command: `/黑名单 批准 ${p.id}` }));
    expect(list.buttons).toContainEqual(expect.objectContaining({ command: `/黑名单 驳回 ${p.id}` }));

    expect((await say('demo-leader', `/黑名单 批准 ${p.id}`)).text).toContain(`已批准提请 #${p.id}`);
    expect(await t.db.blacklistProposal.findUniqueOrThrow({ where: { id: p.id } })).toMatchObject({
      state: 'approved',
      decidedBy: 'demo-leader',
    });
    expect((await say('demo-leader', `/黑名单 驳回 ${p.id}`)).text).toContain('已由演示·县领导批准');
    expect((await say('demo-leader', '/黑名单')).text).toMatch(new RegExp(`✅ #${p.id} .*演示·县领导`));
    // Neither the proposal nor the decision told anyone; both are in the audit trail.
    expect(await t.db.outboxMessage.count()).toBe(outbox);
    const audit = await t.db.auditEvent.findMany({
      where: { command: { in: ['propose', 'blacklist'] }, outcome: 'ok' },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((a) => a.actorUserId)).toEqual(expect.arrayContaining(['demo-liaison-yjj', 'demo-leader']));

    // A decided proposal cannot be withdrawn by its proposer; the leader can take the decision back.
    const refused = await say('demo-liaison-yjj', '/撤销');
    expect(refused.outcome).not.toBe('ok');
    expect(refused.text).toContain('演示·县领导');
    expect((await say('demo-leader', '/撤销')).outcome).toBe('ok');
    expect((await t.db.blacklistProposal.findUniqueOrThrow({ where: { id: p.id } })).state).toBe('proposed');
  });
});
