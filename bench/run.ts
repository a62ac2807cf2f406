// `npm run bench`: the five benchmarks of issue 7, each against its baseline in the same run on
// the same machine; prints the table and writes BENCHMARKS.md. Bounded: a few minutes on 2 cores.
//   npm run bench                 all five
//   npm run bench -- 2 3          only those (the table is printed, BENCHMARKS.md left alone)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCounty, buildDemo } from './county.ts';
import { coverageBench } from './coverage.ts';
import { inboundBench } from './inbound.ts';
import { fmt, machine, ROOT, type Row, table, timed } from './lib.ts';
import { outboxBench } from './outbox.ts';
import { startupBench } from './startup.ts';
import { sweepBench } from './sweep.ts';

const only = process.argv.slice(2).filter((a) => /^[1-5]$/.test(a));
const wanted = (n: number) => !only.length || only.includes(String(n));
const dir = mkdtempSync(join(tmpdir(), 'anze-bench-'));
const rows: Row[] = [];
const started = performance.now();
const say = (m: string) => console.error(`[bench ${fmt((performance.now() - started) / 1000, 0)} s] ${m}`);

try {
  const m = machine();
  say(`${m.cpus} × ${m.model}, ${m.memoryGb} GB, Node ${m.node}, load ${m.load}`);
  const demo = await buildDemo(dir);
  if (wanted(1)) {
    say('1 inbound callbacks: bare Koa, crypto only, the service (50 connections, 10 s each)');
    rows.push(...(await inboundBench(demo, dir, { seconds: Number(process.env.BENCH_SECONDS ?? 10) })).rows);
  }
  if (wanted(2) || wanted(3)) {
    say('building the county ten times Anhua (one bulk insert)');
    const { result: county, wallMs } = await timed(() => buildCounty({ dir }));
    rows.push({ bench: '2 coverage', measure: 'synthetic county built (seed, bulk insert, kept cover)', value: `${county.enterprises.toLocaleString('en')} enterprises, ${county.policies.toLocaleString('en')} policies in ${fmt(wallMs / 1000, 0)} s` });
    if (wanted(2)) {
      say('2 /覆盖率 against the obvious SQL query');
      rows.push(...(await coverageBench(county)));
    }
    if (wanted(3)) {
      say('3 the daily reminder sweep (dry)');
      rows.push(...(await sweepBench(county.url)).rows);
    }
  }
  if (wanted(4)) {
    say('4 the outbox: 3,000 reminders to 30 robots');
    rows.push(...(await outboxBench(demo, dir)));
  }
  if (wanted(5)) {
    say('5 start-up and RSS at rest');
    rows.push(...(await startupBench(demo, dir)));
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
   is cached; the last row checks that every answered request was stored and audited once.
2. **Coverage.** \`/覆盖率\` through the bus (today's figures and the week-back ones for the change
   column) on a synthetic county of 100,000 enterprises and about 153,000 policies (23 townships,
   9 scopes, policies lapsed, ending, renewed early, cancelled), against the obvious aggregate —
   every enterprise joined to its policies valid on the day — as one SQL query on better-sqlite3.
   The figures (enterprises, insured, employees, insured persons per sector × township cell) are
   compared with that query's on seven days from 100 days back to 300 days ahead.
3. **Sweep.** \`Scheduler.runAt(…, { dryRun: true })\` on the same county on a Monday at 09:00 (every
   rule, the weekly digest too), in a fresh process; its peak RSS is that process's.
4. **Outbox.** 3,000 webhook reminders queued at once for 30 robots, drained by the dispatcher
   against the fake WeCom server (which answers 45009 past 20 a minute per robot), the clock moved
   one second per tick.
5. **Start-up.** \`node --import tsx src/main.ts\` (what \`npm start\` runs) on the migrated demo
   database, until \`/healthz\` answers; RSS 3 s later. Baseline: a bare Koa server started the same way.

## What was changed for these results

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
- **Correctness under load** (found by the attack tests, and what makes benchmark 1's last row
  hold): Prisma's better-sqlite3 adapter ran a query made outside a transaction, while another
  request's interactive transaction was open, inside that transaction — rolled back with it after
  success was reported (an inbox row, an outbox message marked sent). src/db/serial.ts makes such
  queries wait for the open transaction to end. The audit event of a read-only command and the
  inbox's "handled" mark now commit together.

## What is left, and why

- **Inbound, 0.5× the crypto-only server: not reached.** The crypto-only handler costs well under a
  millisecond; \`/覆盖率\` through the service costs 15–20 ms of one core (one connection: p50
  about 16 ms): about twenty Prisma queries (member, campaign, sectors, townships, lead units,
  targets, reports, the ledger pass and its corrections, the inbox row, the audit event, the handled
  state), each several hundred microseconds of Prisma's own JavaScript on top of SQLite's work,
  which CPU profiles show as the largest part. Reaching half the crypto-only throughput would need
  the hot path off Prisma (raw prepared statements) or figures cached across requests, which the
  issue excludes ("no cached replies") and which would need invalidation across processes (\`npm
  run chat\` and imports write the same file).
- **p99 at 50 connections: not reached.** 50 callbacks at once are about a second of work for one
  core; most answers come within half a second, but a few wait several seconds (at 5 connections
  p99 is a few hundred ms). The same tail shows without the serialising adapter and without the
  audit transaction; its cause is not found yet (the order in which Node runs 50 chains of Prisma
  queries is the suspect). A county's callbacks arrive far below this rate; WeCom's limit is 5 s.
- **Start-up, 1.5 s: not reached.** \`npm start\` runs TypeScript through tsx: Node with tsx's loader
  alone takes the bare Koa baseline's time; then loading the Prisma client, the commands and their
  domain modules (transpiled at each start), Prisma's query compiler and the first queries (the
  migration check, the campaign, the start-up catch-up). A build step to JavaScript would remove
  the transpiling; it is not done here.
- **Sweep time:** the first sweep in a fresh process pays Prisma's first use of each query shape;
  the running service's daily sweep does not (the row's main figure).
- **Sweep peak RSS** is mostly the process itself: Node, tsx and the Prisma client with its
  query compiler take 170–180 MB before the sweep starts (the RSS "at rest" beside it), and Prisma's
  first use of each query shape adds to it. The sweep's own data (7,000+ expiring policies) is a
  few megabytes.
- The kept cover is kept by the code that writes policies: a write that bypasses it (a raw SQL
  update, a new writer that forgets \`refreshCover\`) makes the day's figures wrong for that
  enterprise until the nightly rebuild repairs it and logs that it did. SQL triggers would close
  that gap but are not portable between the SQLite and PostgreSQL schemas.
`;
}
