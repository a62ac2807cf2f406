// `npm run bench`: the benchmarks of issues 7 and 19, each against its baseline in the same run on
// the same machine; prints the table and writes BENCHMARKS.md. Bounded: a few minutes on 2 cores
// (benchmark 8, ten counties on PostgreSQL, needs TEST_POSTGRES_URL and about ten minutes more).
//   npm run bench                 all of them
//   npm run bench -- 2 7          only those (the table is printed, BENCHMARKS.md left alone)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCounty, buildDemo } from './county.ts';
import { coverageBench } from './coverage.ts';
import { exportBench } from './export.ts';
import { importBench } from './import.ts';
import { cryptoOnly, inboundBench, type InboundFigures } from './inbound.ts';
import { millionBench, millionSkipped } from './million.ts';
import { lookupBench } from './lookup.ts';
import { fmt, machine, ROOT, type Row, table, timed } from './lib.ts';
import { mixedBench } from './mixed.ts';
import { outboxBench } from './outbox.ts';
import { startupBench } from './startup.ts';
import { sweepBench } from './sweep.ts';

const only = process.argv.slice(2).filter((a) => /^[0-9]+$/.test(a));
const wanted = (n: number) => !only.length || only.includes(String(n));
const dir = mkdtempSync(join(tmpdir(), 'anze-bench-'));
const rows: Row[] = [];
const started = performance.now();
const say = (m: string) => console.error(`[bench ${fmt((performance.now() - started) / 1000, 0)} s] ${m}`);

try {
  const m = machine();
  say(`${m.cpus} × ${m.model}, ${m.memoryGb} GB, Node ${m.node}, load ${m.load}`);
  const demo = await buildDemo(dir);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  let crypto: InboundFigures | undefined;
  if (wanted(1)) {
    say('1 inbound callbacks: bare Koa, crypto only, the service (50 connections, 10 s each)');
    const inbound = await inboundBench(demo, dir, { seconds });
    rows.push(...inbound.rows);
    crypto = inbound.figures.find((f) => f.variant === 'crypto');
  }
  const noPostgres = wanted(8) ? millionSkipped() : null;
  if (wanted(2) || wanted(3) || wanted(6) || wanted(7) || wanted(10) || (wanted(8) && !noPostgres)) {
    say('building the county ten times Anhua (one bulk insert)');
    const { result: county, wallMs } = await timed(() => buildCounty({ dir }));
    rows.push({
      bench: '2 coverage',
      measure: 'synthetic county built (seed, bulk insert, kept cover)',
      value: `${county.enterprises.toLocaleString('en')} enterprises, ${county.policies.toLocaleString('en')} policies in ${fmt(wallMs / 1000, 0)} s`,
    });
    if (wanted(2)) {
      say('2 /覆盖率 against the obvious SQL query');
      rows.push(...(await coverageBench(county)));
    }
    if (wanted(3)) {
      say('3 the daily reminder sweep (dry)');
      rows.push(...(await sweepBench(county.url)).rows);
    }
    if (wanted(6)) {
      say('6 the 台账 export of the county');
      rows.push(...(await exportBench(county.url, dir)));
    }
    if (wanted(7)) {
      if (!crypto) {
        say('7 the crypto-only reference (as in 1)');
        crypto = await cryptoOnly(demo, dir, seconds);
        rows.push({
          bench: '7 mixed',
          measure: 'crypto-only reference: req/s, p50 / p99 ms',
          value: `${fmt(crypto.rps, 0)} req/s, ${fmt(crypto.p50, 0)} / ${fmt(crypto.p99, 0)} ms`,
        });
      }
      say('7 mixed callbacks on the county (1 in 5 a write) with an export and a chart running');
      rows.push(...(await mixedBench(county.file, dir, crypto, { seconds })));
    }
    if (wanted(8) && !noPostgres) {
      say('8 ten such counties on PostgreSQL: loading, /覆盖率, the sweep of all ten');
      rows.push(...(await millionBench(county)));
    }
    if (wanted(10)) {
      say('10 /查询 as each kind of member');
      rows.push(...(await lookupBench(county)));
    }
  }
  if (noPostgres) rows.push(...noPostgres);
  if (wanted(4)) {
    say('4 the outbox: 3,000 reminders to 30 robots');
    rows.push(...(await outboxBench(demo, dir)));
  }
  if (wanted(5)) {
    say('5 start-up and RSS at rest');
    rows.push(...(await startupBench(demo, dir)));
  }
  if (wanted(9)) {
    say('9 the roster import: 100,000 rows as CSV, again, and as XLSX');
    rows.push(...(await importBench(demo, dir)));
  }
  const result = table(rows);
  console.log(result);
  say(`done; load now ${machine().load}`);
  if (!only.length) writeFileSync(join(ROOT, 'BENCHMARKS.md'), report(result, m, (performance.now() - started) / 1000));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function report(result: string, m: ReturnType<typeof machine>, seconds: number): string {
  return `# Benchmarks

Written by \`npm run bench\` (bench/run.ts); run it again to refresh this file. Each figure is
measured in the same run, on the same machine, as the baseline it is compared with.

**Machine:** ${m.cpus} CPUs (nproc), ${m.model}, ${m.memoryGb} GB memory, Node ${m.node}; load average
${m.load} when the run started (other work on the machine slows both sides of a ratio, not always
equally). The whole run took ${fmt(seconds, 0)} s.

${result}

## What each benchmark does

1. **Inbound.** Three servers, each alone in a child process, driven by autocannon (50
   connections, 2 s warm-up, 10 s measured) with the same precomputed requests: encrypted AI-bot
   callbacks carrying \`@安责险助手 /覆盖率\` from \`demo-leader\`, each with its own msgid and a valid
   signature. *bare*: Koa answering a fixed JSON. *crypto*: Koa doing only verify, decrypt, parse
   and encrypting a fixed reply of the real reply's size. *full*: the service (\`startService\`) on
   the demo county: the inbox stores the message under its msgid, the bus runs \`/覆盖率\` and writes
   the audit event and the handled state in one transaction, and the reply is encrypted. Nothing
   is cached; the last row checks that every answered request was stored and audited once. After
   the warm-up the driver waits 2 s, so that the measured run does not start behind the warm-up's
   last requests, which no client waits for any more.
2. **Coverage.** \`/覆盖率\` through the bus (today's figures and the week-back ones for the change
   column) on a synthetic county of 100,000 enterprises and about 153,000 policies (23 townships,
   9 scopes, policies lapsed, ending, renewed early, cancelled), against the obvious aggregate —
   every enterprise joined to its policies valid on the day — as one SQL query on better-sqlite3.
   The figures (enterprises, insured, employees, insured persons per sector × township cell) are
   compared with that query's on seven days from 100 days back to 300 days ahead. \`/覆盖率 趋势\`'s
   figures (every week since the campaign took effect, one sweep over the ledger), first asked,
   against counting each week on its own as \`/覆盖率\` counts a day (timed on every 8th week); the
   two give the same cells, every field, on those weeks.
3. **Sweep.** \`Scheduler.runAt(…, { dryRun: true })\` on the same county on a Monday at 09:00 (every
   rule, the weekly digest too), in a fresh process; its peak RSS is that process's.
4. **Outbox.** 3,000 webhook reminders queued at once for 30 robots, drained by the dispatcher
   against the fake WeCom server (which answers 45009 past 20 a minute per robot), the clock moved
   one second per tick; as in the service, each claim is fenced by the leader lease.
5. **Start-up.** On the migrated demo database, until \`/healthz\` answers; RSS 3 s later. Twice: as
   \`npm start\` runs it (\`node --import tsx src/main.ts\`), and compiled (\`tsc -p tsconfig.build.json\`,
   then \`node dist/src/main.js\`). Baselines: a bare Koa server (bench/bare-koa.mjs) started the same
   way, under tsx and by Node alone.
6. **Export.** The 台账 workbook (\`writeLedgerExport\`, all seven sheets) of the county of benchmarks
   2 and 3, in a process of its own as the service runs it, its wall time and peak RSS; baseline:
   the two long sheets' rows (uninsured enterprises, policies ending within 60 days) as two plain
   SQL queries on better-sqlite3 written out as CSV, in a process of its own. The row counts must agree.
7. **Mixed inbound** (#19 item 4; its targets replace benchmark 1's former ≥ 0.5×). The service on a
   copy of the county of benchmarks 2, 3 and 6, driven as in benchmark 1 (50 connections, 2 s
   warm-up, 10 s measured, every callback its own msgid), with a mix in rounds of ten: eight
   \`/覆盖率\` from the leader, one \`/上报 危化 n/9\` from 东坪镇's liaison (a progress report, which
   \`/覆盖率\` shows) and one \`/签收\` of one of 30,000 open obligations of that township, each
   acknowledged once. After the warm-up, in the 2 s pause before the measured run, the leader sends
   \`/导出\` and \`/覆盖率 图\`: the service stores them as jobs and runs each in a child process of
   its own, so the export of the county (about 12 s alone) and the chart (1–2 s) run while the run
   is measured; the row of the jobs says when each started (from the measured run's start), and
   whether it finished (the chart's job is left \`ready\`: asked over the AI bot, its result waits for
   WeCom's refresh of the open stream, which the load generator does not make). Reference: the crypto-only server of benchmark
   1, in the same run (driven again on its own when benchmark 1 is not run). The last row checks that
   every write was kept: each answered callback handled and audited once, each \`/上报\` answered as
   recorded a report, each \`/签收\` answered as done an acknowledged obligation.

   **Where it runs on the two cores.** Nothing is pinned; the operating system shares the two cores
   among four busy processes: the load generator (autocannon, in the \`npm run bench\` process), the
   service (one Node process: the HTTP server, the inbox, the bus and SQLite's synchronous queries on
   its event loop), the export's child process (src/domain/ledger-export-child.ts, its own
   better-sqlite3 connection on the same WAL file, reading while the service writes) and the chart's
   (src/domain/raster-child.mjs). While the export runs the service has at best one core and shares
   it with the load generator; the crypto-only reference had one core of its own and the load
   generator the other.
8. **A million on PostgreSQL.** Needs \`TEST_POSTGRES_URL\` (without it the row says so and nothing
   runs). A fresh database on that server holds ten counties of 100,000 enterprises: Anhua as
   benchmark 2 builds it (the same seed, so the same rows) and nine more, each the Anhua campaign
   under its own key, county code and name with rows of its own, seeded through the product and
   loaded in batches of 5,000 enterprises with their policies, each column one array parameter
   (\`INSERT … SELECT … FROM unnest(…)\`), the next batch generated while the server writes one;
   then \`VACUUM ANALYZE\`, as autovacuum would soon after such a load. \`/覆盖率\` of Anhua through the
   bus there against the same on benchmark 2's SQLite file (median of 7, interleaved; the replies
   must be identical), twice each time: computed, right after a write that bumps the ledger's data
   version (one policy's row rewritten as it was, which the triggers count as /投保 or an import
   would), so the memo has nothing to reuse; then asked again with nothing written, the memo's hit
   (the versions read, the figures reused). The issue's target (no slower than the 100,000 county
   on SQLite) is about computing the figures, so the ≤ 1× target is on the computed row; the hit's
   row has none: on PostgreSQL each statement a message still makes (the version reads, the audit event
   every command writes) is a round trip where SQLite's is a call, so a reply that computes nothing costs a few ms
   more there. Then the dry sweep of all ten counties (benchmark 3's script on that database, in a
   fresh process: its first run, then again).
9. **Import.** A roster of 100,000 enterprises (deterministic, the demo campaign's sectors and
   townships) as CSV and as XLSX, each imported by \`importLedger\` as \`npm run import\` runs it, in a
   process of its own with the import's heap limits (src/core/heap.ts), into a copy of the demo database; then the same CSV again, which changes
   nothing. While each runs, the parent makes a small write every 50 ms on the same database (as a
   chat command would) and records its longest wait for the write lock. Baseline: the same CSV loaded
   by \`sqlite3 .import\` into a table of its own.

## What was changed for these results

- **The import's memory and the start-up** (#19; src/core/heap.ts, src/domain/ledger-file.ts,
  src/wecom/proxy.ts, src/log.ts). With a full collection every second, the import of 100,000 rows
  had at most 57 MB of its heap alive as CSV and 82 MB as XLSX, over Node, tsx and Prisma's query
  compiler (about 125 MB resident whatever the work), yet peaked at 324 and 483 MB: V8 let garbage
  pile up. A heap snapshot showed the XLSX's 200,000 shared strings as slices of the decoded XML,
  keeping it all alive; copied flat, 67 MB. The import now runs with old space limited to 160 MB and
  semi-spaces to 8 MB (over twice the most found alive; the largest file accepted, 360,000 rows as
  XLSX, ran with 109 MB alive): 229–244 MB, at 12–16 % more CPU (CSV 6.1 → 6.8 s, XLSX 8.3 → 9.7 s, interleaved on the same busy
  machine). Start-up under tsx loaded undici
  (about a hundred modules through tsx's hooks), https-proxy-agent and pino-pretty, which only a
  proxy or a pretty log needs; loaded on first use, start to \`/healthz\` took 9 % less (median of nine
  starts each, interleaved with the previous code's on the same busy machine: 1,857 → 1,689 ms).

- **The figures and their versions on PostgreSQL** (#19; src/domain/coverage.ts, src/db/versions.ts,
  src/db/client.ts). \`EXPLAIN ANALYZE\` of the three statements that compute \`/覆盖率\` among ten
  counties: the grouped count is an index-only scan of the county's 100,310 entries (25–30 ms warm);
  the enterprises whose kept cover misses a day were found by the two cover ranges over all ten
  counties (17,225 rows on 11,571 heap pages, 50 ms warm, 190 ms cold) and only then kept to the
  county, because \`e."countyCode" || ''\` (there for SQLite's planner) hid the county from
  PostgreSQL's. Given the county plainly there, PostgreSQL ANDs the ranges' bitmaps with the county
  index's and visits the county's 1,142 pages (18–27 ms); SQLite keeps the \`|| ''\`. The grouped count
  now runs beside the two (at once on PostgreSQL's pool; in turn on SQLite, as before). The memo's hit
  read the data versions through Prisma (its JavaScript and a round trip, four to six times a
  message); they are now read on the client's own \`pg\` pool, given to Prisma's adapter, as a named
  prepared statement outside transactions (inside one, through it, as before).
  Runs of \`npm run bench -- 8\` alone on the shared machine (load 4–9): computed 1.26× before these
  changes; after, 0.97×, 1.43× and, with the count beside the others, 1.18× (75 against 64 ms); the
  hit 2.3–2.8× (5–6 ms against 2 ms at load 4): its remaining round trips are the version reads
  (about five a message) and the audit event.

- **Any number of open obligations** (src/domain/obligations.ts, src/db/batches.ts, #19 item 1):
  this run's first try of benchmark 7 on a quiet machine showed its two jobs never started. The mix
  gives the township 30,000 open obligations, and \`openObligations\` read them with Prisma's
  \`include\` of their latest extension (a nested order and \`take\`), which Prisma binds far beyond the
  parents' ids: P2029 from 999 parents on SQLite. It failed inside the leader's start-up (catching up
  on the day's reminders), and that left the leader with no outbox, schedule or jobs. Open obligations
  are now read in keyset batches of flat rows joined in memory; each step of the leader's start-up
  is tried on its own, so one that fails is logged and the rest still starts. A test county past
  SQLite's 32,766 bound values in every growing table (test/scale/big-county.test.ts) runs every
  reading command of each role, the sweep and the dashboard's data; the reads it found unbounded
  (unconfirmed visits with their contacts, the overdue items' last events, the sweep's ledger check,
  \`/日志\`'s members) are paged or batched (\`inBatches\`, \`byIdPages\`).
- **The trend in one sweep** (src/domain/coverage-sweep.ts, #23 item 5): \`/覆盖率 趋势\` counted each
  week as \`/覆盖率\` counts a day, 26 days per pass over the ledger (about 37 s on this county). It
  now reads the county once, in pages of 5,000 enterprises with their roster history and policies by
  id range, notes for each enterprise only the days on which what it counts changes (a roster row, the
  end of its kept cover, a policy's start or the day after its end), and sums the stretches between
  them over the weeks: the same cells as counting each day (tested cell by cell on the demo county and
  on a generated one with lapses, renewals, cancellations and roster changes, on both databases).
- **Less Prisma per message** (#19 item 4; src/db/versions.ts, src/db/serial.ts, src/domain/context.ts,
  migration \`member_campaign_version\`): a profile of the inbox and the bus on the 100,000 county
  showed 42% of the time in Prisma's client and 12% in SQLite: 12.3 statements a message, each
  0.3–1 ms of Prisma's JavaScript against 20–150 µs of SQL. The data versions a memoised read
  checks are read on the SQLite connection itself, synchronously (about 20 µs), whenever no
  transaction is open on it or inside the caller's own (otherwise through Prisma: never what an open
  transaction has not committed; a test holds a transaction open and checks); and every message's
  member (with its unit) and campaign are kept by the versions of Member, Unit and Campaign
  (triggers on both databases). The service's CPU time per message (inbox and bus, no HTTP, the same
  mix as benchmark 7, three pairs back to back) went from 4.6–6.1 to 3.7–4.3 ms.

- **Coverage among several counties** (src/domain/coverage.ts, #19 item 5): the corrections query
  (enterprises whose kept stretch misses today or a week back) read those of every county in the
  database and dropped the others in JavaScript: ten times the rows, and the policy look-ups for
  each, in a database of ten counties (/覆盖率 1.35 s there against 0.24 s on SQLite, at the same
  load). It now keeps to the county on each row found, without letting SQLite trade the two cover
  ranges for a scan of the county's index (40× slower there).

- **Kept cover** (src/domain/cover.ts, migration \`enterprise_cover\`): each enterprise carries the
  stretch of days over which its valid policies insure the same largest headcount (\`coverFrom\`,
  \`coverUntil\`, \`coverHeadcount\`), computed around today. Coverage reads every counted column from
  one covering index grouped by its own columns, then corrects, from the policies, only the
  enterprises whose stretch does not hold the day asked (a week back, or a refresh pending): the
  same figures as the join, for any day. Kept up to date by every writer of policies (\`/投保\` through
  \`recordPolicy\`, \`/撤销\`, the importer, the demo seed) in the same transaction; refreshed at start
  for stretches that no longer hold today, and rebuilt each night at 00:05, which also repairs and
  logs any enterprise a writer left wrong. The week-back figures share the one pass over the ledger.
- **Sweep:** policies ending within 30 days found through a new index (\`Policy(status, endOn)\`,
  migration \`policy_end_index\`) with flat queries instead of Prisma's nested reads, the reminder
  ledger asked once per thousand policies instead of once per policy, lines gathered without
  copying arrays.
- **Dates:** the \`Intl.DateTimeFormat\` behind \`dayIn\`/\`minuteIn\` made once per time zone instead of
  at every call (it showed in every profile).
- **Start-up:** exceljs (half a second to load) is loaded when a workbook is made, not with the
  service.
- **Export** (src/domain/ledger-export.ts, #19): it failed on this county after about 2 s with
  Prisma's P2029 (an \`include\` that bound every uninsured enterprise's id). Now the workbook is
  streamed (exceljs' \`WorkbookWriter\`, rows committed as written), each long sheet read in
  keyset-paged batches of 1,000 with flat selects joined in memory per batch, and in the service
  it runs in a child process as a stored job, so no message waits for it.
- **Correctness under load** (found by the attack tests, and what makes benchmark 1's last row
  hold): Prisma's better-sqlite3 adapter ran a query made outside a transaction, while another
  request's interactive transaction was open, inside that transaction — rolled back with it after
  success was reported (an inbox row, an outbox message marked sent). src/db/serial.ts makes such
  queries wait for the open transaction to end. The audit event of a read-only command and the
  inbox's "handled" mark now commit together.
- **Prisma's query compiler left on V8's baseline code** (src/db/client.ts): Prisma compiles each new
  query shape with a 3 MB WebAssembly module, and V8 recompiled its busy functions with TurboFan
  while the service started (each start-up query is a new shape): 70–80 MB of resident memory that
  stayed, and half a second of CPU. The tiering budget is raised a hundredfold before the first
  query. Query plans are cached, so steady throughput is unchanged (measured). RSS at rest under
  tsx 240 → 165–175 MB; the sweep's peak 288–296 → 207–211 MB, its first run 1.4–1.5 → 0.9 s.
- **Compiled start** (tsconfig.build.json, src/paths.ts): \`tsc -p tsconfig.build.json\` (2.5 s)
  emits the service, its commands and the JSON files it reads into dist/; \`node dist/src/main.js\`
  is ready in about 1.0 s with 130 MB at rest, against 1.6 s and 170 MB under tsx, whose loader
  thread handles every module (node_modules too) and holds a second V8 heap. The SQL migrations and
  the dashboard's page are read from the sources. Tests and the command-line tools stay on the
  sources; \`npm start\` still runs tsx (see "What is left").
- **Less loaded at start:** \`ws\` (60–100 ms to load) on the first long connection, not with the service.
- **Prepared statements reused** (src/db/statements.ts): Prisma's better-sqlite3 adapter prepared
  every statement, and asked its columns, anew for each query; the connection keeps the last 500 by
  SQL text and hands the adapter each one with the query's arguments.
- **/覆盖率 in 14 statements instead of 20**, 4 of them through Prisma's model API instead of 12: the
  campaign and its sectors read once (they were read three and two times), the corrections for
  today and a week back in one query (the days' range on the two cover indexes), the member and its
  unit in one statement (src/bot/bus.ts), and the view's reference rows (sectors, townships, lead
  units, targets, reports) as plain statements of the columns used — a Prisma model read costs about
  0.3 ms of JavaScript (0.5 ms with an \`include\`), the same rows through \`$queryRaw\` under 0.2 ms.
  Cells are summed in one pass. One /覆盖率 now costs 6–7 ms of one core, was 10–13; the figures are
  unchanged (benchmark 2's seven days, the coverage, dashboard and export tests, on both databases).
- **Messages in arrival order, one event-loop turn each** (src/bot/inbox.ts): SQLite's queries are
  synchronous, so a message's run never lets the event loop turn, and Node reads new requests, and
  accepts new connections (one per turn), only between turns. Under 50 connections whole batches
  ran in turns of half a second and more; a new connection waited a turn per connection ahead of
  it, and a few callers waited 6–9 s or timed out (a plain Node server that burns 12 ms per request
  does the same). Stored messages now run one at a time on SQLite (up to 8 on PostgreSQL, whose
  queries wait on the network), in the order they came, each started on a new turn: every caller
  waits about the same. Nothing is refused or dropped: the message is stored first, as before, and
  waits its turn; a retry joins the run under way.
- **The digest's chart drawn when sent, not in the sweep** (\`webhookChart\`, \`Dispatcher.prepare\`,
  \`drawCharts\` in src/domain/chart.ts): drawn inside the sweep, a Monday's dry sweep of this county
  took 2.5 s and 264 MB (the grid, ECharts, and the drawing); queued by name and drawn by the
  dispatcher when it posts it, the sweep stays near 0.6 s and 210 MB. Every chart is drawn in a
  short-lived process of its own (src/domain/raster-child.mjs, 1.1–1.7 s a chart), so the service
  does not keep the 150 MB of resvg's WebAssembly memory and the CJK font after the first one.

- **A memo of read results keyed by data versions** (src/db/versions.ts, migration \`data_version\`,
  #19): the table \`DataVersion\` counts the writes to each table that figures are read from
  (Enterprise, Policy, EnterpriseState, ProgressReport, Sector, Unit, SectorResponsibility, Target),
  bumped by SQL triggers in the writer's own statement and transaction (SQLite: one per table and
  kind of write, for each row; PostgreSQL: one function, a trigger per table for each statement).
  So every writer bumps it without knowing of it: commands through the bus, imports, the scheduler's
  cover rebuild, undo, the demo seed, the CLI, another process on the same file, a raw statement.
  A memoised read first reads the versions it depends on from the database (a replica's own, on
  PostgreSQL) and reuses its last result only while they stand; inside a transaction a result is
  reused but never kept. Kept this way: the ledger's cells of a day (the pass over 100,000
  enterprises, 85 ms), the standing progress reports, the views' reference rows (sectors,
  townships, lead units, targets) and whether a county holds demo data. A reply of \`/覆盖率\` on
  the county after the first is 10–20 ms of one core (a busy machine), most of it Prisma's
  JavaScript per statement; \`/上报\`'s check against the ledger uses the same day's cells. No timer:
  a result is never older than the versions it was read under.

## What is left, and why

- **p99 at 50 connections** is about 50 ÷ the throughput now that callers are served in turn: under
  a second on a quiet machine (0.4–0.8 s), near a second when other work shares the two cores. A
  county's callbacks arrive far below this rate; WeCom retries after 5 s.
- **Inbound under mixed load (benchmark 7): ≥ 0.15× the crypto-only server not reached (0.03–0.04×
  in each of this session's quiet runs, 154–229 req/s); p99 < 1 s holds (347–506 ms).** With the memo a message no longer pays for the ledger, its member,
  its campaign nor Prisma's version reads; what remains is the inbox row, the audit event and the
  handled mark with their transaction, and for a write its own statements, through Prisma: about
  3.7–4.3 ms of CPU a message in the service's process against the crypto-only handler's 0.2–0.4 ms;
  0.15× would leave about 1 ms with HTTP and crypto, on one core shared with the load generator while
  the export's child process has the other. What would close more of it: the inbox row, the audit
  event and the handled mark as prepared statements on the connection instead of Prisma's model
  writes (0.5–1 ms each, an interactive transaction 0.4 ms more) — a second way to write those
  tables beside Prisma's, which we have not wanted for a 4× gain a county's traffic does not need
  (its callbacks arrive far below even today's rate).
- **The data versions' cost on SQLite:** SQLite's triggers run for each row, about 3.5 µs a row
  written to a versioned table (100,000 rows updated in one statement: 40 ms without the trigger,
  390–430 ms with it). A command writes a few rows and does not notice; a bulk write (an import, the
  county's build here) pays about a third of a second per 100,000 rows. PostgreSQL's run once per
  statement.
- **A million on PostgreSQL, /覆盖率 computed: about 1.1× SQLite's, not ≤ 1×** (quiet runs; 0.97–1.43× on a
  busy machine). Each of its statements crosses a
  connection, and the grouped count's index-only scan of the county's 100,000 entries takes
  PostgreSQL's executor 25–30 ms where SQLite's pass in the process costs less; only kept per-cell
  counts (a table every writer of enterprises and policies updates in its own transaction, as the
  kept cover is kept) would make it reliably ≤ 1×: not done. The memo's hit (no target) pays a round
  trip per version read and for the audit event.
- **The sweep of ten counties** holds with a wide margin; its first run in a fresh process also pays
  Prisma's first use of each query shape (once a process, not once a county). A policy has no county,
  so each county's sweep reads the policies ending within 30 days of all ten and joins them to its own
  enterprises; a county code kept on policies would remove that tenfold read.
- **Loading the ten counties** is the product's seeding of each county, rows generated in JavaScript,
  and PostgreSQL keeping the migrated schema's indexes on every insert; loading into tables without
  indexes and building them after would be quicker but would not be the schema the service runs on.
- **Start-up under tsx** now holds on a quiet machine (1.3–1.45 s, with undici, https-proxy-agent and
  pino-pretty loaded on first use) and does not on a busy one (2–3 s): tsx's own start (about 0.3 s)
  and its loader handling each of several hundred modules. The compiled service meets the target with
  a margin: a deployment runs it (\`npm run build\` once, then \`npm run serve\`, README). \`npm start\`
  stays on tsx so that it always runs the sources as they are, for development and the demo. Next to
  load later, were it needed: zod (95 modules through tsx's hooks).
- **Sweep time:** the first sweep in a fresh process pays Prisma's first use of each query shape;
  the running service's daily sweep does not (the row's main figure).
- **Sweep peak RSS** now holds, with about 45 MB to spare: about 150 MB before the sweep (Node,
  tsx's loader thread, Prisma with its query compiler), about 55 MB more during it, most of it
  outside the JavaScript heap (which grows by 15–20 MB): the query compiler's memory and code for
  the sweep's new query shapes, and SQLite's. The compiled service starts about 40 MB lower.
- The kept cover is kept by the code that writes policies: a write that bypasses it (a raw SQL
  update, a new writer that forgets \`refreshCover\`) makes the day's figures wrong for that
  enterprise until the nightly rebuild repairs it and logs that it did. SQL triggers would close
  that gap but are not portable between the SQLite and PostgreSQL schemas.
`;
}
