import type { Db, Tx } from '../db/client.ts';
import { BULK_TRANSACTION } from '../db/transactions.ts';
import { memoised } from '../db/versions.ts';
import { addDays, dayIn, type Clock } from '../clock.ts';
import { refreshCover } from './cover.ts';
import { keepState } from './roster.ts';
import { creditCodeCheck } from './credit-code.ts';
import { ensureObligation } from './seed.ts';

// A synthetic roster for trying the bot at once. Everything is generated from a fixed seed, so a
// second run finds the same enterprises and policies (by credit code and policy number) and only
// moves their dates relative to the day it runs. Names end in （演示） so demo data shows as such.

/** A third-party agency (第三方机构) for the demo: the campaign file names none. */
export const DEMO_AGENCY = { code: 'demo-agency', name: '演示·安全生产第三方服务机构', kind: 'third_party' } as const;

export const DEMO_MEMBERS = [
  { userId: 'demo-admin', name: '演示·管理员', roles: 'admin', unit: 'aqw' },
  { userId: 'demo-leader', name: '演示·县领导', roles: 'leader', unit: 'aqw' },
  { userId: 'demo-liaison-yjj', name: '演示·应急局联络员', roles: 'liaison', unit: 'yjj' },
  { userId: 'demo-liaison-jtj', name: '演示·交通局联络员', roles: 'liaison', unit: 'jtj' },
  { userId: 'demo-liaison-dongping', name: '演示·东坪镇联络员', roles: 'liaison', unit: '430923121' },
  // Each demo unit's 责任人 and 分管领导, whom its overdue items escalate to.
  { userId: 'demo-responsible-yjj', name: '演示·应急局责任人', roles: 'responsible', unit: 'yjj' },
  { userId: 'demo-incharge-yjj', name: '演示·应急局分管领导', roles: 'in_charge', unit: 'yjj' },
  { userId: 'demo-responsible-jtj', name: '演示·交通局责任人', roles: 'responsible', unit: 'jtj' },
  { userId: 'demo-incharge-jtj', name: '演示·交通局分管领导', roles: 'in_charge', unit: 'jtj' },
  { userId: 'demo-responsible-dongping', name: '演示·东坪镇责任人', roles: 'responsible', unit: '430923121' },
  { userId: 'demo-incharge-dongping', name: '演示·东坪镇分管领导', roles: 'in_charge', unit: '430923121' },
  { userId: 'demo-insurer-pingan', name: '演示·平安财险', roles: 'insurer', unit: 'pingan-pc' },
  { userId: 'demo-agency', name: '演示·第三方机构', roles: 'agency', unit: DEMO_AGENCY.code },
] as const;

export const DEMO_CHATS = [
  {
    chatId: 'demo-chat-leaders',
    webhookKey: 'demo-webhook-leaders',
    name: '演示·县领导群',
    unit: 'aqw',
    purpose: 'leaders',
  },
  { chatId: 'demo-chat-yjj', webhookKey: 'demo-webhook-yjj', name: '演示·应急局工作群', unit: 'yjj', purpose: 'unit' },
  { chatId: 'demo-chat-jtj', webhookKey: 'demo-webhook-jtj', name: '演示·交通局工作群', unit: 'jtj', purpose: 'unit' },
  {
    chatId: 'demo-chat-dongping',
    webhookKey: 'demo-webhook-dongping',
    name: '演示·东坪镇工作群',
    unit: '430923121',
    purpose: 'unit',
  },
] as const;

/** How many enterprises each sector gets. 民爆 has none: its figures come from a liaison's report. */
const ROSTER: Record<string, { count: number; suffix: string; aboveScale: number }> = {
  non_coal_mine: { count: 28, suffix: '石材开采有限公司', aboveScale: 0.3 },
  hazardous_chemicals: { count: 30, suffix: '化工有限公司', aboveScale: 0.4 },
  fireworks: { count: 16, suffix: '烟花爆竹有限公司', aboveScale: 0.2 },
  transport: { count: 60, suffix: '运输有限公司', aboveScale: 0.2 },
  construction: { count: 70, suffix: '建筑工程有限公司', aboveScale: 0.3 },
  metal_smelting: { count: 10, suffix: '冶炼有限公司', aboveScale: 0.6 },
  agri_machinery_fishery: { count: 30, suffix: '农机渔业合作社', aboveScale: 0.05 },
  other: { count: 66, suffix: '茶业有限公司', aboveScale: 0.7 },
};
const WORDS = [
  '鑫达',
  '宏泰',
  '华兴',
  '永盛',
  '恒通',
  '金源',
  '顺发',
  '广利',
  '瑞丰',
  '天成',
  '安泰',
  '众诚',
  '新宇',
  '昌隆',
  '裕和',
  '兴旺',
  '福临',
  '湘茂',
  '资江',
  '梅山',
];
const CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** 古楼乡 keeps no ledger for 农机渔业: that cell is counted from the township's report. */
const REPORTED_CELL = { sector: 'agri_machinery_fishery', township: '430923212' };

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether the campaign's figures include demo data: demo enterprises of its county, or demo reports. */
export function holdsDemoData(db: Tx, campaign: { id: number; countyCode: string }): Promise<boolean> {
  // Asked with every figure: kept while neither table is written (src/db/versions.ts).
  return memoised(db, `demo ${campaign.id} ${campaign.countyCode}`, ['Enterprise', 'ProgressReport'], async () => {
    const [enterprise, report] = await Promise.all([
      db.enterprise.findFirst({ where: { countyCode: campaign.countyCode, isDemo: true }, select: { id: true } }),
      db.progressReport.findFirst({ where: { campaignId: campaign.id, isDemo: true }, select: { id: true } }),
    ]);
    return Boolean(enterprise ?? report);
  });
}

export interface DemoResult {
  enterprises: number;
  policies: number;
  members: number;
  chats: number;
}

export async function seedDemo(db: Db, campaignId: number, clock: Clock, timeZone: string): Promise<DemoResult> {
  const today = dayIn(clock.now(), timeZone);
  const campaign = await db.campaign.findUniqueOrThrow({
    where: { id: campaignId },
    include: { sectors: true, duties: true },
  });
  await db.unit.upsert({
    where: { countyCode_code: { countyCode: campaign.countyCode, code: DEMO_AGENCY.code } },
    create: { countyCode: campaign.countyCode, ...DEMO_AGENCY, sortOrder: 1000 },
    update: { name: DEMO_AGENCY.name, kind: DEMO_AGENCY.kind },
  });
  const units = await db.unit.findMany({ where: { countyCode: campaign.countyCode } });
  const unit = (code: string) => {
    const u = units.find((x) => x.code === code);
    if (!u) throw new Error(`the demo needs unit ${code} in the campaign file`);
    return u;
  };
  const townships = units.filter((u) => u.kind === 'township');
  const insurers = units.filter((u) => u.kind === 'insurer');
  const sector = (code: string) => campaign.sectors.find((s) => s.code === code)!;
  const random = prng(20210901);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;

  return db.$transaction(async (tx) => {
    let enterprises = 0;
    let policies = 0;
    let serial = 0;
    const seeded: number[] = [];
    for (const [code, spec] of Object.entries(ROSTER)) {
      const sectorId = sector(code).id;
      for (let i = 0; i < spec.count; i++) {
        serial++;
        let township = pick(townships);
        if (code === REPORTED_CELL.sector && township.code === REPORTED_CELL.township) township = unit('430923121');
        const org = Array.from({ length: 9 }, () => pick([...CODE_CHARS])).join('');
        const first17 = `91${campaign.countyCode}${org}`;
        const creditCode = first17 + creditCodeCheck(first17);
        const name = `${township.name.replace(/[镇乡]$/, '')}${pick(WORDS)}${spec.suffix}${serial}（演示）`;
        const employees = int(5, 300);
        const r = random();
        const status = r < 0.03 ? 'stopped' : r < 0.05 ? 'closed' : 'operating';
        const data = {
          countyCode: campaign.countyCode,
          name,
          sectorId,
          townshipId: township.id,
          aboveScale: random() < spec.aboveScale,
          employees,
          status,
          isDemo: true,
        };
        const enterprise = await tx.enterprise.upsert({
          where: { creditCode },
          create: { creditCode, ...data },
          update: data,
        });
        // Kept as the earliest roster known: the demo stands for a roster that was always there.
        await keepState(tx, enterprise, today);
        enterprises++;
        seeded.push(enterprise.id);

        // ~10 % uninsured, ~10 % lapsed, ~8 % ending within 30 days, the rest valid.
        const p = random();
        const insurer = pick(insurers);
        const headcount = Math.max(1, employees - int(0, 3));
        if (p < 0.1) continue;
        const endOn =
          p < 0.2 ? addDays(today, -int(1, 180)) : p < 0.28 ? addDays(today, int(0, 30)) : addDays(today, int(31, 364));
        const policy = {
          enterpriseId: enterprise.id,
          startOn: addDays(endOn, -364),
          endOn,
          insuredHeadcount: headcount,
          premiumFen: headcount * 15000,
          liabilityPerPerson: 400000,
          status: 'valid',
          isDemo: true,
        };
        const policyNo = `DEMO-${String(serial).padStart(4, '0')}`;
        await tx.policy.upsert({
          where: { insurerId_policyNo: { insurerId: insurer.id, policyNo } },
          create: { insurerId: insurer.id, policyNo, ...policy },
          update: policy,
        });
        policies++;
      }
    }

    await refreshCover(tx, seeded, today);

    // Reports stand in where the ledger has nothing: 民爆 county-wide, and one township cell.
    await tx.progressReport.deleteMany({ where: { campaignId, isDemo: true } });
    const reports = [
      { unit: 'gaj', sector: 'civil_explosives', township: null, insured: 3, total: 4, days: 5 },
      {
        unit: REPORTED_CELL.township,
        sector: REPORTED_CELL.sector,
        township: REPORTED_CELL.township,
        insured: 5,
        total: 6,
        days: 2,
      },
    ];
    for (const r of reports) {
      await tx.progressReport.create({
        data: {
          campaignId,
          unitId: unit(r.unit).id,
          sectorId: sector(r.sector).id,
          townshipId: r.township ? unit(r.township).id : null,
          insured: r.insured,
          total: r.total,
          note: '演示数据',
          reportedBy: 'demo-seed',
          isDemo: true,
          reportedAt: new Date(clock.now().getTime() - r.days * 86_400_000),
        },
      });
    }

    for (const m of DEMO_MEMBERS) {
      const data = { name: m.name, roles: m.roles, unitId: unit(m.unit).id, isDemo: true, active: true };
      await tx.member.upsert({ where: { userId: m.userId }, create: { userId: m.userId, ...data }, update: data });
    }
    for (const c of DEMO_CHATS) {
      const data = {
        webhookKey: c.webhookKey,
        name: c.name,
        unitId: unit(c.unit).id,
        purpose: c.purpose,
        isDemo: true,
      };
      await tx.groupChat.upsert({ where: { chatId: c.chatId }, create: { chatId: c.chatId, ...data }, update: data });
    }

    // This year's duties: those whose date has passed are done, except a few left open (overdue).
    const year = today.slice(0, 4);
    const leftOpen = new Set(['pingan-pc', 'jtj', 'zjj']);
    /** One overdue item waits for a leader's decision on more time, for /批准 and /驳回 to try. */
    const asksMoreTime = 'zjj';
    for (const duty of campaign.duties) {
      const dueOn = `${year}-${duty.dueMonthDay}`;
      const assignees =
        duty.assignees === '@insurers'
          ? insurers
          : duty.assignees === '@sector-leads'
            ? [
                ...new Set(
                  (
                    await tx.sectorResponsibility.findMany({
                      where: { role: 'lead', sector: { campaignId } },
                      include: { unit: true },
                    })
                  ).map((r) => r.unit),
                ),
              ]
            : duty.assignees === '@townships'
              ? townships
              : [unit(duty.assignees)];
      const seen = new Set<number>();
      for (const u of assignees) {
        if (seen.has(u.id)) continue;
        seen.add(u.id);
        const created = await ensureObligation(
          tx,
          { campaignId, dutyId: duty.id, unitId: u.id, title: duty.title, period: year, dueOn, isDemo: true },
          clock,
        );
        if (created && dueOn < today && u.code === asksMoreTime) {
          const o = await tx.obligation.findUniqueOrThrow({
            where: { campaignId_dutyId_unitId_period: { campaignId, dutyId: duty.id, unitId: u.id, period: year } },
          });
          const requestedDueOn = addDays(today, 21);
          const requestReason = '部分企业停产整顿，待复产后检查（演示）';
          await tx.obligation.update({
            where: { id: o.id },
            data: {
              requestedDueOn,
              requestReason,
              events: {
                create: {
                  fromStatus: 'assigned',
                  toStatus: 'extension_requested',
                  dueOn: requestedDueOn,
                  note: requestReason,
                  actorUserId: 'demo-seed',
                  at: clock.now(),
                },
              },
            },
          });
        }
        if (created && dueOn < today && !leftOpen.has(u.code)) {
          const o = await tx.obligation.findUniqueOrThrow({
            where: { campaignId_dutyId_unitId_period: { campaignId, dutyId: duty.id, unitId: u.id, period: year } },
          });
          const at = new Date(`${addDays(dueOn, -3)}T10:00:00+08:00`);
          await tx.obligation.update({
            where: { id: o.id },
            data: {
              status: 'done',
              doneAt: at,
              events: {
                create: { fromStatus: 'assigned', toStatus: 'done', note: '演示数据', actorUserId: 'demo-seed', at },
              },
            },
          });
        }
      }
    }
    return { enterprises, policies, members: DEMO_MEMBERS.length, chats: DEMO_CHATS.length };
  }, BULK_TRANSACTION);
}
