import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { refreshCover } from '../../src/domain/cover.ts';
import { coverageCells, coverageTrend, coverageView, type Cell } from '../../src/domain/coverage.ts';
import { creditCodeCheck } from '../../src/domain/credit-code.ts';
import { readLedgerFile } from '../../src/domain/ledger-file.ts';
import { importLedger } from '../../src/domain/ledger-import.ts';
import { translator } from '../../src/i18n.ts';
import { expectedCells } from '../support/coverage.ts';
import { testBot, testDb, type TestDb } from '../support/db.ts';

// A roster with a history (#20 item 5): a past day's coverage counts the roster of that day.

const code = (serial: string) => `91430923MA4RH${serial}` + creditCodeCheck(`91430923MA4RH${serial}`);
const HEAD = '企业名称,统一社会信用代码,行业,乡镇,是否规上,从业人数,经营状态';
const FIRST = '2026-11-24';
const TODAY = '2026-11-29';

let t: TestDb;
let ids: { mines: number; transport: number; dongping: number };

async function importRoster(day: string, lines: string[]): Promise<void> {
  const file = join(t.dir, `roster-${day}.csv`);
  writeFileSync(file, [HEAD, ...lines].join('\r\n'));
  const report = await importLedger(t.db, 'roster', await readLedgerFile(file, translator('zh-CN')), {
    campaignId: t.campaignId,
    day,
    now: t.clock.now(),
    t: translator('zh-CN'),
    source: file,
    timeZone: 'Asia/Shanghai',
  });
  expect(report.rejected).toEqual([]);
}

/** The ledger cell of a sector in 东坪镇 on a day: [insured, in scope, known]; [0, 0, 0] when it has none. */
function cell(cells: Cell[], sectorId: number): [number, number] {
  const c = cells.find((x) => x.source === 'ledger' && x.sectorId === sectorId && x.townshipId === ids.dongping);
  return c ? [c.insured, c.enterprises] : [0, 0];
}

beforeAll(async () => {
  t = await testDb();
  const sectors = await t.db.sector.findMany({ where: { campaignId: t.campaignId } });
  const township = await t.db.unit.findFirstOrThrow({ where: { kind: 'township', name: '东坪镇' } });
  ids = {
    mines: sectors.find((s) => s.code === 'non_coal_mine')!.id,
    transport: sectors.find((s) => s.code === 'transport')!.id,
    dongping: township.id,
  };
  // On the roster before the change, with no history of its own.
  await t.db.enterprise.create({
    data: {
      creditCode: code('0000'),
      countyCode: '430923',
      name: '东坪老矿业（测试）',
      sectorId: ids.mines,
      townshipId: ids.dongping,
      employees: 30,
    },
  });
  // The first import after the change: the old mine as it was, and two mines added, one insured on every day asked.
  await importRoster(FIRST, [
    `东坪老矿业（测试）,${code('0000')},非煤矿山,东坪镇,否,30,在营`,
    `东坪甲矿业（测试）,${code('0001')},非煤矿山,东坪镇,否,40,在营`,
    `东坪乙运输（测试）,${code('0002')},非煤矿山,东坪镇,否,20,在营`,
  ]);
  const insurer = await t.db.unit.findFirstOrThrow({ where: { kind: 'insurer' } });
  const second = await t.db.enterprise.findUniqueOrThrow({ where: { creditCode: code('0002') } });
  await t.db.policy.create({
    data: {
      policyNo: 'RH-0002',
      insurerId: insurer.id,
      enterpriseId: second.id,
      startOn: '2026-01-01',
      endOn: '2026-12-31',
      insuredHeadcount: 20,
    },
  });
  await refreshCover(t.db, [second.id], TODAY);
  // The second, today: the first closes, the second is re-filed under transport, a third is added.
  await importRoster(TODAY, [
    `东坪老矿业（测试）,${code('0000')},非煤矿山,东坪镇,否,30,在营`,
    `东坪甲矿业（测试）,${code('0001')},非煤矿山,东坪镇,否,40,关闭`,
    `东坪乙运输（测试）,${code('0002')},交通运输,东坪镇,否,20,在营`,
    `东坪丙矿业（测试）,${code('0003')},非煤矿山,东坪镇,否,10,在营`,
  ]);
});
afterAll(() => t.close());

describe('a roster with a history', () => {
  it('keeps one state per enterprise per change day, and none for a row that did not change', async () => {
    const states = await t.db.enterpriseState.findMany({
      include: { enterprise: { select: { creditCode: true } } },
      orderBy: [{ enterpriseId: 'asc' }, { validFrom: 'asc' }],
    });
    expect(states.map((s) => [s.enterprise.creditCode, s.validFrom, s.status, s.sectorId, s.added])).toEqual([
      [code('0000'), FIRST, 'operating', ids.mines, false],
      [code('0001'), FIRST, 'operating', ids.mines, true],
      [code('0001'), TODAY, 'closed', ids.mines, false],
      [code('0002'), FIRST, 'operating', ids.mines, true],
      [code('0002'), TODAY, 'operating', ids.transport, false],
      [code('0003'), TODAY, 'operating', ids.mines, true],
    ]);
  });

  it('counts a day before the change with the roster of that day', async () => {
    const cells = await coverageCells(t.db, t.campaignId, '2026-11-26', t.clock.now());
    // The three mines, the re-filed one insured; the one added today was on no roster yet; nothing in transport.
    expect(cell(cells, ids.mines)).toEqual([1, 3]);
    expect(cell(cells, ids.transport)).toEqual([0, 0]);
    expect(cells.some((c) => c.earliestRoster)).toBe(false);
  });

  it('counts today with the roster as it is, the same figures as the independent count', async () => {
    const cells = await coverageCells(t.db, t.campaignId, TODAY, t.clock.now());
    expect(cell(cells, ids.mines)).toEqual([0, 2]);
    expect(cell(cells, ids.transport)).toEqual([1, 1]);
    expect(cells.some((c) => c.earliestRoster)).toBe(false);
    const expected = await expectedCells(t.db, t.campaignId, TODAY, t.clock.now());
    const key = (c: { sectorId: number; townshipId: number | null; source: string }) =>
      `${c.sectorId}:${c.townshipId}:${c.source}`;
    expect(new Map(cells.map((c) => [key(c), [c.insured, c.enterprises]]))).toEqual(
      new Map(expected.map((c) => [key(c), [c.insured, c.total]])),
    );
  });

  it('flags a day before the history starts and counts it with the earliest roster known', async () => {
    const cells = await coverageCells(t.db, t.campaignId, '2026-11-20', t.clock.now());
    // The old mine as first recorded; the mines the first import added were on no roster then.
    expect(cell(cells, ids.mines)).toEqual([0, 1]);
    expect(cells.filter((c) => c.source === 'ledger').every((c) => c.earliestRoster)).toBe(true);
    // /覆盖率's week back (2026-11-22) is before the first import (2026-11-24).
    const view = await coverageView(t.db, t.campaignId, { by: 'sector' }, TODAY, t.clock.now());
    expect(view.lastWeekEarliestRoster).toBe(true);
    const transport = view.rows.find((r) => r.key === ids.transport)!;
    expect([transport.lastWeek, transport.insured]).toEqual([null, 1]);
  });

  it("replaces that day's row on a second change the same day, still the day it was added", async () => {
    await importRoster(TODAY, [`东坪丙矿业（测试）,${code('0003')},非煤矿山,东坪镇,否,12,在营`]);
    const third = await t.db.enterprise.findUniqueOrThrow({
      where: { creditCode: code('0003') },
      include: { states: true },
    });
    expect(third.states.map((s) => [s.validFrom, s.employees, s.added])).toEqual([[TODAY, 12, true]]);
    expect(cell(await coverageCells(t.db, t.campaignId, '2026-11-26', t.clock.now()), ids.mines)).toEqual([1, 3]);
  });

  it('draws the trend week by week with the roster of each day, the earliest known before the history', async () => {
    const campaign = { id: t.campaignId, countyCode: '430923' };
    const dongping = { by: 'township' as const, township: { id: ids.dongping, name: '东坪镇' } };
    const points = (from: string, day: string) =>
      coverageTrend(t.db, campaign, dongping, from, day, t.clock.now()).then((trend) =>
        trend.points.map((p) => [p.day, p.insured, p.enterprises, p.earliestRoster]),
      );
    // Every 7 days back from the day asked, and the campaign's first day as a point of its own.
    expect(await points('2026-11-19', TODAY)).toEqual([
      ['2026-11-19', 0, 1, true],
      ['2026-11-22', 0, 1, true],
      [TODAY, 1, 3, false],
    ]);
    // Within the history: the three mines of that day, the re-filed one insured.
    expect(await points('2026-11-19', '2026-11-26')).toEqual([
      ['2026-11-19', 0, 1, true],
      ['2026-11-26', 1, 3, false],
    ]);
    // One sector's county line, against its own target.
    const sector = await t.db.sector.findUniqueOrThrow({ where: { id: ids.transport } });
    const transport = await coverageTrend(
      t.db,
      campaign,
      { by: 'sector', sector: { id: sector.id, code: sector.code, name: sector.name, highRisk: sector.highRisk } },
      '2026-11-22',
      TODAY,
      t.clock.now(),
    );
    expect(transport.points.map((p) => [p.day, p.insured, p.enterprises, p.rate])).toEqual([
      ['2026-11-22', 0, 0, null],
      [TODAY, 1, 1, 1],
    ]);
    expect(transport.target).toMatchObject({ rateBp: 10000, dueOn: '2021-12-31', passed: true });
  });
});

describe('/覆盖率 with a roster history', () => {
  let bus: Bus;
  let bot: TestDb;
  beforeAll(async () => ({ t: bot, bus } = await testBot({ demo: true })));
  afterAll(() => bot.close());

  it('says the week-earlier figures use the earliest roster when the history starts after that day', async () => {
    // The demo roster is kept from today: a week back is before its history.
    const reply = (await bus.handle({ channel: 'sandbox', userId: 'demo-leader', chatId: null, text: '/覆盖率' })).text;
    expect(reply).toContain('较上周（11-22）参保企业增减，— 无变化，新 = 上周无数据（按最早登记的名录计）');
  });

  it('says nothing of it when the week back is within the history', async () => {
    bot.clock.set('2026-12-09T08:00:00+08:00');
    const reply = (await bus.handle({ channel: 'sandbox', userId: 'demo-leader', chatId: null, text: '/覆盖率' })).text;
    expect(reply).toContain('较上周（12-02）');
    expect(reply).not.toContain('按最早登记的名录计');
  });
});
