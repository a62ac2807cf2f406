import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditCodeCheck } from '../../src/domain/credit-code.ts';
import { readLedgerFile } from '../../src/domain/ledger-file.ts';
import { importLedger, type LedgerKind } from '../../src/domain/ledger-import.ts';
import { translator } from '../../src/i18n.ts';
import { testDb, type TestDb } from '../support/db.ts';

// Files as county offices really keep them, built here: CSV with quotes and line breaks, broken
// and mislabelled files, and workbooks with a cover sheet, titles, two-row headers, totals and notes.

let t: TestDb;
const zh = translator('zh-CN');
const code = (serial: string) => `91430923MA4LU${serial}` + creditCodeCheck(`91430923MA4LU${serial}`);
const ROSTER_HEADER = '企业名称,统一社会信用代码,行业,乡镇,是否规上,从业人数,经营状态';

const path = (name: string) => join(t.dir, name);
function write(name: string, content: string | Buffer): string {
  writeFileSync(path(name), content);
  return path(name);
}
const read = (file: string) => readLedgerFile(file, zh);
async function load(kind: LedgerKind, file: string) {
  return importLedger(t.db, kind, await read(file), {
    campaignId: t.campaignId,
    day: '2026-11-29',
    now: t.clock.now(),
    t: zh,
    source: file,
    timeZone: 'Asia/Shanghai',
  });
}
async function workbook(name: string, build: (wb: ExcelJS.Workbook) => void): Promise<string> {
  const wb = new ExcelJS.Workbook();
  build(wb);
  await wb.xlsx.writeFile(path(name));
  return path(name);
}

beforeAll(async () => {
  t = await testDb();
});
afterAll(() => t.close());

describe('CSV through csv-parse', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF rows', async () => {
    const file = write(
      'quoted.csv',
      [ROSTER_HEADER, `"资江""新""运输\n有限公司，（测试）",${code('0001')},交通,东坪,否,"1,200",在营`].join('\r\n'),
    );
    const r = await load('roster', file);
    expect([r.added, r.rejected]).toEqual([1, []]);
    expect(await t.db.enterprise.findUniqueOrThrow({ where: { creditCode: code('0001') } })).toMatchObject({
      name: '资江"新"运输 有限公司，（测试）',
      employees: 1200,
    });
  });

  it('refuses a file with a broken quote, naming its row as a spreadsheet counts it, and loads none of its rows', async () => {
    const before = await t.db.enterprise.count();
    for (const [name, bad] of [
      ['open.csv', `"未闭合有限公司（测试）,${code('0003')},交通,东坪,否,10,在营`],
      ['closed-mid-field.csv', `"引号"有限公司（测试）,${code('0003')},交通,东坪,否,10,在营`],
    ]) {
      const file = write(
        name!,
        [ROSTER_HEADER, `"好企业\n有限公司（测试）",${code('0002')},交通,东坪,否,10,在营`, '', bad].join('\n'),
      );
      await expect(read(file)).rejects.toThrow(`${file}：第 4 行引号不配对，整个文件未读入，请修正该行`);
    }
    expect(await t.db.enterprise.count()).toBe(before);
  });
});

describe('bad files: one line in Chinese, nothing read', () => {
  it('an old workbook by its extension or by its bytes: save as .xlsx', async () => {
    const ole = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);
    for (const name of ['old.xls', 'old.et', 'renamed-xls.xlsx', 'renamed-xls.csv']) {
      const file = write(name, ole);
      await expect(read(file)).rejects.toThrow(
        `${file}：旧版 Excel（.xls、.et）或加了密码的工作簿读不了，请用 Excel 或 WPS 另存为 .xlsx 后再导入`,
      );
    }
  });

  it('a missing, empty, blank, unknown-kind or mislabelled file', async () => {
    const missing = path('nowhere.csv');
    await expect(read(missing)).rejects.toThrow(`${missing}：文件不存在`);
    const folder = path('folder.csv');
    mkdirSync(folder);
    await expect(read(folder)).rejects.toThrow(`${folder}：无法读取该文件`);
    for (const [name, content] of [
      ['empty.csv', ''],
      ['blank.csv', '\r\n,,,\r\n\r\n'],
      ['empty.xlsx', ''],
    ]) {
      const file = write(name!, content!);
      await expect(read(file)).rejects.toThrow(`${file}：文件是空的`);
    }
    const doc = write('roster.docx', 'x');
    await expect(read(doc)).rejects.toThrow(`${doc}：只能导入 .csv 或 .xlsx 文件`);
    const text = write('text.xlsx', `${ROSTER_HEADER}\n`);
    await expect(read(text)).rejects.toThrow(
      `${text}：内容不是 .xlsx 工作簿（可能改过扩展名），请用 Excel 或 WPS 另存为 .xlsx`,
    );
    const real = await workbook('real.xlsx', (wb) => wb.addWorksheet('台账').addRow(ROSTER_HEADER.split(',')));
    const zipped = write('zipped.csv', readFileSync(real));
    await expect(read(zipped)).rejects.toThrow(
      `${zipped}：内容不是 CSV 文本（像是改了扩展名的工作簿），请另存为 .csv 或 .xlsx`,
    );
  });

  it('a damaged workbook: cut short, or its contents garbled behind an intact directory', async () => {
    const bytes = readFileSync(await workbook('whole.xlsx', (wb) => wb.addWorksheet('台账').addRow(['企业名称'])));
    const cut = write('cut.xlsx', bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(read(cut)).rejects.toThrow(`${cut}：工作簿已损坏，无法打开，请重新保存后再导入`);
    const garbled = Buffer.from(bytes);
    garbled.fill(0x55, 40, Math.floor(bytes.length / 2));
    const file = write('garbled.xlsx', garbled);
    await expect(read(file)).rejects.toThrow(`${file}：工作簿已损坏，无法打开，请重新保存后再导入`);
  });

  it('refuses, before reading, a file over 20 MB and a workbook that unzips to over 100 times its size', async () => {
    const big = write('big.csv', `${ROSTER_HEADER}\n`);
    truncateSync(big, 20 * 1024 * 1024 + 1);
    await expect(read(big)).rejects.toThrow(`${big}：文件超过 20 MB，不予读取`);
    // 4 MB of one repeated character compresses to a few kilobytes.
    const bomb = await workbook('bomb.xlsx', (wb) => wb.addWorksheet('台账').addRow(['企业名称', 'a'.repeat(4 << 20)]));
    expect(readFileSync(bomb).length).toBeLessThan(100_000);
    await expect(read(bomb)).rejects.toThrow(`${bomb}：工作簿解压后超过 200 MB 或超过文件大小的 100 倍，不予读取`);
  });
});

describe('workbooks as offices keep them', () => {
  it('finds the sheet by its headers after a cover, reads a title, 填报 line, two-row merged headers and units, passes over totals and notes', async () => {
    const file = await workbook('office.xlsx', (wb) => {
      const cover = wb.addWorksheet('填表说明');
      cover.addRow(['填表说明']);
      cover.addRow(['1. 企业名称、统一社会信用代码、行业、乡镇、从业人数为必填项']);
      const ws = wb.addWorksheet('企业台账');
      ws.addRow(['安化县安责险企业台账（测试）']);
      ws.mergeCells('A1:G1');
      ws.addRow(['填报单位：东坪镇', '', '', '', '填报日期：2026年11月20日']);
      ws.addRow(['企业名称', '统一社会信用代码', '基本情况', '', '是否规上', '从业人数', '经营状态']);
      ws.addRow(['', '', '所属行业', '所属乡镇', '', '（人）', '']);
      for (const c of ['A', 'B', 'E', 'F', 'G']) ws.mergeCells(`${c}3:${c}4`);
      ws.mergeCells('C3:D3');
      ws.addRow(['东坪合众危化有限公司（测试）', code('0011'), '危化', '东坪', '是', '1,200', '在营']);
      ws.addRow(['梅城全角人数有限公司（测试）', code('0012'), '建筑', '梅城镇', '否', '５０', '在营']);
      ws.addRow(['小淹数字人数有限公司（测试）', code('0013'), '交通', '小淹', '否', 36, '在营']);
      ws.addRow(['合计', '', '', '', '', 1286, '']);
      ws.addRow(['注：1. 规上指规模以上工贸企业；']);
      ws.addRow(['2. 从业人数含劳务派遣人员。']);
      ws.addRow(['填表人：（测试）', '', '', '审核人：（测试）']);
    });
    const r = await load('roster', file);
    expect(r).toMatchObject({ sheet: '企业台账', rows: 3, added: 3, rejected: [] });
    expect(r.skipped).toEqual([
      { row: 8, why: 'total' },
      { row: 9, why: 'note' },
      { row: 10, why: 'note' },
      { row: 11, why: 'note' },
    ]);
    const employees = await t.db.enterprise.findMany({
      where: { creditCode: { in: [code('0011'), code('0012'), code('0013')] } },
      orderBy: { creditCode: 'asc' },
      include: { sector: true, township: true },
    });
    expect(employees.map((e) => [e.employees, e.sector.code, e.township.name, e.aboveScale])).toEqual([
      [1200, 'hazardous_chemicals', '东坪镇', true],
      [50, 'construction', '梅城镇', false],
      [36, 'transport', '小淹镇', false],
    ]);
  });

  it('reads dates as offices write them, Excel serials, amounts typed as text, and 保险期限 over 起 and 止', async () => {
    const dates: [ExcelJS.CellValue, string][] = [
      [new Date(Date.UTC(2026, 0, 5)), '2026-01-05'],
      [46027, '2026-01-05'],
      ['46028', '2026-01-06'],
      ['2026.1.7', '2026-01-07'],
      ['2026/1/8', '2026-01-08'],
      ['2026年1月9日', '2026-01-09'],
      ['20260110', '2026-01-10'],
      ['2026-01-11 00:00:00', '2026-01-11'],
    ];
    const file = await workbook('dates.xlsx', (wb) => {
      const ws = wb.addWorksheet('保单');
      ws.addRow(['保单号', '保险公司', '统一社会信用代码', '保险期限', '', '参保人数', '保费（万元）']);
      ws.addRow(['', '', '', '起', '止', '', '']);
      ws.mergeCells('D1:E1');
      dates.forEach(([start], i) =>
        ws.addRow([`DT-${i}`, '平安', code('0011'), start, '2026年12月31日', '１,２００', '1,234.5']),
      );
      ws.addRow(['DT-bad', '平安', code('0011'), '2026.13.1', '2026年12月31日', 10, 1]);
      ws.addRow(['DT-typo', '平按', code('0011'), '2026.1.5', '2026年12月31日', 10, 1]);
    });
    const r = await load('policies', file);
    expect(r.rejected).toEqual([
      { row: 11, reason: '保险期限起“2026.13.1”不是日期' },
      // The nearest insurer, too.
      { row: 12, reason: '不认识保险机构“平按”，您是不是要写中国平安财险安化支公司？' },
    ]);
    const policies = await t.db.policy.findMany({
      where: { policyNo: { startsWith: 'DT-' } },
      orderBy: { policyNo: 'asc' },
    });
    expect(policies.map((p) => [p.startOn, p.endOn, p.insuredHeadcount, p.premiumFen])).toEqual(
      dates.map(([, day]) => [day, '2026-12-31', 1200, 1_234_500_000]),
    );
  });
});

describe('names as offices write them', () => {
  it('reads the plan’s phrasing (交通运输（含水上交通）, 东坪镇人民政府); an unknown sector or township gets the nearest known names', async () => {
    const file = write(
      'names.csv',
      [
        ROSTER_HEADER,
        `近名一有限公司（测试）,${code('0021')},危化学品,东坪,否,10,在营`,
        `近名二有限公司（测试）,${code('0022')},建筑,东平,否,10,在营`,
        `近名三有限公司（测试）,${code('0023')},餐饮,东坪,否,10,在营`,
        `原文名称有限公司（测试）,${code('0025')},交通运输（含水上交通）,东坪镇人民政府,否,10,在营`,
        `控制字符有限公司（测试）,${code('0024')},"餐饮\u001b[2J\u202e",东坪,否,10,在营`,
      ].join('\n'),
    );
    const r = await load('roster', file);
    expect(r.rejected).toEqual([
      { row: 2, reason: '不认识行业“危化学品”，您是不是要写危化？' },
      { row: 3, reason: '不认识乡镇“东平”，您是不是要写东坪？' },
      { row: 4, reason: '不认识行业“餐饮”' },
      // A terminal escape and a direction override from the file reach no terminal.
      { row: 6, reason: '不认识行业“餐饮 ［2J”' },
    ]);
    expect(r.added).toBe(1);
    expect(
      await t.db.enterprise.findUniqueOrThrow({
        where: { creditCode: code('0025') },
        include: { sector: true, township: true },
      }),
    ).toMatchObject({ sector: { code: 'transport' }, township: { name: '东坪镇' } });
  });
});
