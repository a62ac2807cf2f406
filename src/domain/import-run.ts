import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { providerOfClient } from '../db/dialect.ts';
import type { RosterState } from './roster.ts';

// A roster import as one recorded run (ImportRun), so that it never holds the database's write lock
// for its whole length and readers never see half a file:
//
//   reading  the file streams in; each batch of rows that change something is staged
//            (ImportRosterRow) in a short transaction of its own, the run's heartbeat with it;
//   staged   every row is read and checked, the report's counts are kept on the run;
//   applied  one set-based transaction moves the staged rows into Enterprise and EnterpriseState
//            and writes the audit event: the file appears whole, at once. Its length grows with
//            the rows that change (milliseconds for a re-import, seconds for 100,000 new ones);
//   rolled_back  a failure, or a run found dead while reading: its staged rows are deleted.
//
// A run whose process is gone (heartbeat older than STALE_MS) is finished by recoverImports, at the
// next import and at the service's start: completed when it was staged, rolled back otherwise.
// Staged rows never count anywhere until the run is applied.

/** How long a run may go without a heartbeat before it is taken for dead. */
export const STALE_MS = 60_000;
/** Rows compared and staged at a time. */
export const STAGE_BATCH = 2000;

export interface StagedEnterprise extends Omit<RosterState, 'aboveScale' | 'status'> {
  row: number;
  op: 'added' | 'updated' | 'unchanged';
  creditCode: string;
  name: string;
  /** Null: the file has no such column, the enterprise keeps its value. */
  aboveScale: boolean | null;
  status: string | null;
  keepState: boolean;
}

export interface RunStart {
  campaignId: number;
  countyCode: string;
  day: string;
  source: string;
  actor?: string | undefined;
}

/** Another import of the county is under way (its heartbeat is recent). */
export class ImportBusy extends Error {
  constructor(readonly since: Date) {
    super('import busy');
  }
}

const live = (clock: Clock) => new Date(clock.now().getTime() - STALE_MS);

/** Starts a run, after finishing any dead one; refuses while another import of the county is alive. */
export async function startRun(db: Db, s: RunStart, clock: Clock): Promise<number> {
  await recoverImports(db, clock);
  // Written first, then checked: a transaction that reads before it writes cannot wait for another
  // process's write on SQLite (SQLITE_BUSY_SNAPSHOT), one that writes first waits its turn.
  return db.$transaction(async (tx) => {
    const now = clock.now();
    const run = await tx.importRun.create({
      data: { kind: 'roster', ...s, actor: s.actor ?? null, state: 'reading', startedAt: now, aliveAt: now },
    });
    const busy = await tx.importRun.findFirst({
      where: {
        id: { not: run.id },
        countyCode: s.countyCode,
        state: { in: ['reading', 'staged'] },
        aliveAt: { gte: live(clock) },
      },
    });
    if (busy) throw new ImportBusy(busy.startedAt);
    return run.id;
  });
}

/** The fields of a staged row, in the order of the JSON arrays that carry a batch. */
const STAGED = [
  ['row', 'INTEGER', 'int'],
  ['op', 'TEXT', 'text'],
  ['creditCode', 'TEXT', 'text'],
  ['name', 'TEXT', 'text'],
  ['sectorId', 'INTEGER', 'int'],
  ['townshipId', 'INTEGER', 'int'],
  ['aboveScale', 'BOOLEAN', 'boolean'],
  ['employees', 'INTEGER', 'int'],
  ['status', 'TEXT', 'text'],
  ['keepState', 'BOOLEAN', 'boolean'],
] as const;

/**
 * A list of values as one bound parameter, its elements read in SQL as a table: SQLite's json_each,
 * PostgreSQL's jsonb_array_elements. One value, however long the list (no limit on bound values),
 * and no statement of a thousand placeholders for the driver to build.
 */
export function jsonRows(db: Tx, values: unknown[]): { rows: Prisma.Sql; at(i: number, sqlType: string): Prisma.Sql } {
  const json = JSON.stringify(values);
  if (providerOfClient(db) === 'postgresql')
    return {
      rows: Prisma.sql`jsonb_array_elements(CAST(${json} AS jsonb)) AS j(value)`,
      at: (i, type) => Prisma.raw(`CAST(j.value->>${i} AS ${type})`),
    };
  return { rows: Prisma.sql`json_each(${json}) AS j`, at: (i) => Prisma.raw(`json_extract(j.value, '$[${i}]')`) };
}

/** Stages rows of a run in one short transaction, with its heartbeat: a statement per batch, the batch one JSON value. */
export async function stageRows(db: Db, runId: number, rows: StagedEnterprise[], clock: Clock): Promise<void> {
  await db.$transaction(async (tx) => {
    await alive(tx, runId, clock);
    const pg = providerOfClient(tx) === 'postgresql';
    for (let i = 0; i < rows.length; i += STAGE_BATCH) {
      const j = jsonRows(
        tx,
        rows.slice(i, i + STAGE_BATCH).map((r) => STAGED.map(([f]) => r[f])),
      );
      const columns = Prisma.raw(STAGED.map(([f]) => `"${f}"`).join(', '));
      const values = Prisma.join(STAGED.map(([, lite, post], n) => j.at(n, pg ? post : lite)));
      await tx.$executeRaw`INSERT INTO "ImportRosterRow" ("runId", ${columns}) SELECT ${runId}, ${values} FROM ${j.rows} WHERE true`;
    }
  });
}

/** The run's heartbeat; throws when it is no longer reading or staged (recovered by another process). */
async function alive(tx: Tx, runId: number, clock: Clock): Promise<void> {
  const { count } = await tx.importRun.updateMany({
    where: { id: runId, state: { in: ['reading', 'staged'] } },
    data: { aliveAt: clock.now() },
  });
  if (!count) throw new Error(`import run ${runId} was finished by another process`);
}

/** Marks the heartbeat (between batches that stage nothing). */
export const heartbeat = (db: Db, runId: number, clock: Clock) => alive(db, runId, clock);

/** Every row read: the counts for the report and the audit trail are kept on the run. */
export async function markStaged(db: Db, runId: number, counts: Record<string, unknown>, clock: Clock) {
  await db.importRun.update({
    where: { id: runId },
    data: { state: 'staged', counts: JSON.stringify(counts), aliveAt: clock.now() },
  });
}

/**
 * Applies a staged run in one transaction: updated enterprises, added ones, that day's history rows,
 * the audit event. Set-based statements over the staged rows: their time grows with the rows that
 * change, not with the file.
 */
export async function applyRun(db: Db, runId: number, clock: Clock): Promise<void> {
  await db.$transaction(
    async (tx) => {
      const now = clock.now();
      const { count } = await tx.importRun.updateMany({
        where: { id: runId, state: 'staged' },
        data: { state: 'applied', finishedAt: now, aliveAt: now },
      });
      if (!count) throw new Error(`import run ${runId} is not staged`);
      const run = await tx.importRun.findUniqueOrThrow({ where: { id: runId } });
      // PostgreSQL types a parameter in a SELECT list as text; SQLite keeps a time as the adapter binds it.
      const at = providerOfClient(tx) === 'postgresql' ? Prisma.sql`CAST(${now} AS TIMESTAMP(3))` : Prisma.sql`${now}`;
      await tx.$executeRaw`UPDATE "Enterprise" SET name = s.name, "sectorId" = s."sectorId", "townshipId" = s."townshipId",
          "aboveScale" = COALESCE(s."aboveScale", "Enterprise"."aboveScale"), employees = s.employees,
          status = COALESCE(s.status, "Enterprise".status), "updatedAt" = ${now}
        FROM "ImportRosterRow" s WHERE s."runId" = ${runId} AND s.op = 'updated' AND "Enterprise"."creditCode" = s."creditCode"`;
      await tx.$executeRaw`INSERT INTO "Enterprise" ("countyCode", "creditCode", name, "sectorId", "townshipId", "aboveScale",
          employees, status, "isDemo", "createdAt", "updatedAt")
        SELECT CAST(${run.countyCode} AS TEXT), s."creditCode", s.name, s."sectorId", s."townshipId", COALESCE(s."aboveScale", false),
          s.employees, COALESCE(s.status, 'operating'), false, ${at}, ${at}
        FROM "ImportRosterRow" s WHERE s."runId" = ${runId} AND s.op = 'added'
        ON CONFLICT ("creditCode") DO NOTHING`;
      // The roster's history (src/domain/roster.ts keepState): the day's row, as the enterprise now is.
      await tx.$executeRaw`INSERT INTO "EnterpriseState" ("enterpriseId", "countyCode", "validFrom", status, "sectorId",
          "townshipId", "aboveScale", employees, added)
        SELECT e.id, e."countyCode", CAST(${run.day} AS TEXT), e.status, e."sectorId", e."townshipId", e."aboveScale", e.employees,
          s.op = 'added'
        FROM "ImportRosterRow" s JOIN "Enterprise" e ON e."creditCode" = s."creditCode"
        WHERE s."runId" = ${runId} AND s."keepState"
        ON CONFLICT ("enterpriseId", "validFrom") DO UPDATE SET status = excluded.status, "sectorId" = excluded."sectorId",
          "townshipId" = excluded."townshipId", "aboveScale" = excluded."aboveScale", employees = excluded.employees,
          added = ("EnterpriseState".added OR excluded.added)`;
      await tx.auditEvent.create({
        data: {
          at: now,
          actorUserId: run.actor,
          channel: 'cli',
          command: 'import',
          action: `import_${run.kind}`,
          outcome: 'ok',
          detail: JSON.stringify({ source: run.source, run: run.id, ...JSON.parse(run.counts ?? '{}') }),
        },
      });
    },
    { timeout: 5 * 60_000, maxWait: 30_000 },
  );
  await dropRows(db, runId);
}

/** Takes a run back: it is marked rolled back and its staged rows go; nothing of it was ever applied. */
export async function rollBackRun(db: Db, runId: number, clock: Clock): Promise<void> {
  await db.importRun.updateMany({
    where: { id: runId, state: { in: ['reading', 'staged'] } },
    data: { state: 'rolled_back', finishedAt: clock.now() },
  });
  await dropRows(db, runId);
}

/** Deletes a finished run's staged rows, a batch per short transaction. */
async function dropRows(db: Db, runId: number): Promise<void> {
  for (;;) {
    const n = await db.$executeRaw`DELETE FROM "ImportRosterRow" WHERE "runId" = ${runId} AND "row" IN
      (SELECT "row" FROM "ImportRosterRow" WHERE "runId" = ${runId} ORDER BY "row" LIMIT 20000)`;
    if (n === 0) return;
  }
}

/**
 * Finishes the runs whose process is gone: a staged one is applied (the file was read whole and
 * checked), one still reading is rolled back. Left-over staged rows of finished runs are deleted.
 */
export async function recoverImports(db: Db, clock: Clock): Promise<{ completed: number[]; rolledBack: number[] }> {
  const dead = await db.importRun.findMany({
    where: { state: { in: ['reading', 'staged'] }, aliveAt: { lt: live(clock) } },
    orderBy: { id: 'asc' },
  });
  const done = { completed: [] as number[], rolledBack: [] as number[] };
  for (const run of dead) {
    if (run.state === 'staged') {
      await applyRun(db, run.id, clock);
      done.completed.push(run.id);
    } else {
      await rollBackRun(db, run.id, clock);
      done.rolledBack.push(run.id);
    }
  }
  return done;
}
