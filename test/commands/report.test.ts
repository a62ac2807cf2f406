import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { bindPoliceLiaison, testBot, type TestDb } from '../support/db.ts';
import { dialog, type Turn } from '../support/dialog.ts';

let t: TestDb;
let bus: Bus;
const say = async (userId: string, text: string) =>
  bus.handle({ channel: 'sandbox', userId, chatId: 'demo-chat-dongping', text });
const reports = () => t.db.progressReport.count();

beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(() => t.close());

describe('/上报', () => {
  it('records a township liaison’s report for their township, with the gap and the ledger’s count', async () => {
    const out = await say('demo-liaison-dongping', '/上报 危化 3/4 已督促剩余一家');
    expect(out.outcome).toBe('ok');
    const row = await t.db.progressReport.findFirstOrThrow({
      orderBy: { id: 'desc' },
      include: { township: true, sector: true, unit: true },
    });
    expect(row).toMatchObject({
      insured: 3,
      total: 4,
      note: '已督促剩余一家',
      reportedBy: 'demo-liaison-dongping',
      chatId: 'demo-chat-dongping',
    });
    expect([row.township?.name, row.sector.code, row.unit.code]).toEqual([
      '东坪镇',
      'hazardous_chemicals',
      '430923121',
    ]);
    expect(out.text).toContain('已投保 3/4 家，75.0%');
    expect(out.text).toContain('这是该范围的第一次上报');
    expect(out.text).toContain('还差 1 家');
    // 东坪镇 has 危化 enterprises in the demo ledger: the reply says the ledger wins.
    expect(out.text).toMatch(/台账记录为 \d+\/\d+ 家/);
  });

  it('gives the change since the last report', async () => {
    t.clock.advance(3600_000);
    const out = await say('demo-liaison-dongping', '/上报 危化 四/四');
    expect(out.text).toContain('较上次（11-29 08:00，3/4）+1 家');
    expect(out.text).toContain('已达到目标 100%');
  });

  it('says 持平 for an unchanged figure, labels a note once, and warns when a township’s total differs from the ledger', async () => {
    t.clock.advance(3600_000);
    const ledger = await t.db.enterprise.count({
      where: { sector: { code: 'hazardous_chemicals' }, township: { name: '东坪镇' }, status: 'operating' },
    });
    expect(ledger).toBeGreaterThan(0);
    const same = await say('demo-liaison-dongping', `/上报 危化 4/${ledger + 4} 说明：两家新办企业未入台账`);
    expect(same.outcome).toBe('ok');
    expect(same.text).toContain('与上次（11-29 09:00，4/4）持平');
    expect(same.text).not.toContain('+0');
    expect(same.text).toContain('\n说明：两家新办企业未入台账');
    expect(same.text).not.toContain('说明：说明');
    expect(same.text).toContain(`⚠️ 应投保 ${ledger + 4} 家与台账的 ${ledger} 家不一致`);
    expect(await t.db.progressReport.findFirstOrThrow({ orderBy: { id: 'desc' } })).toMatchObject({
      total: ledger + 4,
      note: '两家新办企业未入台账',
    });
    // A total that matches the ledger raises no warning.
    const fits = await say('demo-liaison-dongping', `/上报 危化 ${ledger}/${ledger}`);
    expect(fits.outcome).toBe('ok');
    expect(fits.text).not.toContain('不一致');
  });

  it('takes a department liaison’s county-wide report for a sector it leads, and Chinese numerals', async () => {
    const out = await say('demo-liaison-jtj', '／上报　交通　四十五/五十');
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('交通运输（全县）已投保 45/50 家');
  });

  it('refuses a scope outside the member’s responsibility, naming who is responsible, and writes nothing', async () => {
    const before = await reports();
    const cases: Turn[] = [
      ['demo-liaison-jtj', '/上报 危化 1/2', /危险化学品由县应急管理局牵头负责/],
      ['demo-liaison-dongping', '/上报 危化 1/2 梅城', /东坪镇的联络员，只能上报本镇的数字；梅城镇由其联络员上报/],
      ['demo-liaison-dongping', '/上报 危化 5/2', /已投保不能多于应投保/],
      ['demo-liaison-dongping', '/上报 矿泉水 1/2', /没有“矿泉水”这个行业/],
      ['demo-liaison-dongping', '/上报 危化', /缺少参数：参保数/],
      ['demo-leader', '/上报 危化 1/2', /不能使用 \/上报/],
      ['demo-insurer-pingan', '/上报 危化 1/2', /不能使用 \/上报/],
    ];
    await dialog(bus, cases);
    expect(await reports()).toBe(before);
  });

  it('shows up in /覆盖率 where the ledger has nothing, and /撤销 takes it back', async () => {
    const civil = async () =>
      (await say('demo-leader', '/覆盖率')).text.split('\n').find((l) => l.includes('民用爆炸物品'))!;
    expect(await civil()).toContain('3/4 家');
    await bindPoliceLiaison(t.db);
    await say('liaison-gaj', '/上报 民爆 4/4');
    expect(await civil()).toContain('4/4 家');
    const before = await reports();
    expect((await say('liaison-gaj', '/撤销')).text).toContain('已撤回上报（民用爆炸物品 4/4，全县）');
    // Kept, marked withdrawn, and out of the figures.
    expect(await reports()).toBe(before);
    expect(await t.db.progressReport.findFirstOrThrow({ where: { reportedBy: 'liaison-gaj' } })).toMatchObject({
      withdrawnBy: 'liaison-gaj',
    });
    expect(await civil()).toContain('3/4 家');
    expect((await say('liaison-gaj', '/撤销')).outcome).toBe('invalid');
  });
});

describe('a part never replaces the whole', () => {
  const county = async () => (await say('demo-leader', '/覆盖率')).text.split('\n');
  const civilLines = (lines: string[]) => {
    const i = lines.findIndex((l) => l.includes('民用爆炸物品'));
    return lines.slice(i, i + 2);
  };

  it('a township’s report counts for the township; the county line keeps its county-wide report, with the newer one as a note', async () => {
    const before = await county();
    const total = before.find((l) => l.includes('高危行业合计'));
    expect(civilLines(before)[0]).toContain('3/4 家');
    expect((await say('demo-liaison-dongping', '/上报 民爆 1/1')).outcome).toBe('ok');
    const after = await county();
    const [line, source] = civilLines(after);
    expect(line).toContain('3/4 家');
    expect(source).toMatch(/来源：上报 .* · 东坪镇 \d\d-\d\d \d\d:\d\d 上报 1\/1（晚于全县上报，只计入该乡镇）/);
    // The eight-sector total is unchanged.
    expect(after.find((l) => l.includes('高危行业合计'))).toBe(total);
    // The township's own figure is its report.
    const dongping = (await say('demo-leader', '/覆盖率 东坪')).text.split('\n');
    expect(dongping.find((l) => l.includes('民用爆炸物品'))).toContain('1/1 家');
  });

  it('without a county-wide report, the county line is the sum of the township reports and says so', async () => {
    // The county-wide report withdrawn, as /撤销 leaves a record.
    await t.db.progressReport.updateMany({
      where: { sector: { code: 'civil_explosives' }, townshipId: null },
      data: { withdrawnAt: t.clock.now(), withdrawnBy: 'test' },
    });
    const [line, source] = civilLines(await county());
    expect(line).toContain('1/1 家');
    expect(source).toContain('1 个乡镇上报之和（无全县上报）');
  });
});
