import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { addSheet, columnWidth, WIDTH_SAMPLE } from '../../src/domain/workbook.ts';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { addDays } from '../../src/clock.ts';
import { coverageBySector, coverageCells } from '../../src/domain/coverage.ts';
import { shownRate } from '../../src/core/format.ts';
import { writeLedgerExport } from '../../src/domain/ledger-export.ts';
import { translator } from '../../src/i18n.ts';
import { ANHUA_SECTORS, pinganDongping, runJobs, testBot, TZ, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
let workbook: ExcelJS.Workbook;
let reply: string;
const DAY = '2026-11-29';
const say = (text: string, userId = 'demo-leader', chatId: string | null = 'demo-chat-leaders') =>
  bus.handle({ channel: 'sandbox', userId, chatId, text });
/** The latest file the bot queued (its text follows it). */
const lastFile = () =>
  t.db.outboxMessage.findFirstOrThrow({
    where: { payload: { contains: '"msgtype":"file"' } },
    orderBy: { id: 'desc' },
  });
const values = (ws: ExcelJS.Worksheet) =>
  ws
    .getSheetValues()
    .slice(2)
    .filter(Boolean)
    .map((r) => (r as ExcelJS.CellValue[]).slice(1));

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  // Two prevention visits: one confirmed by both sides (archived), one waiting for the enterprise.
  const policy = await t.db.policy.findFirstOrThrow({
    where: { insurer: { code: 'pingan-pc' }, startOn: { lte: DAY }, endOn: { gte: DAY } },
  });
  const at = new Date('2026-11-20T10:00:00+08:00');
  await t.db.preventionVisit.create({
    data: {
      enterpriseId: policy.enterpriseId,
      insurerId: policy.insurerId,
      serviceType: 'hazard_inspection',
      visitedOn: '2026-11-20',
      recordedBy: 'demo-insurer-pingan',
      insurerConfirmedAt: at,
      insurerConfirmedBy: 'demo-insurer-pingan',
      enterpriseConfirmedAt: at,
      enterpriseConfirmedBy: 'demo-liaison-dongping',
      satisfaction: 5,
    },
  });
  await t.db.preventionVisit.create({
    data: {
      enterpriseId: policy.enterpriseId,
      insurerId: policy.insurerId,
      serviceType: 'training',
      visitedOn: '2026-11-25',
      recordedBy: 'demo-insurer-pingan',
      insurerConfirmedAt: at,
      insurerConfirmedBy: 'demo-insurer-pingan',
    },
  });
  expect((await say('/导出')).text).toMatch(/^⏳ 正在生成…，完成后发到这里。/);
  [reply] = (await runJobs(t)) as [string];
  const outbox = await lastFile();
  const { file } = JSON.parse(outbox.payload) as { file: { path: string } };
  workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file.path);
});
afterAll(() => t.close());

describe('/导出', () => {
  it('writes the workbook beside the database and queues it as a file to the chat’s robot', async () => {
    const outbox = await lastFile();
    const payload = JSON.parse(outbox.payload);
    expect(outbox).toMatchObject({ channel: 'webhook', target: 'demo-webhook-leaders', state: 'pending' });
    expect(payload).toEqual({
      msgtype: 'file',
      file: {
        path: join(t.dir, 'exports', '安责险台账-2026-11-29-0800.xlsx'),
        name: '安责险台账-2026-11-29-0800.xlsx',
      },
    });
    expect(reply).toMatch(
      /^📎 安化县安责险台账已导出（截至 2026-11-29 08:00）：.*未参保企业 \d+ 家；60 天内到期保单 \d+ 份；走访 2 条；督办事项 \d+ 项；理赔 0 件。\n已发到本群。\n文件：.*\.xlsx\n⚠️ 含演示数据，仅供试用。$/,
    );
    expect(workbook.worksheets.map((w) => w.name)).toEqual([
      '按行业',
      '行业×乡镇',
      '未参保企业',
      '60天内到期保单',
      '预防服务走访',
      '督办事项',
      '督办记录',
      '执法检查',
      '2026年度考核',
      '保险机构服务',
      '理赔与争议',
    ]);
  });

  it('has the same coverage per sector as /覆盖率 and coverageBySector', async () => {
    const rows = values(workbook.getWorksheet('按行业')!);
    const sectors = await coverageBySector(t.db, t.campaignId, DAY, t.clock.now());
    expect(rows.slice(0, sectors.length).map((r) => r.slice(0, 5))).toEqual(
      sectors.map((s) => [s.name, s.enterprises, s.insured, shownRate(s.rate), s.gap]),
    );
    // Read off the chat reply: "🔴 非煤矿山  23/27 家 85.1%", and the high-risk total line.
    const text = (await say('/覆盖率')).text;
    const shown = [...text.matchAll(/^\S+ (\S+)\s+(\d+)\/(\d+) 家 ([\d.]+%)/gmu)].map((m) => [
      m[1],
      Number(m[3]),
      Number(m[2]),
      m[4],
    ]);
    expect(
      rows.slice(0, sectors.length).map((r) => [r[0], r[1], r[2], `${((r[3] as number) * 100).toFixed(1)}%`]),
    ).toEqual(shown);
    const total = rows[sectors.length]!;
    expect(text).toContain(
      `${total[0]} ${total[2]}/${total[1]} 家 ${((total[3] as number) * 100).toFixed(1)}%，差 ${total[4]} 家`,
    );
  });

  it('has per township the rates of /覆盖率 乡镇, and per sector × township the ledger’s cells with n/N', async () => {
    const rows = values(workbook.getWorksheet('行业×乡镇')!);
    const header = workbook.getWorksheet('行业×乡镇')!.getRow(1).values as string[];
    const columns = [...ANHUA_SECTORS, '合计'];
    expect(header.slice(1)).toEqual(['乡镇', ...columns.flatMap((c) => [`${c}（已保/应保）`, `${c}参保率`])]);
    const text = (await say('/覆盖率 乡镇')).text;
    const byTownship = new Map([...text.matchAll(/^\S+ (\S+)\s+\d+\/\d+ 家 ([\d.]+%)/gmu)].map((m) => [m[1]!, m[2]!]));
    const inSheet = new Map(
      rows
        .filter((r) => typeof r[20] === 'number' && r[0] !== '合计')
        .map((r) => [r[0] as string, `${((r[20] as number) * 100).toFixed(1)}%`]),
    );
    expect(inSheet).toEqual(byTownship);
    // One cell checked against the cells coverage counts: 东坪镇 × 交通运输.
    const [dongping, transport] = await Promise.all([
      t.db.unit.findFirstOrThrow({ where: { name: '东坪镇' } }),
      t.db.sector.findFirstOrThrow({ where: { code: 'transport' } }),
    ]);
    const cell = (await coverageCells(t.db, t.campaignId, DAY, t.clock.now())).find(
      (c) => c.sectorId === transport.id && c.townshipId === dongping.id,
    )!;
    const dongpingRow = rows.find((r) => r[0] === '东坪镇')!;
    expect(dongpingRow.slice(7, 9)).toEqual([
      `${cell.insured}/${cell.enterprises}`,
      shownRate(cell.insured / cell.enterprises),
    ]);
    // The county-wide report of 民爆 has a row of its own; the total row repeats the per-sector figures,
    // and ends with the county's: every sector's insured over every sector's in scope.
    expect(rows.find((r) => r[0] === '全县（未分乡镇）')!.slice(11, 13)).toEqual(['3/4', 0.75]);
    const bySector = values(workbook.getWorksheet('按行业')!).slice(0, columns.length - 1);
    const total = rows.at(-1)!;
    expect(total.slice(0, 5)).toEqual(['合计', ...bySector.slice(0, 2).flatMap((r) => [`${r[2]}/${r[1]}`, r[3]])]);
    const insured = bySector.reduce((n: number, r) => n + (r[2] as number), 0);
    const inScope = bySector.reduce((n: number, r) => n + (r[1] as number), 0);
    expect(total.slice(19, 21)).toEqual([`${insured}/${inScope}`, shownRate(insured / inScope)]);
  });

  it('lists exactly the uninsured enterprises the ledger cells count, and policies ending within 60 days', async () => {
    const cells = (await coverageCells(t.db, t.campaignId, DAY, t.clock.now())).filter((c) => c.source === 'ledger');
    const uninsured = values(workbook.getWorksheet('未参保企业')!);
    expect(uninsured.length).toBe(cells.reduce((n, c) => n + c.enterprises - c.insured, 0));
    expect(
      uninsured.filter((r) => !/^(无保单记录|断保 \d+ 天|保单 \d{4}-\d\d-\d\d 起保)$/.test(r[7] as string)),
    ).toEqual([]);

    const expiring = values(workbook.getWorksheet('60天内到期保单')!);
    const expected = await t.db.policy.count({
      where: { status: 'valid', startOn: { lte: DAY }, endOn: { gte: DAY, lte: addDays(DAY, 60) } },
    });
    expect(expiring.length).toBe(expected);
    const ends = expiring.map((r) => r[0] as string);
    expect(ends).toEqual([...ends].sort());
    expect(ends[0]! >= DAY && ends.at(-1)! <= addDays(DAY, 60)).toBe(true);
  });

  it('lists visits with their confirmation state, and obligations with every event', async () => {
    const visits = values(workbook.getWorksheet('预防服务走访')!);
    expect(visits.map((r) => [r[1], r[7], r[12]])).toEqual([
      ['2026-11-25', '宣传教育培训', '待企业确认'],
      ['2026-11-20', '隐患排查', '已归档'],
    ]);
    // People by name, not userid.
    expect(visits[1]!.slice(10, 12)).toEqual(['2026-11-20 10:00 演示·平安财险', '2026-11-20 10:00 演示·东坪镇联络员']);
    expect(values(workbook.getWorksheet('督办事项')!).length).toBe(await t.db.obligation.count());
    const history = values(workbook.getWorksheet('督办记录')!);
    expect(history.length).toBe(await t.db.obligationEvent.count());
    expect(history.some((r) => r[5] === '已办结' && r[4] === '待签收')).toBe(true);
    // Statuses and notes in Chinese: the demo's request for more time, the plan's own items.
    expect(history.some((r) => r[5] === '申请延期')).toBe(true);
    expect(history.filter((r) => r[4] === null || r[4] === undefined || r[4] === '').map((r) => r[7])).toContain(
      '按工作方案生成',
    );
    expect(JSON.stringify(history)).not.toMatch(/extension_|"seed"|service plan|demo-liaison|demo-insurer/);
  });

  it('says how late an item closed late was, in the 逾期 column', async () => {
    // 平安's annual report was due 2026-01-15; its 2026 service plan, filed today, closes it.
    expect((await say('/服务计划 2026 培训2', 'demo-insurer-pingan')).outcome).toBe('ok');
    await say('/导出');
    await runJobs(t);
    const outbox = await lastFile();
    const again = new ExcelJS.Workbook();
    await again.xlsx.readFile((JSON.parse(outbox.payload) as { file: { path: string } }).file.path);
    const item = values(again.getWorksheet('督办事项')!).find(
      (r) => r[1] === '中国平安财险安化支公司' && r[5] === '2026-01-15',
    )!;
    expect(item.slice(6, 8)).toEqual(['已办结', '逾期办结 318 天']);
    const step = values(again.getWorksheet('督办记录')!).find((r) => r[0] === item[0] && r[5] === '已办结')!;
    expect(step.slice(6, 8)).toEqual(['演示·平安财险', '保险机构登记年度服务计划']);
    await say('/撤销', 'demo-insurer-pingan');
  });

  it('has the insurers’ figures of /排名 and every claim with its payment and dispute, money exact in yuan', async () => {
    const insured = await pinganDongping(t.db, '2026-11-01');
    expect((await say(`/理赔 ${insured.creditCode} 11月10日 11月12日 12345.67`, 'demo-insurer-pingan')).outcome).toBe(
      'ok',
    );
    const claim = await t.db.claim.findFirstOrThrow({ where: { enterpriseId: insured.id }, orderBy: { id: 'desc' } });
    expect((await say(`/赔付 ${claim.id} 10000.05 11月20日`, 'demo-insurer-pingan')).outcome).toBe('ok');
    expect((await say(`/争议 ${claim.id} 应急局 赔付不足`, 'demo-insurer-pingan')).outcome).toBe('ok');
    await say('/导出');
    await runJobs(t);
    const again = new ExcelJS.Workbook();
    await again.xlsx.readFile((JSON.parse((await lastFile()).payload) as { file: { path: string } }).file.path);
    const insurers = values(again.getWorksheet('保险机构服务')!);
    const pingan = insurers.find((r) => r[1] === '中国平安财险安化支公司')!;
    expect(pingan.slice(2, 10)).toEqual([1, 1, 0, 12345.67, 10000.05, 8, 1, 0]);
    expect(JSON.stringify(insurers)).toContain('理赔期限：报案后 30 日（县安委办设定');
    const claims = values(again.getWorksheet('理赔与争议')!);
    expect(claims).toEqual([
      [
        claim.id,
        insured.name,
        insured.creditCode,
        expect.any(String),
        '东坪镇',
        '中国平安财险安化支公司',
        '2026-11-10',
        '2026-11-12',
        12345.67,
        10000.05,
        '2026-11-20',
        8,
        '已赔付',
        '县应急管理局',
        '赔付不足',
        '协调中',
      ],
    ]);
  });

  it('reads in pages: two rows a page gives the same workbook as a thousand', async () => {
    const day = { day: DAY, now: t.clock.now(), t: translator('zh-CN'), timeZone: TZ };
    const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
    const [small, large] = [join(t.dir, 'small.xlsx'), join(t.dir, 'large.xlsx')];
    const counts = await writeLedgerExport(t.db, campaign, { ...day, batch: 2 }, small);
    expect(counts).toEqual(await writeLedgerExport(t.db, campaign, day, large));
    expect(counts.uninsured + counts.expiring).toBeGreaterThan(10);
    const [a, b] = [new ExcelJS.Workbook(), new ExcelJS.Workbook()];
    await Promise.all([a.xlsx.readFile(small), b.xlsx.readFile(large)]);
    expect(a.worksheets.map(values)).toEqual(b.worksheets.map(values));
  });

  it('judges column widths from the header and a sample of rows, not every row', () => {
    const wb = new ExcelJS.Workbook();
    const rows = Array.from({ length: WIDTH_SAMPLE + 10 }, (_, i) => [
      i === WIDTH_SAMPLE + 5 ? '很长'.repeat(40) : '短',
    ]);
    const ws = addSheet(wb, 'x', ['企业名称'], rows);
    expect(ws.getColumn(1).width).toBe(columnWidth('企业名称', ['短']));
    expect(columnWidth('企业名称', ['短'])).toBe(10);
  });

  it('sends it to the member through the app where the chat has no robot', async () => {
    await say('/export', 'demo-leader', null);
    const [text] = await runJobs(t);
    const outbox = await lastFile();
    expect(text).toContain('已通过应用单独发给你');
    expect(outbox.channel).toBe('app');
    const payload = JSON.parse(outbox.payload);
    expect(payload).toMatchObject({
      touser: 'demo-leader',
      msgtype: 'file',
      file: { name: '安责险台账-2026-11-29-0800.xlsx' },
    });
    expect(existsSync(payload.file.path)).toBe(true);
  });

  it('/导出 危化 and /导出 东坪: only that sector’s or township’s enterprises in the lists, coverage county-wide', async () => {
    const whole = values(workbook.getWorksheet('未参保企业')!);
    for (const [word, column, name] of [
      ['危化', 0, '危险化学品'],
      ['东坪', 1, '东坪镇'],
    ] as const) {
      const r = await say(`/导出 ${word}`);
      expect(r.text).toMatch(/^⏳ 正在生成/);
      const [text] = await runJobs(t);
      expect(text).toContain(`只含${name}的企业`);
      const { file } = JSON.parse((await lastFile()).payload) as { file: { path: string; name: string } };
      expect(file.name).toMatch(new RegExp(`^安责险台账-${name}-2026-11-29-0800\\.xlsx$`));
      const part = new ExcelJS.Workbook();
      await part.xlsx.readFile(file.path);
      const uninsured = values(part.getWorksheet('未参保企业')!);
      expect(uninsured.length).toBeGreaterThan(0);
      expect(uninsured).toEqual(whole.filter((row) => row[column] === name));
      expect(uninsured.length).toBeLessThan(whole.length);
      expect(values(part.getWorksheet('按行业')!)).toEqual(values(workbook.getWorksheet('按行业')!));
    }
  });

  it('/导出 with a word that names no sector or township answers how to ask, and starts nothing', async () => {
    const jobs = await t.db.job.count();
    const r = await say('/导出 火星');
    expect(r.text).toContain('不认识“火星”');
    expect(r.text).toContain('/导出 乡镇名');
    expect(await t.db.job.count()).toBe(jobs);
  });

  it('refuses liaisons, writing nothing', async () => {
    const [outbox, files] = [await t.db.outboxMessage.count(), readdirSync(join(t.dir, 'exports')).length];
    t.clock.set('2026-11-29T09:00:00+08:00');
    const r = await say('/导出', 'demo-liaison-yjj', 'demo-chat-yjj');
    t.clock.set('2026-11-29T08:00:00+08:00');
    expect(r.outcome).toBe('denied');
    expect([await t.db.outboxMessage.count(), readdirSync(join(t.dir, 'exports')).length]).toEqual([outbox, files]);
  });
});
