import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditCodeCheck } from '../../src/domain/credit-code.ts';
import { readLedgerFile } from '../../src/domain/ledger-file.ts';
import { ImportFileError, importLedger, type LedgerKind } from '../../src/domain/ledger-import.ts';
import { translator } from '../../src/i18n.ts';
import { testDb, type TestDb } from '../support/db.ts';

let t: TestDb;
const ROSTER = 'prisma/samples/roster.csv';
const POLICIES = 'prisma/samples/policies.xlsx';
const code = (serial: string) => `91430923MA4LT${serial}` + creditCodeCheck(`91430923MA4LT${serial}`);

async function load(
  kind: LedgerKind,
  file: string,
  o: { progress?: (rows: number) => void; every?: number; day?: string } = {},
) {
  return importLedger(t.db, kind, await readLedgerFile(file, translator('zh-CN')), {
    campaignId: t.campaignId,
    day: '2026-11-29',
    now: t.clock.now(),
    t: translator('zh-CN'),
    source: file,
    timeZone: 'Asia/Shanghai',
    ...o,
  });
}

/** Everything an import may change. */
async function ledger(): Promise<string> {
  return JSON.stringify([
    await t.db.enterprise.findMany({ orderBy: { id: 'asc' } }),
    await t.db.policy.findMany({ orderBy: { id: 'asc' } }),
    await t.db.auditEvent.count(),
  ]);
}

function writeCsv(name: string, lines: string[], encoding: 'utf8' | 'gbk' = 'utf8'): string {
  const file = join(t.dir, name);
  const text = lines.join('\r\n');
  // GBK as Excel in China saves CSV: encoded by hand for the few characters used, via TextDecoder's inverse table.
  writeFileSync(file, encoding === 'utf8' ? text : gbk(text));
  return file;
}

/** Encodes text as GB18030 (ASCII as is; each other character found by searching the two-byte range). */
function gbk(text: string): Buffer {
  const decoder = new TextDecoder('gb18030');
  const table = new Map<string, number[]>();
  for (let hi = 0x81; hi <= 0xfe; hi++) {
    for (let lo = 0x40; lo <= 0xfe; lo++) if (lo !== 0x7f) table.set(decoder.decode(Uint8Array.of(hi, lo)), [hi, lo]);
  }
  return Buffer.from([...text].flatMap((c) => (c.charCodeAt(0) < 0x80 ? [c.charCodeAt(0)] : table.get(c)!)));
}

beforeAll(async () => {
  t = await testDb();
});
afterAll(() => t.close());

describe('importing the roster and the policies', () => {
  it('imports the sample roster: 22 enterprises, the five bad rows rejected with their row and reason', async () => {
    const r = await load('roster', ROSTER);
    expect({ rows: r.rows, added: r.added, updated: r.updated, unchanged: r.unchanged }).toEqual({
      rows: 27,
      added: 22,
      updated: 0,
      unchanged: 0,
    });
    expect(r.rejected).toEqual([
      {
        row: 24,
        reason: expect.stringMatching(/^统一社会信用代码“91430923MA4LAH040.”校验位不对（按前 17 位应为 .）$/),
      },
      { row: 25, reason: '不认识行业“餐饮”' },
      { row: 26, reason: '不认识乡镇“长沙镇”，您是不是要写长塘镇？' },
      { row: 27, reason: '从业人数“若干”不是有效人数' },
      { row: 28, reason: expect.stringContaining('与第 2 行重复') },
    ]);
    expect(await t.db.enterprise.count()).toBe(22);
    const e = await t.db.enterprise.findFirstOrThrow({
      where: { name: '烟溪众诚化工有限公司（示例）' },
      include: { sector: true, township: true },
    });
    expect({
      sector: e.sector.code,
      township: e.township.name,
      status: e.status,
      employees: e.employees,
      aboveScale: e.aboveScale,
    }).toEqual({
      sector: 'hazardous_chemicals',
      township: '烟溪镇',
      status: 'stopped',
      employees: 35,
      aboveScale: false,
    });
    const water = await t.db.enterprise.findFirstOrThrow({
      where: { name: '资江水上客运有限公司（示例）' },
      include: { sector: true },
    });
    expect(water.sector.code).toBe('transport');
    expect(
      (await t.db.enterprise.findFirstOrThrow({ where: { name: '江南金源建筑劳务有限公司（示例）' } })).status,
    ).toBe('closed');
  });

  it('imports the sample policies (title row, variant headers, 万元, text dates, by name or code), rejecting six', async () => {
    const r = await load('policies', POLICIES);
    expect({ rows: r.rows, added: r.added, updated: r.updated, unchanged: r.unchanged }).toEqual({
      rows: 21,
      added: 15,
      updated: 0,
      unchanged: 0,
    });
    expect(r.rejected).toEqual([
      { row: 19, reason: '止保日期 2026-06-01 不晚于起保日期 2026-12-01：保单不能在起保前到期，没有登记。' },
      { row: 20, reason: '不认识保险机构“太平洋财险”' },
      { row: 21, reason: expect.stringMatching(/^台账中没有企业“91430923MA4LAH044.”，请先导入企业名单$/) },
      { row: 22, reason: '保险起期“2026-02-30”不是日期' },
      { row: 23, reason: '投保人数“0”不是有效人数' },
      { row: 24, reason: '与第 4 行重复（中国平安财险安化支公司 PAAH2026000101），以第 4 行为准' },
    ]);
    // The row with a name and no credit code, and text dates.
    const p = await t.db.policy.findFirstOrThrow({
      where: { policyNo: 'RS-2026-0002' },
      include: { enterprise: true, insurer: true },
    });
    expect({
      enterprise: p.enterprise.name,
      insurer: p.insurer.code,
      startOn: p.startOn,
      endOn: p.endOn,
      headcount: p.insuredHeadcount,
      premiumFen: p.premiumFen,
      liability: p.liabilityPerPerson,
    }).toEqual({
      enterprise: '江南华信化工有限公司（示例）',
      insurer: 'chinalife-pc',
      startOn: '2026-02-01',
      endOn: '2027-01-31',
      headcount: 205,
      premiumFen: 3_075_000,
      liability: 400_000,
    });
    expect((await t.db.policy.findFirstOrThrow({ where: { policyNo: 'RS-2026-0004' } })).liabilityPerPerson).toBe(
      500_000,
    );
    expect(await t.db.policy.count()).toBe(15);
    const audit = await t.db.auditEvent.findFirstOrThrow({
      where: { action: 'import_policies' },
      orderBy: { id: 'desc' },
    });
    expect(JSON.parse(audit.detail!)).toMatchObject({ source: POLICIES, added: 15, rejected: 6 });
  });

  it('changes nothing when the same files are imported again: every good row unchanged', async () => {
    const before = JSON.stringify([
      await t.db.enterprise.findMany({ orderBy: { id: 'asc' } }),
      await t.db.policy.findMany({ orderBy: { id: 'asc' } }),
    ]);
    const roster = await load('roster', ROSTER);
    const policies = await load('policies', POLICIES);
    expect([roster.added, roster.updated, roster.unchanged, roster.rejected.length]).toEqual([0, 0, 22, 5]);
    expect([policies.added, policies.updated, policies.unchanged, policies.rejected.length]).toEqual([0, 0, 15, 6]);
    expect(
      JSON.stringify([
        await t.db.enterprise.findMany({ orderBy: { id: 'asc' } }),
        await t.db.policy.findMany({ orderBy: { id: 'asc' } }),
      ]),
    ).toBe(before);
  });

  it('reads a GBK CSV with a title row and header variants; updates by credit code, adds new ones', async () => {
    const first = await t.db.enterprise.findFirstOrThrow({ where: { name: '东坪恒安石材开采有限公司（示例）' } });
    const file = writeCsv(
      'variants.csv',
      [
        '安化县企业台账（示例）,,,,,,',
        '*单位名称,信用代码,所属行业,所属乡镇（街道）,规上企业,职工人数（人）,状态',
        `东坪恒安石材开采有限公司（示例）,${first.creditCode.toLowerCase()},非煤,东坪,是,50,在营`,
        `梅城新增运输有限公司（示例）,${code('0001')},交通,430923118,否,二十,在营`,
      ],
      'gbk',
    );
    const r = await load('roster', file);
    expect([r.rows, r.added, r.updated, r.unchanged, r.rejected]).toEqual([2, 1, 1, 0, []]);
    expect(await t.db.enterprise.findUniqueOrThrow({ where: { id: first.id } })).toMatchObject({
      employees: 50,
      aboveScale: true,
      name: first.name,
    });
    expect(
      await t.db.enterprise.findFirstOrThrow({ where: { creditCode: code('0001') }, include: { township: true } }),
    ).toMatchObject({ employees: 20, township: { name: '梅城镇' } });
  });

  it('rejects crafted bad rows with their row number (blank lines counted) and applies the good ones', async () => {
    const before = await t.db.enterprise.count();
    const file = writeCsv('bad.csv', [
      '企业名称,统一社会信用代码,行业,乡镇,是否规上,从业人数,经营状态',
      `,${code('0002')},危化,东坪,否,10,在营`,
      `短码有限公司（示例）,91430923MA4L,危化,东坪,否,10,在营`,
      '',
      `规上不明有限公司（示例）,${code('0003')},危化,东坪,大概,10,在营`,
      `状态不明有限公司（示例）,${code('0004')},危化,东坪,否,10,破产`,
      `好企业有限公司（示例）,${code('0005')},危化,东坪,否,10,`,
    ]);
    const r = await load('roster', file);
    expect(r.rejected).toEqual([
      { row: 2, reason: '缺少企业名称' },
      { row: 3, reason: '统一社会信用代码“91430923MA4L”格式不对（应为 18 位，不含 I、O、Z、S、V）' },
      { row: 5, reason: '是否规上“大概”应填 是 或 否' },
      { row: 6, reason: '经营状态“破产”应填 在营、停产 或 关闭' },
    ]);
    expect([r.rows, r.added]).toEqual([5, 1]);
    expect(await t.db.enterprise.count()).toBe(before + 1);
    expect((await t.db.enterprise.findFirstOrThrow({ where: { creditCode: code('0005') } })).status).toBe('operating');
  });

  it('updates a policy by (insurer, number) and refuses an enterprise named only in part', async () => {
    const file = writeCsv('policies.csv', [
      '保单号,保险机构,企业,起保日期,止保日期,参保人数,保费',
      'PAAH2026000101,平安,东坪恒安石材开采有限公司（示例）,2026-03-01,2027-02-28,50,7500',
      'PAAH2026000199,平安,恒安,2026-03-01,2027-02-28,50,7500',
    ]);
    const r = await load('policies', file);
    expect([r.updated, r.added, r.rejected]).toEqual([
      1,
      0,
      [{ row: 3, reason: '“恒安”对应不到唯一一家企业，请填完整名称或统一社会信用代码' }],
    ]);
    expect(await t.db.policy.findFirstOrThrow({ where: { policyNo: 'PAAH2026000101' } })).toMatchObject({
      insuredHeadcount: 50,
      premiumFen: 750_000,
      liabilityPerPerson: 400_000,
    });
  });

  it('refuses a policy that cannot be right, naming the rule; imports one that needs a look with its warnings', async () => {
    const file = writeCsv('checks.csv', [
      '保单号,保险机构,企业,起保日期,止保日期,参保人数,保费,每人责任限额',
      'PAAH2026000401,平安,东坪恒安石材开采有限公司（示例）,2026-03-01,2028-02-28,5,7500,400000',
      'PAAH2026000402,平安,东坪恒安石材开采有限公司（示例）,2026-03-01,2027-02-28,5,0,400000',
      'PAAH2026000403,人寿,东坪恒安石材开采有限公司（示例）,2026-03-01,2027-02-28,99999,7500,300000',
    ]);
    const r = await load('policies', file);
    expect(r.rejected).toEqual([
      { row: 2, reason: expect.stringContaining('保险期间 2026-03-01 至 2028-02-28 超过 13 个月') },
      { row: 3, reason: '保费必须大于 0，没有登记。' },
    ]);
    expect(r.added).toBe(1);
    expect(r.warnings.map((w) => w.row)).toEqual([4, 4, 4]);
    expect(r.warnings.map((w) => w.warning).join('\n')).toMatch(
      /重叠 365 天[\s\S]*每人责任限额 ¥300,000 低于 ¥400,000（应急〔2025〕27号[\s\S]*投保人数超过台账职工数/,
    );
  });

  it('places dates without a year: the start the nearest such day, the end the first after the start', async () => {
    const row = (no: string, start: string, end: string) =>
      `${no},平安,东坪恒安石材开采有限公司（示例）,${start},${end},50,7500`;
    const header = '保单号,保险机构,企业,起保日期,止保日期,参保人数,保费';
    const december = await load(
      'policies',
      writeCsv('december.csv', [
        header,
        row('PAAH2026000301', '1月1日', '12月31日'),
        row('PAAH2026000302', '2月30日', '3月1日'),
      ]),
      { day: '2026-12-30' },
    );
    expect([december.added, december.rejected]).toEqual([1, [{ row: 3, reason: '起保日期“2月30日”不是日期' }]]);
    expect(await t.db.policy.findFirstOrThrow({ where: { policyNo: 'PAAH2026000301' } })).toMatchObject({
      startOn: '2027-01-01',
      endOn: '2027-12-31',
    });
    const january = await load(
      'policies',
      writeCsv('january.csv', [header, row('PAAH2026000303', '12月1日', '11月30日')]),
      {
        day: '2027-01-03',
      },
    );
    expect(january.added).toBe(1);
    expect(await t.db.policy.findFirstOrThrow({ where: { policyNo: 'PAAH2026000303' } })).toMatchObject({
      startOn: '2026-12-01',
      endOn: '2027-11-30',
    });
  });

  it('refuses a file without the required columns, naming them, and changes nothing', async () => {
    const before = await ledger();
    const file = writeCsv('nocols.csv', ['企业名称,行业', `某公司,危化`]);
    await expect(load('roster', file)).rejects.toThrow(
      new ImportFileError('找不到这些列：统一社会信用代码、乡镇、从业人数。请检查表头（前 10 行内）。'),
    );
    expect(await ledger()).toBe(before);
  });

  it('shows progress, and leaves the database as it was when the import fails mid-way', async () => {
    const rows = Array.from(
      { length: 25 },
      (_, i) => `进度测试${i}有限公司（示例）,${code(String(100 + i).padStart(4, '0'))},建筑,梅城,否,${i + 1},在营`,
    );
    const file = writeCsv('big.csv', ['企业名称,统一社会信用代码,行业,乡镇,是否规上,从业人数,经营状态', ...rows]);
    const before = await ledger();
    const seen: number[] = [];
    // A failure after 20 rows have been read (the progress callback stands in for a failing import).
    await expect(
      load('roster', file, {
        every: 10,
        progress: (rows) => {
          seen.push(rows);
          if (rows === 20) throw new Error('power cut');
        },
      }),
    ).rejects.toThrow('power cut');
    expect(seen).toEqual([10, 20]);
    expect(await ledger()).toBe(before);

    const r = await load('roster', file, { every: 10, progress: (rows) => seen.push(rows) });
    expect(r.added).toBe(25);
    expect(seen.slice(2)).toEqual([10, 20]);
  });
});
