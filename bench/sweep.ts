// Benchmark 3: the daily reminder sweep (Scheduler.runAt, dry) on the county ten times Anhua's
// size (benchmark 8: on ten such counties in PostgreSQL), in a process of its own so that its peak
// resident set is its own.
//   node --import tsx bench/sweep.ts <database url>   prints RESULT {…}
import { fixedClock } from '../src/clock.ts';
import { connectDatabase } from '../src/db/client.ts';
import { WorkCalendar } from '../src/domain/calendar.ts';
import { Scheduler } from '../src/schedule/scheduler.ts';
import { TZ } from './county.ts';
import { fmt, type Row, runTsx } from './lib.ts';

/** Monday 09:00 in Anhua, the morning after the county's "today": every rule runs, the weekly digest too. */
const AT = '2026-11-30T09:00:00+08:00';

export interface SweepFigures {
  coldMs: number;
  ms: number;
  reminders: number;
  messages: number;
  peakRssMb: number;
  restRssMb: number;
}

async function sweep(url: string): Promise<SweepFigures> {
  const db = await connectDatabase(url);
  await db.campaign.count();
  const restRssMb = process.memoryUsage().rss / 2 ** 20;
  const scheduler = new Scheduler({
    db,
    clock: fixedClock(AT),
    timeZone: TZ,
    locale: 'zh-CN',
    calendar: new WorkCalendar(),
  });
  // First in a fresh process (Prisma compiles each query shape on first use), then again as the
  // running service does it each morning; a dry run writes nothing, so both do the same work.
  let start = performance.now();
  await scheduler.runAt(new Date(AT), { dryRun: true });
  const coldMs = performance.now() - start;
  start = performance.now();
  const results = await scheduler.runAt(new Date(AT), { dryRun: true });
  const ms = performance.now() - start;
  const reminders = results.flatMap((r) => r.reminders);
  await db.$disconnect();
  return {
    coldMs,
    ms,
    reminders: reminders.length,
    messages: reminders.reduce((n, r) => n + r.messages.length, 0),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    restRssMb,
  };
}

/** The sweep's two rows (its time against its first run, its peak RSS), with the targets of the county swept. */
export function sweepRows(f: SweepFigures, o: { bench: string; swept: string; ms: number; mb: number }): Row[] {
  return [
    {
      bench: o.bench,
      measure: `daily reminder sweep${o.swept}, dry (${f.reminders} reminders, ${f.messages} messages), in a running process (first run in a fresh one)`,
      value: `${fmt(f.ms, 0)} ms`,
      baseline: `${fmt(f.coldMs, 0)} ms first`,
      target: `< ${o.ms} ms`,
      ok: f.ms < o.ms,
    },
    {
      bench: o.bench,
      measure: 'peak RSS of the sweep process (its RSS before the sweep)',
      value: `${fmt(f.peakRssMb, 0)} MB`,
      baseline: `${fmt(f.restRssMb, 0)} MB`,
      target: `< ${o.mb} MB`,
      ok: f.peakRssMb < o.mb,
    },
  ];
}

export async function sweepBench(url: string): Promise<{ rows: Row[]; figures: SweepFigures }> {
  const f = await runTsx<SweepFigures>('bench/sweep.ts', [url]);
  return { figures: f, rows: sweepRows(f, { bench: '3 sweep', swept: '', ms: 2000, mb: 256 }) };
}

if (process.argv[1]?.endsWith('sweep.ts') && process.argv[2])
  console.log(`RESULT ${JSON.stringify(await sweep(process.argv[2]))}`);
