// The roster import as one recorded run (src/domain/import-run.ts): a process killed with SIGKILL
// in the middle of reading leaves nothing half-loaded and is rolled back at the next start; a run
// killed once staged is completed; another import waits for a live one. And the streaming workbook
// reader keeps Chinese text whole where the sheet's bytes are split between chunks.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import { creditCodeCheck } from '../../src/domain/credit-code.ts';
import { applyRun, markStaged, recoverImports, stageRows, startRun, STALE_MS } from '../../src/domain/import-run.ts';
import { readLedgerFile } from '../../src/domain/ledger-file.ts';
import { ImportFileError, importLedger } from '../../src/domain/ledger-import.ts';
import { translator } from '../../src/i18n.ts';
import { testDb, type TestDb } from '../support/db.ts';

let t: TestDb;
const zh = translator('zh-CN');
const code = (n: number) => {
  const first17 = `91430923MA${String(n).padStart(7, '0')}`;
  return first17 + creditCodeCheck(first17);
};
const HEADER = '企业名称,统一社会信用代码,行业,乡镇,是否规上,从业人数,经营状态';
const rosterCsv = (name: string, from: number, n: number) => {
  const file = join(t.dir, name);
  const rows = Array.from(
    { length: n },
    (_, i) => `批量导入${from + i}有限公司（测试）,${code(from + i)},建筑,东坪,否,12,在营`,
  );
  writeFileSync(file, [HEADER, ...rows].join('\n'));
  return file;
};
const options = (file: string) => ({
  campaignId: t.campaignId,
  day: '2026-11-29',
  now: t.clock.now(),
  t: zh,
  source: file,
  timeZone: 'Asia/Shanghai',
});
const county = async () => (await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } })).countyCode;

/**
 * Runs the CLI as an operator does (stderr is no terminal: a plain line every 10,000 rows) and
 * sends it `signal` at a controlled point: once 10,000 rows are read, with the rest still to come.
 */
async function importStopped(file: string, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', 'roster', file], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: t.url, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let sent = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const read = (d: Buffer) => {
    out += d;
    if (!sent && /已读 10,000 行/.test(out)) {
      sent = true;
      child.kill(signal);
    }
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  const end = await exited;
  if (!sent) throw new Error(`the import ended before it was stopped:\n${out}`);
  return { ...end, output: () => out };
}

beforeAll(async () => {
  t = await testDb({ demo: true });
});
afterAll(async () => {
  await t?.close();
});

describe('an import killed in the middle', () => {
  it('leaves nothing half-loaded; the next start rolls it back; another import waits while it lives', async () => {
    const file = rosterCsv('killed.csv', 1, 40_000);
    const before = await t.db.enterprise.count();
    const states = await t.db.enterpriseState.count();
    const { signal } = await importStopped(file, 'SIGKILL');
    expect(signal).toBe('SIGKILL');

    // Readers see the roster as it was: staged rows count nowhere.
    expect(await t.db.enterprise.count()).toBe(before);
    expect(await t.db.enterpriseState.count()).toBe(states);
    const run = await t.db.importRun.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(run.state).toBe('reading');
    expect(await t.db.importRosterRow.count({ where: { runId: run.id } })).toBeGreaterThan(0);

    // While its heartbeat is recent, another import waits, and changes nothing.
    const now = new Date();
    const other = rosterCsv('other.csv', 900_000, 3);
    const busy = importLedger(t.db, 'roster', await readLedgerFile(other, zh), options(other));
    await expect(busy).rejects.toThrow(ImportFileError);
    await expect(busy).rejects.toThrow(
      /^另一次导入（.+ 开始）还在进行，请等它完成后再导入；若那次导入已被中断，一分钟后即可重新导入。$/,
    );
    expect(await t.db.enterprise.count()).toBe(before);

    // The next start, a minute later: the dead run is rolled back, its staged rows gone.
    const later = fixedClock(new Date(now.getTime() + STALE_MS + 5_000));
    expect(await recoverImports(t.db, later)).toEqual({ completed: [], rolledBack: [run.id] });
    expect(await t.db.importRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ state: 'rolled_back' });
    expect(await t.db.importRosterRow.count({ where: { runId: run.id } })).toBe(0);
    expect(await t.db.enterprise.count()).toBe(before);

    // Imported again, the file is loaded whole.
    const report = await importLedger(t.db, 'roster', await readLedgerFile(file, zh), {
      ...options(file),
      clock: later,
    });
    expect(report).toMatchObject({ rows: 40_000, added: 40_000, rejected: [] });
    expect(await t.db.enterprise.count()).toBe(before + 40_000);
    expect(await t.db.importRun.findFirstOrThrow({ orderBy: { id: 'desc' } })).toMatchObject({ state: 'applied' });
  }, 180_000);

  it('rolls back at once when the operator presses Ctrl-C, and says so', async () => {
    const file = rosterCsv('interrupted.csv', 200_000, 40_000);
    const before = await t.db.enterprise.count();
    const { code, output } = await importStopped(file, 'SIGINT');
    expect(code, output()).toBe(1);
    expect(output()).toContain('导入被中断。 导入未完成，数据库未作任何改动。');
    expect(await t.db.importRun.findFirstOrThrow({ orderBy: { id: 'desc' } })).toMatchObject({ state: 'rolled_back' });
    expect(await t.db.importRosterRow.count()).toBe(0);
    expect(await t.db.enterprise.count()).toBe(before);
  }, 180_000);

  it('completes a run whose process died once every row was read and staged', async () => {
    const clock = fixedClock('2026-11-29T09:00:00+08:00');
    const sector = await t.db.sector.findFirstOrThrow({ where: { campaignId: t.campaignId, code: 'transport' } });
    const township = await t.db.unit.findFirstOrThrow({ where: { kind: 'township', name: { startsWith: '东坪' } } });
    const countyCode = await county();
    const runId = await startRun(
      t.db,
      { campaignId: t.campaignId, countyCode, day: '2026-11-29', source: 'staged.csv' },
      clock,
    );
    const rows = [1, 2, 3].map((i) => ({
      row: i + 1,
      op: 'added' as const,
      creditCode: code(800_000 + i),
      name: `补完测试${i}有限公司（测试）`,
      sectorId: sector.id,
      townshipId: township.id,
      aboveScale: null,
      employees: 20 + i,
      status: null,
      keepState: true,
    }));
    await stageRows(t.db, runId, rows, clock);
    await markStaged(t.db, runId, { rows: 3, added: 3 }, clock);
    // Staged, not applied: nothing shows.
    expect(await t.db.enterprise.count({ where: { creditCode: { in: rows.map((r) => r.creditCode) } } })).toBe(0);
    // Not yet given up on: a live run is left alone.
    expect(await recoverImports(t.db, clock)).toEqual({ completed: [], rolledBack: [] });

    clock.advance(STALE_MS + 1_000);
    expect(await recoverImports(t.db, clock)).toEqual({ completed: [runId], rolledBack: [] });
    const added = await t.db.enterprise.findMany({
      where: { creditCode: { in: rows.map((r) => r.creditCode) } },
      include: { states: true },
      orderBy: { creditCode: 'asc' },
    });
    expect(
      added.map((e) => [e.name, e.employees, e.aboveScale, e.status, e.states.length, e.states[0]?.added]),
    ).toEqual(rows.map((r) => [r.name, r.employees, false, 'operating', 1, true]));
    expect(await t.db.importRosterRow.count({ where: { runId } })).toBe(0);
    const audit = await t.db.auditEvent.findFirstOrThrow({
      where: { action: 'import_roster' },
      orderBy: { id: 'desc' },
    });
    expect(JSON.parse(audit.detail!)).toMatchObject({ source: 'staged.csv', run: runId, added: 3 });
    // Applied once: a second apply is refused.
    await expect(applyRun(t.db, runId, clock)).rejects.toThrow('not staged');
  });
});

describe('rows refused when compared with the ledger', () => {
  it('refuses a credit code another county registered, with its row number, after the row checks, and changes it not', async () => {
    const sector = await t.db.sector.findFirstOrThrow({ where: { campaignId: t.campaignId } });
    const township = await t.db.unit.findFirstOrThrow({ where: { kind: 'township' } });
    const theirs = await t.db.enterprise.create({
      data: {
        countyCode: '999999',
        creditCode: code(700_001),
        name: '邻县企业（测试）',
        sectorId: sector.id,
        townshipId: township.id,
        employees: 5,
      },
    });
    const file = join(t.dir, 'other-county.csv');
    writeFileSync(
      file,
      [
        HEADER,
        `邻县企业改名（测试）,${code(700_001)},建筑,东坪,否,50,在营`,
        `本县新企业（测试）,${code(700_002)},建筑,东坪,否,8,在营`,
        `本县坏行（测试）,${code(700_003)},餐饮,东坪,否,8,在营`,
      ].join('\n'),
    );
    const report = await importLedger(t.db, 'roster', await readLedgerFile(file, zh), options(file));
    expect(report).toMatchObject({ rows: 3, added: 1, updated: 0, unchanged: 0 });
    expect(report.rejected.map((r) => r.row)).toEqual([2, 4]);
    expect(report.rejected[0]!.reason).toBe(`统一社会信用代码 ${code(700_001)} 已登记在其他县`);
    expect(await t.db.enterprise.findUniqueOrThrow({ where: { id: theirs.id } })).toMatchObject({
      name: '邻县企业（测试）',
      employees: 5,
      countyCode: '999999',
    });
    expect(await t.db.enterpriseState.count({ where: { enterpriseId: theirs.id } })).toBe(0);
  });
});

describe('Chinese text split between chunks of a streamed workbook', () => {
  it('reads every name whole, where exceljs’ own streaming reader breaks some', async () => {
    // Long Chinese names, inline (no shared strings) and shared, so that the sheet's and the shared
    // strings' bytes are cut in the middle of characters many times over.
    const names = Array.from(
      { length: 4000 },
      (_, i) => `安化县东坪镇第${i}号危险化学品经营有限责任公司（测试）安全生产责任保险`,
    );
    for (const useSharedStrings of [false, true]) {
      const file = join(t.dir, `chinese-${useSharedStrings}.xlsx`);
      const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings });
      const ws = wb.addWorksheet('企业名单');
      ws.addRow(['企业名称']).commit();
      for (const n of names) ws.addRow([n]).commit();
      ws.commit();
      await wb.commit();

      // The file does cross chunk boundaries: read as exceljs reads it, some characters are lost.
      const broken: string[] = [];
      for await (const sheet of new ExcelJS.stream.xlsx.WorkbookReader(file, { sharedStrings: 'cache' }))
        for await (const row of sheet) broken.push(String((row.values as unknown[])[1]));
      expect(broken.some((n) => n.includes('\uFFFD'))).toBe(true);

      const [sheet] = await readLedgerFile(file, zh);
      expect(sheet!.rows.map((r) => r.cells[0])).toEqual(['企业名称', ...names]);
    }
  }, 60_000);
});
