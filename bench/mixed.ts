// Benchmark 7 (#19 item 4): inbound callbacks under a mixed load on the county ten times Anhua,
// while an export of the county and a chart run, against the crypto-only server of benchmark 1 in
// the same run. One message in five writes: a township liaison's /上报 (a progress report, which
// /覆盖率 shows) or /签收 of an obligation of its own; the rest are the leader's /覆盖率. After the
// warm-up, before the measured run, the leader asks for /导出 and /覆盖率 图: stored jobs the service
// runs in child processes of their own, running while the run is measured. Every write must be kept: each answered callback stored,
// handled and audited once, each /上报 a report, each /签收 an acknowledged obligation.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../src/db/client.ts';
import { bodies, drive, type InboundFigures, type Said } from './inbound.ts';
import { fmt, type Row, spawnTsx, stop } from './lib.ts';

const LIAISON = 'demo-liaison-dongping';
const LEADER = 'demo-leader';
/** The messages of one round of ten: two writes, eight reads. */
const REPORT = 3;
const ACK = 8;
/** Obligations to acknowledge: more than the service can take in the warm-up and the run. */
const OBLIGATIONS = 30_000;

/** Open obligations of the liaison's township, each acknowledged once: their ids, and the reports and acknowledgements already there. */
function openObligations(file: string, n: number): { ids: number[]; reports: number; acked: number; audited: number } {
  const raw = new Database(file);
  try {
    const { unitId } = raw.prepare(`SELECT "unitId" FROM "Member" WHERE "userId" = ?`).get(LIAISON) as {
      unitId: number;
    };
    const { id: campaignId } = raw.prepare(`SELECT id FROM "Campaign" ORDER BY id LIMIT 1`).get() as { id: number };
    const insert =
      raw.prepare(`INSERT INTO "Obligation" ("campaignId", "unitId", title, period, "dueOn", status, "createdAt", "updatedAt")
      VALUES (?, ?, ?, '2026', '2026-12-31', 'assigned', ?, ?)`);
    const now = Date.now();
    const ids: number[] = [];
    raw.transaction(() => {
      for (let i = 0; i < n; i++)
        ids.push(Number(insert.run(campaignId, unitId, `基准任务 ${i + 1}`, now, now).lastInsertRowid));
    })();
    const count = (sql: string, ...args: unknown[]) =>
      (raw
        .prepare(sql)
        .pluck()
        .get(...args) as number) ?? 0;
    return {
      ids,
      reports: count(`SELECT count(*) FROM "ProgressReport" WHERE "reportedBy" = ?`, LIAISON),
      acked: count(`SELECT count(*) FROM "Obligation" WHERE status = 'acknowledged'`),
      // Commands benchmark 2 ran on the county through the bus, with no inbound message of their own.
      audited: count(`SELECT count(*) FROM "AuditEvent" WHERE action = 'command'`),
    };
  } finally {
    raw.close();
  }
}

export async function mixedBench(
  countyFile: string,
  dir: string,
  crypto: InboundFigures,
  o: { seconds?: number; connections?: number } = {},
): Promise<Row[]> {
  const seconds = o.seconds ?? 10;
  const connections = o.connections ?? 50;
  const file = join(dir, 'mixed.db');
  copyFileSync(countyFile, file);
  const { ids: obligations, ...before } = openObligations(file, OBLIGATIONS);
  let acks = 0;
  const said = (i: number): Said => {
    if (i % 10 === REPORT) return { userId: LIAISON, text: `/上报 危化 ${i % 7}/9` };
    if (i % 10 === ACK) return { userId: LIAISON, text: `/签收 ${obligations[acks++ % obligations.length]}` };
    return { userId: LEADER, text: '/覆盖率' };
  };
  const all = bodies(OBLIGATIONS * 5, said, 'mixed');
  const slow = bodies(2, (i) => ({ userId: LEADER, text: i ? '/覆盖率 图' : '/导出' }), 'mixed-slow');
  const { proc, match } = await spawnTsx('bench/inbound.ts', ['serve', 'full', `file:${file}`]);
  const url = match[1]!;
  let run: Awaited<ReturnType<typeof drive>>;
  let started = Date.now();
  try {
    run = await drive(url, all, 0, seconds, connections, async () => {
      for (const s of slow) {
        const r = await fetch(url + s.path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: s.body,
        });
        if (!r.ok) throw new Error(`the slow command's callback failed: ${r.status}`);
      }
      // The measured run starts after the driver's 2 s pause.
      started = Date.now() + 2000;
    });
    if (run.used > all.length) throw new Error('not enough distinct callbacks for the mixed load');
  } finally {
    await stop(proc);
  }
  const db = openDatabase(`file:${file}`);
  try {
    const used = all.slice(0, run.used).map((_, i) => i % 10);
    const sent = { reports: used.filter((k) => k === REPORT).length, acks: used.filter((k) => k === ACK).length };
    const handled = await db.inboundMessage.count({ where: { state: 'handled' } });
    const audited = (await db.auditEvent.count({ where: { action: 'command' } })) - before.audited;
    const reports = (await db.progressReport.count({ where: { reportedBy: LIAISON } })) - before.reports;
    const reportsOk = await db.auditEvent.count({ where: { command: 'report', outcome: 'ok' } });
    const acked = (await db.obligation.count({ where: { status: 'acknowledged' } })) - before.acked;
    const acksOk = await db.auditEvent.count({ where: { command: 'ack', outcome: 'ok' } });
    const jobs = await db.job.findMany({ orderBy: { id: 'asc' } });
    const ended = Date.now();
    const jobLine = jobs
      .map((j) => {
        const took =
          j.startedAt && j.finishedAt ? `${fmt((j.finishedAt.getTime() - j.startedAt.getTime()) / 1000)} s` : '';
        const from = j.startedAt ? `from ${fmt((j.startedAt.getTime() - started) / 1000)} s` : '';
        return `${j.kind} ${j.state} ${from} ${took}`.trim();
      })
      .join('; ');
    const f = run.figures;
    const ratio = f.rps / crypto.rps;
    return [
      {
        bench: '7 mixed',
        measure: `mixed on the 100,000 county (1 in 5 a write), export and chart running: req/s, p50 / p99 ms`,
        value: `${fmt(f.rps, 0)} req/s, ${fmt(f.p50, 0)} / ${fmt(f.p99, 0)} ms${f.errors + f.non2xx ? ` (${f.errors} errors, ${f.non2xx} non-2xx)` : ''}`,
      },
      {
        bench: '7 mixed',
        measure: 'mixed ÷ crypto-only throughput',
        value: `${fmt(f.rps, 0)} req/s`,
        baseline: `${fmt(crypto.rps, 0)} req/s`,
        ratio,
        target: '≥ 0.15×',
        ok: ratio >= 0.15,
      },
      {
        bench: '7 mixed',
        measure: 'mixed: p99 latency (50 connections)',
        value: `${fmt(f.p99, 0)} ms`,
        target: '< 1000 ms',
        ok: f.p99 < 1000,
      },
      {
        bench: '7 mixed',
        measure: 'mixed: the export and the chart (jobs in child processes; seconds from the measured run’s start)',
        value: jobLine || 'none',
        ok: jobs.length === 2 && jobs.every((j) => j.startedAt !== null && j.startedAt.getTime() < ended),
      },
      // Every callback sent got its message handled and audited; a write asked for was made once.
      {
        bench: '7 mixed',
        measure: 'mixed: callbacks handled and audited once; /上报 reports and /签收 acknowledgements kept',
        value: `${handled} handled, ${audited} audited; ${reports} reports (${reportsOk} ok), ${acked} acknowledged (${acksOk} ok)`,
        baseline: `${run.answered} answered; ${sent.reports} /上报, ${sent.acks} /签收 sent`,
        ok:
          handled === audited &&
          handled >= run.answered &&
          reports === reportsOk &&
          acked === acksOk &&
          reportsOk <= sent.reports &&
          acksOk <= sent.acks,
      },
    ];
  } finally {
    await db.$disconnect();
  }
}
