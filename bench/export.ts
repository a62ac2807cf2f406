// Benchmark 6: the 台账 export (src/domain/ledger-export.ts) of the county ten times Anhua, in a
// process of its own as the service runs it (src/domain/ledger-export-child.ts), so that its peak
// resident set is its own. Baseline: the two long sheets' rows (uninsured enterprises, policies
// ending within 60 days) as two plain SQL queries on better-sqlite3 written out as CSV.
//   node --import tsx bench/export.ts export|dump <database url> <file>   prints RESULT {…}
import Database from 'better-sqlite3';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { addDays, fixedClock } from '../src/clock.ts';
import { openDatabase, sqlitePath } from '../src/db/client.ts';
import { EXPIRING_WITHIN_DAYS, writeLedgerExport, type ExportCounts } from '../src/domain/ledger-export.ts';
import { translator } from '../src/i18n.ts';
import { NOW, TODAY, TZ } from './county.ts';
import { fmt, type Row, runTsx } from './lib.ts';

interface ExportFigures {
  ms: number;
  peakRssMb: number;
  rows: number;
}

async function exportWorkbook(url: string, file: string): Promise<ExportFigures> {
  const start = performance.now();
  const db = openDatabase(url);
  const campaign = await db.campaign.findFirstOrThrow();
  const c: ExportCounts = await writeLedgerExport(
    db,
    campaign,
    { day: TODAY, now: fixedClock(NOW).now(), t: translator('zh-CN'), timeZone: TZ },
    file,
  );
  await db.$disconnect();
  return {
    ms: performance.now() - start,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rows: c.uninsured + c.expiring,
  };
}

async function dump(url: string, file: string): Promise<ExportFigures> {
  const start = performance.now();
  const db = new Database(sqlitePath(url), { readonly: true });
  const out = createWriteStream(file);
  let rows = 0;
  const write = async (r: unknown[]) => {
    rows++;
    if (!out.write(`${r.join(',')}\n`)) await once(out, 'drain');
  };
  const uninsured = db.prepare(`
    SELECT s.name, t.name, e.name, e."creditCode", e."aboveScale", e.employees,
      (SELECT max(p."endOn") FROM "Policy" p WHERE p."enterpriseId" = e.id AND p.status = 'valid')
    FROM "Enterprise" e JOIN "Sector" s ON s.id = e."sectorId" JOIN "Unit" t ON t.id = e."townshipId"
    WHERE e.status = 'operating' AND (s."highRisk" = 1 OR e."aboveScale" = 1)
      AND NOT EXISTS (SELECT 1 FROM "Policy" p WHERE p."enterpriseId" = e.id AND p.status = 'valid'
                      AND p."startOn" <= ? AND p."endOn" >= ?)
    ORDER BY s."sortOrder", t."sortOrder", e.name`);
  for (const r of uninsured.raw().iterate(TODAY, TODAY)) await write(r as unknown[]);
  const expiring = db.prepare(`
    SELECT p."endOn", e.name, e."creditCode", s.name, t.name, i.name, p."policyNo", p."insuredHeadcount",
      EXISTS (SELECT 1 FROM "Policy" q WHERE q."enterpriseId" = e.id AND q.status = 'valid' AND q."endOn" > p."endOn")
    FROM "Policy" p JOIN "Enterprise" e ON e.id = p."enterpriseId" JOIN "Sector" s ON s.id = e."sectorId"
      JOIN "Unit" t ON t.id = e."townshipId" JOIN "Unit" i ON i.id = p."insurerId"
    WHERE p.status = 'valid' AND p."startOn" <= ? AND p."endOn" BETWEEN ? AND ?
    ORDER BY p."endOn", p.id`);
  for (const r of expiring.raw().iterate(TODAY, TODAY, addDays(TODAY, EXPIRING_WITHIN_DAYS)))
    await write(r as unknown[]);
  out.end();
  await once(out, 'finish');
  db.close();
  return { ms: performance.now() - start, peakRssMb: process.resourceUsage().maxRSS / 1024, rows };
}

export async function exportBench(url: string, dir: string): Promise<Row[]> {
  const base = await runTsx<ExportFigures>('bench/export.ts', ['dump', url, `${dir}/dump.csv`]);
  const f = await runTsx<ExportFigures>('bench/export.ts', ['export', url, `${dir}/ledger.xlsx`]);
  return [
    {
      bench: '6 export',
      measure: `台账 workbook of the county (${f.rows.toLocaleString('en')} rows on its two long sheets, all seven sheets), in a process of its own, vs the two sheets' rows as plain SQL to CSV`,
      value: `${fmt(f.ms / 1000, 1)} s`,
      baseline: `${fmt(base.ms / 1000, 1)} s (${base.rows.toLocaleString('en')} rows)`,
      ratio: f.ms / base.ms,
      target: '< 20 s',
      ok: f.ms < 20_000 && f.rows === base.rows,
    },
    {
      bench: '6 export',
      measure: 'peak RSS of the export process (of the SQL dump)',
      value: `${fmt(f.peakRssMb, 0)} MB`,
      baseline: `${fmt(base.peakRssMb, 0)} MB`,
      target: '< 300 MB',
      ok: f.peakRssMb < 300,
    },
  ];
}

const [mode, url, file] = process.argv.slice(2);
if (process.argv[1]?.endsWith('export.ts') && url && file)
  console.log(`RESULT ${JSON.stringify(await (mode === 'dump' ? dump : exportWorkbook)(url, file))}`);
