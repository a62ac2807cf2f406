import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { webhookMarkdown, wecomWire } from '../../src/wecom/messages.ts';
import { readCampaignFile } from '../../src/domain/campaign-file.ts';
import { seedCampaign } from '../../src/domain/seed.ts';
import { PermanentError } from '../../src/wecom/api.ts';
import { testBot, TZ, type TestDb } from '../support/db.ts';

// Two counties in one database (as a city running the bot for several would have): Anhua with its
// demo roster, and 新化县 from test/fixtures/xinhua.json — the Anhua file with another county code
// and name, its townships' codes, insurers' names and targets changed, and the same department
// codes and township names, so only scoping by county keeps them apart. Runs on SQLite and, in the
// vitest project "postgres", on PostgreSQL.

const XINHUA_FILE = fileURLToPath(new URL('../fixtures/xinhua.json', import.meta.url));
const XINHUA = '430922';

let t: TestDb;
let bus: Bus;
const say = async (userId: string, text: string) =>
  (await bus.handle({ channel: 'sandbox', userId, chatId: null, text })).text;

/** "危险化学品  1/2 家 50.0%" → sector name → [insured, in scope], read off a /覆盖率 reply. */
function figures(reply: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const m of reply.matchAll(/^\S+ (\S+)\s+(\d+)\/(\d+) 家/gm)) out.set(m[1]!, [Number(m[2]), Number(m[3])]);
  return out;
}

const ANHUA_VIEWS = ['/覆盖率', '/覆盖率 乡镇', '/覆盖率 部门', '/覆盖率 危化', '/覆盖率 东坪', '/排名', '/逾期'];
let anhuaBefore: string[];
/** An Anhua demo enterprise whose name a Xinhua enterprise shares. */
let twinName: string;
let ids: { chem: number; chemUninsured: number; transport: number; pingan: number };

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  anhuaBefore = await Promise.all(ANHUA_VIEWS.map((v) => say('demo-leader', v)));

  const { campaignId } = await seedCampaign(t.db, readCampaignFile(XINHUA_FILE), t.clock, TZ);
  const sector = async (code: string) =>
    (await t.db.sector.findUniqueOrThrow({ where: { campaignId_code: { campaignId, code } } })).id;
  const unit = async (code: string) =>
    (await t.db.unit.findUniqueOrThrow({ where: { countyCode_code: { countyCode: XINHUA, code } } })).id;
  const [chemicals, transport, other, dongping, meicheng] = await Promise.all([
    sector('hazardous_chemicals'),
    sector('transport'),
    sector('other'),
    unit('430922121'),
    unit('430922118'),
  ]);
  twinName = (
    await t.db.enterprise.findFirstOrThrow({
      where: { countyCode: '430923', sector: { code: 'hazardous_chemicals' } },
      orderBy: { id: 'asc' },
    })
  ).name;
  let serial = 0;
  const enterprise = async (
    name: string,
    sectorId: number,
    townshipId: number,
    employees: number,
    extra: { status?: string; aboveScale?: boolean } = {},
  ) =>
    (
      await t.db.enterprise.create({
        data: {
          countyCode: XINHUA,
          creditCode: `91430922TEST${String(++serial).padStart(6, '0')}`,
          name,
          sectorId,
          townshipId,
          employees,
          ...extra,
        },
      })
    ).id;
  ids = {
    chem: await enterprise(twinName, chemicals, dongping, 40),
    chemUninsured: await enterprise('新化测试永盛化工有限公司', chemicals, dongping, 20),
    transport: await enterprise('新化测试恒通运输有限公司', transport, meicheng, 8),
    pingan: await unit('pingan-pc'),
  };
  await enterprise('新化测试金源化工有限公司', chemicals, meicheng, 10, { status: 'closed' });
  await enterprise('新化测试梅山茶业有限公司', other, meicheng, 60, { aboveScale: true });
  await enterprise('新化测试小茶坊', other, meicheng, 5);
  await t.db.member.createMany({
    data: [
      { userId: 'xh-leader', name: '新化·县领导', roles: 'leader', unitId: await unit('aqw') },
      { userId: 'xh-insurer', name: '新化·平安财险', roles: 'insurer', unitId: ids.pingan },
      { userId: 'xh-liaison-gaj', name: '新化·公安局联络员', roles: 'liaison', unitId: await unit('gaj') },
      { userId: 'xh-admin', name: '新化·管理员', roles: 'admin', unitId: await unit('aqw') },
    ],
  });
});
afterAll(() => t.close());

describe('two counties in one database', () => {
  it('records Xinhua’s policies and reports on Xinhua’s enterprises and units, even where a name is shared', async () => {
    expect(await say('xh-insurer', `/投保 ${twinName} 平安 XH2026001 2026-01-01 2026-12-31 40`)).toContain('XH2026001');
    expect(await say('xh-insurer', '/投保 新化测试恒通运输有限公司 平安 XH2026002 2026-06-01 2027-05-31 8')).toContain(
      'XH2026002',
    );
    expect(await say('xh-liaison-gaj', '/上报 民爆 5/8')).toMatch(/5\/8/);

    const policies = await t.db.policy.findMany({
      where: { policyNo: { startsWith: 'XH' } },
      orderBy: { policyNo: 'asc' },
    });
    expect(policies.map((p) => [p.policyNo, p.enterpriseId, p.insurerId])).toEqual([
      ['XH2026001', ids.chem, ids.pingan],
      ['XH2026002', ids.transport, ids.pingan],
    ]);
    const report = await t.db.progressReport.findFirstOrThrow({
      where: { reportedBy: 'xh-liaison-gaj' },
      include: { campaign: true, unit: true, sector: { include: { campaign: true } } },
    });
    expect([
      report.campaign.countyCode,
      report.unit.countyCode,
      report.sector.campaign.countyCode,
      report.townshipId,
    ]).toEqual([XINHUA, XINHUA, XINHUA, null]);
  });

  it('refuses a Xinhua insurer an Anhua-only enterprise, writing nothing', async () => {
    const anhuaOnly = (
      await t.db.enterprise.findFirstOrThrow({
        where: { countyCode: '430923', name: { not: twinName } },
        orderBy: { id: 'desc' },
      })
    ).name;
    const before = await t.db.policy.count();
    expect(await say('xh-insurer', `/投保 ${anhuaOnly} 平安 XH2026009 2026-01-01 2026-12-31`)).not.toContain(
      'XH2026009',
    );
    expect(await t.db.policy.count()).toBe(before);
  });

  it('gives Xinhua only Xinhua’s figures, against its own target', async () => {
    const reply = await say('xh-leader', '/覆盖率');
    expect(reply).toContain('新化县');
    expect(reply).not.toContain('安化');
    // By hand: 危化 two operating (one insured; the closed one is out), 交通 one insured, 民爆 from
    // the county-wide report, other 规上 one uninsured (the small one is out of scope).
    expect(figures(reply)).toEqual(
      new Map([
        ['危险化学品', [1, 2]],
        ['交通运输', [1, 1]],
        ['民用爆炸物品', [5, 8]],
        ['其他规上工贸企业', [0, 1]],
      ]),
    );
    expect(reply).toMatch(/^八大高危行业合计 7\/11 家/m);
    expect(reply).toContain('目标 90%');
    expect(reply).not.toContain('含演示数据');
    // One township, found by its name in Xinhua although Anhua has one of the same name.
    expect(figures(await say('xh-leader', '/覆盖率 东坪'))).toEqual(new Map([['危险化学品', [1, 2]]]));
  });

  it('lists only Xinhua’s uninsured enterprises as Xinhua’s gaps', async () => {
    const reply = await say('xh-leader', '/逾期');
    expect(reply).toContain('新化测试永盛化工有限公司');
    expect(reply).toContain('新化测试梅山茶业有限公司');
    expect(reply).not.toContain('（演示）');
    expect(reply).not.toContain('新化测试金源化工有限公司');
  });

  it('reports a message Xinhua could not deliver to Xinhua’s admins, not its leaders’ group nor Anhua’s', async () => {
    const [aqw, gaj] = await Promise.all([
      t.db.unit.findUniqueOrThrow({ where: { countyCode_code: { countyCode: XINHUA, code: 'aqw' } } }),
      t.db.unit.findUniqueOrThrow({ where: { countyCode_code: { countyCode: XINHUA, code: 'gaj' } } }),
    ]);
    await t.db.groupChat.createMany({
      data: [
        {
          chatId: 'xh-chat-leaders',
          webhookKey: 'xh-webhook-leaders',
          name: '新化·县领导群',
          unitId: aqw.id,
          purpose: 'leaders',
        },
        {
          chatId: 'xh-chat-gaj',
          webhookKey: 'xh-webhook-gaj',
          name: '新化·公安局工作群',
          unitId: gaj.id,
          purpose: 'unit',
        },
      ],
    });
    const sent: string[] = [];
    const dispatcher = new Dispatcher({
      wire: wecomWire,
      db: t.db,
      clock: t.clock,
      senders: {
        webhook: async (row) => {
          sent.push(row.target);
          if (row.target === 'xh-webhook-gaj') throw new PermanentError('93000 robot removed');
          return 'sent';
        },
      },
    });
    await t.db.outboxMessage.deleteMany();
    await enqueue(t.db, webhookMarkdown('xh-webhook-gaj', '新化测试提醒'), t.clock);
    await dispatcher.drain();
    // A technical notice: to Xinhua's admin (no admins' group, so through the app), never to the leaders.
    expect(sent).toEqual(['xh-webhook-gaj']);
    const report = await t.db.outboxMessage.findFirstOrThrow({ where: { channel: 'app', target: 'xh-admin' } });
    expect(report.payload).toContain('新化·公安局工作群');
    expect(await t.db.outboxMessage.count({ where: { target: 'xh-webhook-leaders' } })).toBe(0);
    expect(await t.db.outboxMessage.count({ where: { target: { startsWith: 'demo-' } } })).toBe(0);
  });

  it('lets a county’s admin manage and read the log of that county’s members only', async () => {
    const anhuaMember = () => t.db.member.findUniqueOrThrow({ where: { userId: 'demo-liaison-yjj' } });
    const before = await anhuaMember();
    expect(await say('xh-admin', '/绑定 demo-liaison-yjj 联络员 公安局')).toContain('另一个县的成员');
    expect(await say('xh-admin', '/解绑 demo-liaison-yjj')).toContain('另一个县的成员');
    expect(await say('xh-admin', '/执行')).not.toContain('已解除');
    expect(await anhuaMember()).toEqual(before);

    expect(await say('xh-admin', '/绑定 xh-new-liaison 联络员 公安局')).toContain('已登记 xh-new-liaison');
    const unit = (await t.db.member.findUniqueOrThrow({ where: { userId: 'xh-new-liaison' }, include: { unit: true } }))
      .unit;
    expect(unit).toMatchObject({ countyCode: XINHUA, code: 'gaj' });

    const xinhuaLog = await say('xh-admin', '/日志 50 全部');
    expect(xinhuaLog).toContain('新化·管理员');
    expect(xinhuaLog).toContain('新化·平安财险');
    // Xinhua's admin sees the arguments of their own attempts on an Anhua member, but no Anhua member's events.
    expect(xinhuaLog).toContain('/解绑 demo-liaison-yjj');
    expect(xinhuaLog).not.toMatch(/演示·/);
    const anhuaLog = await say('demo-admin', '/日志 50 全部');
    expect(anhuaLog).toContain('/覆盖率');
    expect(anhuaLog).not.toContain('新化');
  });

  it('leaves every Anhua figure exactly as it was before Xinhua was loaded', async () => {
    const after = await Promise.all(ANHUA_VIEWS.map((v) => say('demo-leader', v)));
    expect(after).toEqual(anhuaBefore);
    expect(after.join('\n')).not.toMatch(/新化|XH2026/);
  });
});
