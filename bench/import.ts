// Benchmark 9: the roster import (src/domain/ledger-import.ts) of 100,000 enterprises, as CSV and as
// XLSX, into the Anhua campaign, then the same CSV again (nothing changes); each in a process of its
// own as `npm run import` runs it (with the import's heap limits, src/core/heap.ts), its wall time
// and peak RSS. Beside it, the floor: the same CSV
// loaded by `sqlite3 .import` into a table of its own. While each import runs, the parent writes a
// small row every 50 ms (as a chat command would) and records the longest it waited for the lock.
//   node <IMPORT_HEAP_FLAGS> --import tsx bench/import.ts import <database url> <file>   prints RESULT {…}
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { fixedClock, systemClock } from '../src/clock.ts';
import { IMPORT_HEAP_FLAGS } from '../src/core/heap.ts';
import { openDatabase, sqlitePath } from '../src/db/client.ts';
import { openLedgerFile } from '../src/domain/ledger-file.ts';
import { importLedger } from '../src/domain/ledger-import.ts';
import { translator } from '../src/i18n.ts';
import { NOW, prng, syntheticCreditCode, TODAY, TZ } from './county.ts';
import { fmt, type Row, spawnNode, stop } from './lib.ts';

const HEADER = ['企业名称', '统一社会信用代码', '行业', '乡镇', '是否规上', '从业人数', '经营状态'];

/** 100,000 roster rows of the demo database's campaign, deterministic, as CSV and XLSX files. */
export async function rosterFiles(demoFile: string, dir: string, n = 100_000): Promise<{ csv: string; xlsx: string }> {
  const db = new Database(demoFile, { readonly: true });
  const sectors = (db.prepare('SELECT name FROM "Sector"').all() as { name: string }[]).map((s) => s.name);
  const townships = (
    db.prepare(`SELECT name FROM "Unit" WHERE kind = 'township'`).all() as {
      name: string;
    }[]
  ).map((u) => u.name);
  const county = (db.prepare('SELECT "countyCode" FROM "Campaign"').get() as { countyCode: string }).countyCode;
  db.close();
  const random = prng(20261202);
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const creditCode = syntheticCreditCode(county, random);
    const township = townships[Math.floor(random() * townships.length)]!;
    rows.push([
      `${township}导入测试企业${i + 1}有限公司`,
      creditCode,
      sectors[Math.floor(random() * sectors.length)]!,
      township,
      random() < 0.4 ? '是' : '否',
      String(3 + Math.floor(random() * 400)),
      random() < 0.05 ? '停产' : '在营',
    ]);
  }
  const csv = join(dir, 'roster-100k.csv');
  writeFileSync(csv, [HEADER, ...rows].map((r) => r.join(',')).join('\n'));
  const xlsx = join(dir, 'roster-100k.xlsx');
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: xlsx, useSharedStrings: true });
  const ws = wb.addWorksheet('企业名单');
  ws.addRow(HEADER).commit();
  for (const r of rows) ws.addRow(r.map((c, i) => (i === 5 ? Number(c) : c))).commit();
  ws.commit();
  await wb.commit();
  return { csv, xlsx };
}

interface ImportFigures {
  ms: number;
  cpuMs: number;
  peakRssMb: number;
  added: number;
  unchanged: number;
  rejected: number;
}

async function runImport(url: string, file: string): Promise<ImportFigures> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const db = openDatabase(url);
  const campaign = await db.campaign.findFirstOrThrow();
  const source = await openLedgerFile(file, translator('zh-CN'), { dates: false });
  const r = await importLedger(db, 'roster', source.sheets, {
    campaignId: campaign.id,
    day: TODAY,
    now: fixedClock(NOW).now(),
    clock: systemClock,
    t: translator('zh-CN'),
    timeZone: TZ,
    source: file,
  });
  await db.$disconnect();
  return {
    ms: performance.now() - start,
    cpuMs: ((used) => (used.user + used.system) / 1000)(process.cpuUsage(cpu)),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    added: r.added,
    unchanged: r.unchanged,
    rejected: r.rejected.length,
  };
}

/** Runs an import in its own process while writing a row every 50 ms; the longest write's wait. */
async function measured(url: string, file: string): Promise<ImportFigures & { writeMaxMs: number }> {
  const db = new Database(sqlitePath(url), { timeout: 60_000 });
  db.exec('CREATE TABLE IF NOT EXISTS bench_chat_write (at REAL)');
  const insert = db.prepare('INSERT INTO bench_chat_write (at) VALUES (?)');
  let writeMaxMs = 0;
  let running = true;
  const writer = (async () => {
    while (running) {
      const t0 = performance.now();
      db.transaction(() => insert.run(t0))();
      writeMaxMs = Math.max(writeMaxMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const { proc, match } = await spawnNode(
    [...IMPORT_HEAP_FLAGS, '--import', 'tsx', 'bench/import.ts', 'import', url, file],
    {},
    /^RESULT (.*)$/m,
  );
  const figures = JSON.parse(match[1]!) as ImportFigures;
  await stop(proc);
  running = false;
  await writer;
  db.close();
  return { ...figures, writeMaxMs };
}

/** `sqlite3 .import` of the CSV into a table of its own: the floor. */
function sqliteImport(url: string, csv: string): number {
  const start = performance.now();
  execFileSync('sqlite3', [sqlitePath(url), '.mode csv', '.import ' + csv + ' bench_roster_floor']);
  return performance.now() - start;
}

export async function importBench(demoFile: string, dir: string): Promise<Row[]> {
  const { csv, xlsx } = await rosterFiles(demoFile, dir);
  const fresh = (name: string) => {
    const file = join(dir, `${name}.db`);
    copyFileSync(demoFile, file);
    return `file:${file}`;
  };
  const floorUrl = fresh('import-floor');
  const floor = sqliteImport(floorUrl, csv);
  const csvUrl = fresh('import-csv');
  const first = await measured(csvUrl, csv);
  const again = await measured(csvUrl, csv);
  const x = await measured(fresh('import-xlsx'), xlsx);
  const base = `${fmt(floor / 1000, 2)} s sqlite3 .import`;
  const rows = (label: string, f: ImportFigures & { writeMaxMs: number }, target: number, ok: boolean): Row[] => [
    {
      bench: '9 import',
      measure: `${label}: wall time (CPU time), in a process of its own (${f.added.toLocaleString('en')} added, ${f.unchanged.toLocaleString('en')} unchanged, ${f.rejected} rejected)`,
      value: `${fmt(f.ms / 1000, 1)} s (${fmt(f.cpuMs / 1000, 1)} s)`,
      baseline: base,
      ratio: f.ms / floor,
      target: `< ${target} s`,
      ok: ok && f.ms < target * 1000,
    },
    {
      bench: '9 import',
      measure: `${label}: peak RSS; longest wait of a write made every 50 ms beside it`,
      value: `${fmt(f.peakRssMb, 0)} MB; ${fmt(f.writeMaxMs, 0)} ms`,
      target: '< 256 MB; ~1 s',
      ok: f.peakRssMb < 256 && f.writeMaxMs < 1500,
    },
  ];
  return [
    ...rows('100,000-row roster CSV into the Anhua campaign', first, 10, first.added === 100_000),
    ...rows('the same CSV again (nothing changes)', again, 5, again.unchanged === 100_000),
    ...rows('the same roster as XLSX', x, 10, x.added === 100_000),
  ];
}

const [mode, url, file] = process.argv.slice(2);
if (process.argv[1]?.endsWith('import.ts') && mode === 'import' && url && file)
  console.log(`RESULT ${JSON.stringify(await runImport(url, file))}`);
