import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { percent } from '../../src/core/format.ts';
import { assess, type Assessment } from '../../src/domain/assessment.ts';
import { writeLedgerExport } from '../../src/domain/ledger-export.ts';
import { rankCoverage } from '../../src/domain/ranking.ts';
import { translator } from '../../src/i18n.ts';
import { testBot, TZ, type TestDb } from '../support/db.ts';

// The annual assessment (#25 item 4): /考核, /排名's fifth part and the export's sheets agree, and
// every point has its basis.

let t: TestDb;
let bus: Bus;
let result: Assessment;
const DAY = '2026-11-29';
const say = (userId: string, text: string) => bus.handle({ channel: 'sandbox', userId, chatId: null, text });
const values = (ws: ExcelJS.Worksheet) =>
  ws
    .getSheetValues()
    .slice(2)
    .filter(Boolean)
    .map((r) => (r as ExcelJS.CellValue[]).slice(1));

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  // Some of each criterion: an inspection with a penalty and its rectification item, a report, a done duty.
  const e = await t.db.enterprise.findFirstOrThrow({
    where: { status: 'operating', sector: { code: 'transport' } },
    orderBy: { id: 'asc' },
  });
  expect(
    (await say('demo-liaison-jtj', `/检查 ${e.creditCode} 摊派 12月20日 处罚 安交罚〔2026〕7号 0.01`)).outcome,
  ).toBe('ok');
  expect((await say('demo-liaison-dongping', '/上报 危化 9/10')).outcome).toBe('ok');
  result = (await assess(t.db, t.campaignId, '2026', DAY, t.clock.now(), TZ))!;
});
afterAll(() => t.close());

describe('/考核', () => {
  it('scores every department and township on the file’s placeholder points, each point with its basis', async () => {
    expect(result.rules.placeholder).toBe(true);
    expect(result.rules.criteria.map((c) => [c.key, c.points])).toEqual([
      ['coverage', 40],
      ['reports', 15],
      ['obligations', 15],
      ['inspection', 15],
      ['rectification', 15],
    ]);
    const units = await t.db.unit.count({ where: { kind: { in: ['department', 'township'] } } });
    expect(result.ranked.length).toBeGreaterThan(20);
    expect(result.ranked.length).toBeLessThanOrEqual(units);
    for (const { item } of result.ranked) {
      const applying = item.criteria.filter((c) => c.share !== null);
      expect(item.max).toBe(applying.reduce((n, c) => n + c.points, 0));
      expect(item.score).toBeCloseTo(
        applying.reduce((n, c) => n + c.score, 0),
        5,
      );
      for (const c of applying) expect(c.score).toBeLessThanOrEqual(c.points);
    }
    // A township leads no sector: the inspection does not apply to it.
    const dongping = result.ranked.find((r) => r.item.unit.name === '东坪镇')!.item;
    expect(dongping.criteria.find((c) => c.key === 'inspection')!.share).toBeNull();
    // Its coverage is /排名's.
    const coverage = await rankCoverage(t.db, t.campaignId, DAY, t.clock.now());
    const row = coverage.townships.find((r) => r.item.name === '东坪镇')!.item;
    expect(dongping.criteria.find((c) => c.key === 'coverage')).toMatchObject({
      done: row.insured,
      of: row.enterprises,
      rate: row.rate,
    });
    expect(dongping.criteria.find((c) => c.key === 'reports')!.done).toBe(1);

    const reply = (await say('demo-leader', '/考核 2026 东坪')).text;
    expect(reply).toContain(`东坪镇：${dongping.score}/${dongping.max} 分`);
    expect(reply).toContain('· 专项执法检查：不适用');
    expect(reply).toContain(`· 参保率：${row.insured}/${row.enterprises} 家，参保率 ${percent(row.rate)}`);
    expect(reply).toContain('⚠️ 分值是占位');

    const jtj = result.ranked.find((r) => r.item.unit.code === 'jtj')!.item;
    expect(jtj.criteria.find((c) => c.key === 'inspection')).toMatchObject({ done: 1 });
  });

  it('ranks in /考核 and in /排名 alike; a liaison sees their own unit only; a bad year is refused', async () => {
    const lines = result.ranked.map(
      ({ rank, item }) => `${rank}. ${item.unit.name}  ${item.score}/${item.max} 分（${percent(item.share)}）`,
    );
    const ranking = (await say('demo-leader', '/考核')).text;
    const rank = (await say('demo-leader', '/排名')).text;
    expect(rank).toContain('五、2026 年度考核得分（分值为占位');
    for (const line of lines) {
      expect(ranking).toContain(line);
      expect(rank).toContain(line);
    }
    expect((await say('demo-liaison-jtj', '/考核')).text).toContain('县交通运输局：');
    expect((await say('demo-liaison-jtj', '/考核 东坪')).text).toContain('只能查看本单位');
    expect((await say('demo-leader', '/考核 东平')).text).toContain('东坪');
    expect((await say('demo-leader', '/考核 东坪 2026年')).text).toContain('2026 年度考核 · 东坪镇');
    expect((await say('demo-leader', '/考核 2031')).text).toContain('还没开始');
  });
});

describe('the export', () => {
  it('has the assessment and the inspections as the commands give them', async () => {
    const file = join(t.dir, 'assess.xlsx');
    await writeLedgerExport(
      t.db,
      { id: t.campaignId, countyCode: '430923', countyName: '安化县' },
      { day: DAY, now: t.clock.now(), t: translator('zh-CN'), timeZone: TZ, batch: 7 },
      file,
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const sheet = wb.getWorksheet('2026年度考核')!;
    expect(sheet.getRow(1).values).toEqual(
      expect.arrayContaining(['参保率（40分）', '专项执法检查（15分）', '得分', '满分', '得分率']),
    );
    const rows = values(sheet).slice(0, result.ranked.length);
    expect(rows).toEqual(
      result.ranked.map(({ rank, item }) => [
        rank,
        item.unit.name,
        item.unit.kind === 'township' ? '乡镇' : '部门',
        ...item.criteria.map((c) => (c.share === null ? '不适用' : c.score)),
        item.score,
        item.max,
        item.share,
      ]),
    );
    const inspections = values(wb.getWorksheet('执法检查')!);
    const stored = await t.db.inspection.findMany({ orderBy: { id: 'asc' } });
    expect(inspections.map((r) => r[0])).toEqual(stored.map((i) => i.id));
    expect(inspections[0]!.slice(7, 11)).toEqual(['保费摊派给从业人员', '2026-12-20', '安交罚〔2026〕7号', 0.01]);
  });
});
