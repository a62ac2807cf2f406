// Moves a county's SQLite database into a PostgreSQL deployment (`anze move-to-postgres`), which
// may hold other counties already: every table, each row renumbered after the target's own (ids in
// text too: src/domain/renumber.ts), in one PostgreSQL transaction that also checks the row counts
// and the coverage figures against the source before it commits. Nothing is written to the target
// when it already holds the county's campaign, when a row conflicts, or when a check fails (only
// its pending migrations are applied, as the service itself would apply them at start).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../clock.ts';
import { dayIn } from '../clock.ts';
import { connectDatabase, migrateDatabase, openDatabase, type Db, type Tx } from '../db/client.ts';
import { BULK_TRANSACTION } from '../db/transactions.ts';
import { DATA_VERSION_TABLE } from '../db/versions.ts';
import { translator, type Translate } from '../i18n.ts';
import { coverageBySector } from './coverage.ts';
import { SOFT_REFERENCES, TEXT_REFERENCES, type Shift } from './renumber.ts';

/** Something the operator can act on; the message (one line, in their language) says what. */
export class MoveError extends Error {}

/**
 * Bound values per INSERT: far below PostgreSQL's limit (65,535 per statement) and SQLite's
 * (32,766), so a batch never fails on the number of parameters, whatever a table's width.
 */
export const MAX_BOUND_VALUES = 10_000;

export interface MoveOptions {
  clock: Clock;
  /** The campaigns' time zone: "today" for the coverage figures. */
  timeZone: string;
  t?: Translate;
  /** Bound values per INSERT (MAX_BOUND_VALUES); smaller in tests to force many batches. */
  maxBoundValues?: number;
}

export interface MoveReport {
  /** Rows per table, in the order they were copied; `kept`: those of a merged table the target held already. */
  tables: { name: string; rows: number; kept: number }[];
  /** What each numbered table's ids were shifted by (all 0 in an empty target). */
  offsets: Record<string, number>;
  rows: number;
  /** Campaigns whose coverage figures were compared, with the number of sector rows each. */
  campaigns: { countyCode: string; countyName: string; sectors: number }[];
  day: string;
  batches: number;
}

interface Table {
  name: string;
  columns: string[];
  /** Columns that hold another row's id, by the table it is in (foreign keys and SOFT_REFERENCES). */
  refs: Map<string, string>;
  /** Columns that reference this same table (a policy renews a policy), with the column they reference. */
  selfRefs: { column: string; references: string }[];
}

/**
 * Tables whose rows the counties of a deployment share, merged by their unique key: a row the
 * target has already stays as it is (the leader lease, a national rule, a reminder to the
 * deployment's leaders that was sent already); rule settings must agree (checked).
 */
const MERGED = new Set(['Lease', 'RuleSetting', 'ReminderLedger']);

/** A source row as the target stores it: its id, its references and the ids in its text renumbered. */
function renumbering(tb: Table, shift: Shift): (row: Record<string, unknown>) => Record<string, unknown> {
  const text = TEXT_REFERENCES[tb.name] ?? {};
  return (row) => {
    const out = { ...row };
    for (const [column, v] of Object.entries(row)) {
      if (v === null || v === undefined) continue;
      const table = column === 'id' ? tb.name : tb.refs.get(column);
      if (table) out[column] = shift(table, Number(v));
      else if (text[column] && typeof v === 'string') out[column] = text[column](v, row, shift);
    }
    return out;
  };
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A PostgreSQL URL with its password hidden: for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<postgres url>';
  }
}

/**
 * Each database's own tables, never copied: the migration ledger, the write counts, and the media
 * ids the deployment's bot uploaded (valid for that bot only, and uploaded again when missing).
 */
const OWN_TABLES = ['_prisma_migrations', DATA_VERSION_TABLE, 'LongConnMedia'].map((n) => `'${n}'`).join(', ');

/**
 * The source's tables (all but SQLite's own and each database's own, OWN_TABLES), parents before children. Import runs are copied with their staged rows:
 * a run is the record of an import (its file, who ran it, its counts), and a run left unfinished
 * keeps its staged rows, so the target's recovery completes or rolls it back as the source's would.
 */
function sourceTables(source: Database.Database): Table[] {
  const names = source
    .prepare(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN (${OWN_TABLES}) ORDER BY name`,
    )
    .pluck()
    .all() as string[];
  const deps = new Map<string, Set<string>>();
  const tables = new Map<string, Table>();
  for (const name of names) {
    const columns = (source.pragma(`table_info(${quote(name)})`) as { name: string }[]).map((c) => c.name);
    const fks = source.pragma(`foreign_key_list(${quote(name)})`) as { table: string; from: string; to: string }[];
    deps.set(name, new Set(fks.filter((f) => f.table !== name).map((f) => f.table)));
    tables.set(name, {
      name,
      columns,
      refs: new Map([...fks.map((f) => [f.from, f.table] as const), ...Object.entries(SOFT_REFERENCES[name] ?? {})]),
      selfRefs: fks.filter((f) => f.table === name).map((f) => ({ column: f.from, references: f.to })),
    });
  }
  // Topological order (Kahn), by name among equals so the order is stable.
  const ordered: Table[] = [];
  const done = new Set<string>();
  while (ordered.length < names.length) {
    const ready = names.filter((n) => !done.has(n) && [...deps.get(n)!].every((d) => done.has(d) || !deps.has(d)));
    if (!ready.length)
      throw new Error(`foreign keys form a cycle among ${names.filter((n) => !done.has(n)).join(', ')}`);
    for (const n of ready) {
      done.add(n);
      ordered.push(tables.get(n)!);
    }
  }
  return ordered;
}

/** A SQLite value as the PostgreSQL column takes it. */
function converter(dataType: string): (v: unknown) => unknown {
  if (dataType === 'boolean') return (v) => (v === null ? null : v === 1 || v === 1n || v === true || v === '1');
  if (dataType.startsWith('timestamp'))
    return (v) => {
      if (v === null) return null;
      // Prisma writes ISO text; CURRENT_TIMESTAMP writes 'YYYY-MM-DD HH:MM:SS' in UTC; integers are ms.
      const text =
        typeof v === 'string' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(v) ? `${v.replace(' ', 'T')}Z` : v;
      const d = new Date(typeof text === 'bigint' ? Number(text) : (text as string | number));
      if (Number.isNaN(d.getTime())) throw new Error(`not a date: ${String(v)}`);
      return d.toISOString();
    };
  if (dataType === 'bigint') return (v) => (v === null ? null : String(v));
  return (v) => (typeof v === 'bigint' ? Number(v) : v);
}

/** Coverage figures of every campaign on `day`, by campaign id, as comparable text: without ids, which the move renumbers. */
async function figures(db: Tx, ids: number[], day: string, now: Date): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  // A row's `key` is its sector's id.
  const withoutIds = (key: string, v: unknown) => (key === 'id' || key === 'key' || key.endsWith('Id') ? undefined : v);
  for (const id of ids) out.set(id, JSON.stringify(await coverageBySector(db, id, day, now), withoutIds));
  return out;
}

/**
 * Copies the SQLite database `sqliteFile` into the PostgreSQL database `postgresUrl` (migrated
 * first), renumbered after the rows already there. Throws MoveError, with nothing written, when the
 * target already holds one of the source's campaigns (by key), a row conflicts with one already
 * there (a member, a group, an enterprise in both counties), shared rule settings disagree, or the
 * counts or figures differ.
 */
export async function moveToPostgres(sqliteFile: string, postgresUrl: string, opts: MoveOptions): Promise<MoveReport> {
  const t = opts.t ?? translator('zh-CN', 'terminal');
  const file = resolve(sqliteFile);
  if (!existsSync(file)) throw new MoveError(t('move.no_source', { path: file }));
  if (!/^postgres(ql)?:\/\//.test(postgresUrl)) throw new MoveError(t('move.not_postgres'));
  const now = opts.clock.now();
  const day = dayIn(now, opts.timeZone);
  const maxBound = Math.max(1, opts.maxBoundValues ?? MAX_BOUND_VALUES);

  // Both schemas current: the source as the service would leave it at start, the target migrated.
  await migrateDatabase(`file:${file}`);
  try {
    await migrateDatabase(postgresUrl);
  } catch (e) {
    throw new MoveError(t('move.target_unreachable', { url: redactUrl(postgresUrl), detail: message(e, postgresUrl) }));
  }

  const source = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  let sourceDb: Db | undefined;
  let target: Db | undefined;
  let copying: string | undefined;
  try {
    const tables = sourceTables(source);
    // One read transaction: every table as of one moment, even if something writes meanwhile.
    source.exec('BEGIN');
    const counts = new Map(
      tables.map((tb) => [
        tb.name,
        source
          .prepare(`SELECT count(*) FROM ${quote(tb.name)}`)
          .pluck()
          .get() as number,
      ]),
    );
    const campaigns = source
      .prepare('SELECT id, key, name, countyCode, countyName FROM "Campaign" ORDER BY id')
      .all() as {
      id: number;
      key: string;
      name: string;
      countyCode: string;
      countyName: string;
    }[];

    target = await connectDatabase(postgresUrl);
    // The source's figures, through the same code as the target's.
    sourceDb = openDatabase(`file:${file}`);
    const expected = await figures(
      sourceDb,
      campaigns.map((c) => c.id),
      day,
      now,
    );

    let batches = 0;
    const offsets = new Map<string, number>();
    const inserted = new Map<string, number>();
    await target.$transaction(async (tx) => {
      // The target's tables and columns must be the source's: no table copied halfway or left out.
      const columns = await tx.$queryRawUnsafe<{ table_name: string; column_name: string; data_type: string }[]>(
        `SELECT table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name NOT IN (${OWN_TABLES})`,
      );
      const targetColumns = new Map<string, Map<string, string>>();
      for (const c of columns) {
        if (!targetColumns.has(c.table_name)) targetColumns.set(c.table_name, new Map());
        targetColumns.get(c.table_name)!.set(c.column_name, c.data_type);
      }
      const differ = [
        ...tables.filter(
          (tb) =>
            !targetColumns.has(tb.name) ||
            targetColumns.get(tb.name)!.size !== tb.columns.length ||
            tb.columns.some((c) => !targetColumns.get(tb.name)!.has(c)),
        ),
        ...[...targetColumns.keys()].filter((n) => !counts.has(n)).map((name) => ({ name })),
      ].map((tb) => tb.name);
      if (differ.length) throw new MoveError(t('move.schema_differs', { tables: differ.join(', ') }));

      // Every table's writers wait until the move commits (readers do not): the offsets below stay
      // free, and two moves at once run one after the other.
      for (const tb of tables) await tx.$executeRawUnsafe(`LOCK TABLE ${quote(tb.name)} IN SHARE ROW EXCLUSIVE MODE`);
      // The county is there already when one of its campaigns is (by the campaign's key).
      const held = await tx.$queryRawUnsafe<{ key: string; name: string; countyCode: string; countyName: string }[]>(
        'SELECT key, name, "countyCode", "countyName" FROM "Campaign" WHERE key = ANY($1::text[]) ORDER BY 1',
        campaigns.map((c) => c.key),
      );
      if (held.length)
        throw new MoveError(
          t('move.county_exists', {
            county: `${held[0]!.countyName}（${held[0]!.countyCode}）`,
            campaign: held[0]!.name,
            url: redactUrl(postgresUrl),
          }),
        );

      // Each numbered table's rows follow the target's: new id = old id + the target's largest id
      // (0 in an empty target, where ids stay as they are). References follow the same offsets.
      const before = new Map<string, number>();
      for (const tb of tables) {
        const numbered = targetColumns.get(tb.name)!.get('id') === 'integer';
        const [row] = await tx.$queryRawUnsafe<{ n: number; max: number | null }[]>(
          `SELECT count(*)::int AS n, ${numbered ? 'max(id)' : 'NULL::int'} AS max FROM ${quote(tb.name)}`,
        );
        before.set(tb.name, row!.n);
        if (numbered) offsets.set(tb.name, row!.max ?? 0);
      }
      const shift: Shift = (table, id) => id + (offsets.get(table) ?? 0);

      for (const tb of tables) {
        copying = tb.name;
        const types = targetColumns.get(tb.name)!;
        const convert = tb.columns.map((c) => converter(types.get(c)!));
        const renumber = renumbering(tb, shift);
        const perBatch = Math.max(1, Math.floor(maxBound / tb.columns.length));
        const select = source.prepare(
          `SELECT rowid AS "__rowid", * FROM ${quote(tb.name)} WHERE rowid > ? ORDER BY rowid LIMIT ${perBatch}`,
        );
        const list = tb.columns.map(quote).join(', ');
        const onConflict = MERGED.has(tb.name) ? ' ON CONFLICT DO NOTHING' : '';
        // Self-references to a row not copied yet are written afterwards.
        const seen = new Map(tb.selfRefs.map((r) => [r.column, new Set<unknown>()]));
        const later: { key: Record<string, unknown>; column: string; value: unknown }[] = [];
        let rowsIn = 0;
        for (let after = Number.MIN_SAFE_INTEGER; ;) {
          const rows = select.all(after) as Record<string, unknown>[];
          if (!rows.length) break;
          after = rows.at(-1)!.__rowid as number;
          const values: unknown[] = [];
          const tuples: string[] = [];
          const deferred = new Set<string>();
          for (const row of rows) {
            for (const ref of tb.selfRefs) {
              const v = row[ref.column];
              if (
                v !== null &&
                !seen.get(ref.column)!.has(v) &&
                !rows.some((r) => r[ref.references] === v && r !== row)
              ) {
                later.push({ key: { [ref.references]: row[ref.references] }, column: ref.column, value: v });
                deferred.add(`${ref.column} ${String(row[ref.references])}`);
              }
            }
          }
          for (const ref of tb.selfRefs) for (const row of rows) seen.get(ref.column)!.add(row[ref.references]);
          for (const source of rows) {
            const row = renumber(source);
            for (const ref of tb.selfRefs)
              if (deferred.has(`${ref.column} ${String(source[ref.references])}`)) row[ref.column] = null;
            tuples.push(`(${tb.columns.map((c, i) => `$${values.push(convert[i]!(row[c]))}`).join(', ')})`);
          }
          rowsIn += await tx.$executeRawUnsafe(
            `INSERT INTO ${quote(tb.name)} (${list}) VALUES ${tuples.join(', ')}${onConflict}`,
            ...values,
          );
          batches++;
        }
        for (const l of later) {
          const [[k, v]] = Object.entries(l.key) as [[string, unknown]];
          const key = renumber({ [k]: v })[k];
          const value = renumber({ [l.column]: l.value })[l.column];
          await tx.$executeRawUnsafe(
            `UPDATE ${quote(tb.name)} SET ${quote(l.column)} = $1 WHERE ${quote(k)} = $2`,
            value,
            key,
          );
        }
        inserted.set(tb.name, rowsIn);
      }
      copying = undefined;

      // Settings the counties share must agree: the target keeps its own, so they must be the source's.
      const rules = source.prepare('SELECT key, "effectiveOn", value FROM "RuleSetting" ORDER BY id').all() as {
        key: string;
        effectiveOn: string;
        value: number;
      }[];
      const targetRules = new Map(
        (
          await tx.$queryRawUnsafe<{ key: string; effectiveOn: string; value: number }[]>(
            'SELECT key, "effectiveOn", value FROM "RuleSetting"',
          )
        ).map((r) => [`${r.key} ${r.effectiveOn}`, r.value]),
      );
      for (const r of rules) {
        const there = targetRules.get(`${r.key} ${r.effectiveOn}`);
        if (there !== r.value)
          throw new MoveError(
            t('move.rules_differ', { key: r.key, effectiveOn: r.effectiveOn, source: r.value, target: String(there) }),
          );
      }

      // Checks, before anything is committed: every source row is in the target (merged ones as the
      // target's own), and the target holds what it held plus what was added; then the figures.
      for (const tb of tables) {
        const [{ n }] = (await tx.$queryRawUnsafe<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM ${quote(tb.name)}`,
        )) as [{ n: number }];
        const expect = before.get(tb.name)! + (MERGED.has(tb.name) ? inserted.get(tb.name)! : counts.get(tb.name)!);
        if (n !== expect) throw new MoveError(t('move.count_differs', { table: tb.name, source: expect, target: n }));
      }
      const got = await figures(
        tx,
        campaigns.map((c) => shift('Campaign', c.id)),
        day,
        now,
      );
      for (const c of campaigns)
        if (got.get(shift('Campaign', c.id)) !== expected.get(c.id))
          throw new MoveError(t('move.figures_differ', { county: `${c.countyName}（${c.countyCode}）`, day }));

      // The id sequences continue after the largest id: last, as setval is not undone by a rollback.
      for (const tb of tables) {
        if (!offsets.has(tb.name)) continue;
        const [seq] = await tx.$queryRawUnsafe<{ seq: string | null }[]>(
          `SELECT pg_get_serial_sequence($1, 'id') AS seq`,
          quote(tb.name),
        );
        if (seq?.seq)
          await tx.$queryRawUnsafe(
            `SELECT setval($1::regclass, COALESCE((SELECT max(id) FROM ${quote(tb.name)}), 0) + 1, false)`,
            seq.seq,
          );
      }
    }, BULK_TRANSACTION);

    const copied = tables.map((tb) => ({
      name: tb.name,
      rows: counts.get(tb.name)!,
      kept: counts.get(tb.name)! - inserted.get(tb.name)!,
    }));
    return {
      tables: copied,
      offsets: Object.fromEntries(offsets),
      rows: copied.reduce((s, tb) => s + tb.rows, 0),
      campaigns: campaigns.map((c) => ({
        countyCode: c.countyCode,
        countyName: c.countyName,
        sectors: (JSON.parse(expected.get(c.id)!) as unknown[]).length,
      })),
      day,
      batches,
    };
  } catch (e) {
    if (e instanceof MoveError) throw e;
    const cause = driverError(e);
    if (cause?.originalCode === '23505')
      throw new MoveError(
        t('move.conflict', { table: cause.table ?? copying ?? '?', detail: message(e, postgresUrl) }),
      );
    throw new MoveError(t('move.failed', { detail: message(e, postgresUrl) }));
  } finally {
    if (source.inTransaction) source.exec('COMMIT');
    source.close();
    await sourceDb?.$disconnect();
    await target?.$disconnect();
  }
}

interface DriverCause {
  originalCode?: string;
  originalMessage?: string;
  table?: string;
}

/** What PostgreSQL said, under Prisma's wrapping of a raw query's failure. */
function driverError(e: unknown): DriverCause | undefined {
  return (e as { meta?: { driverAdapterError?: { cause?: DriverCause } } })?.meta?.driverAdapterError?.cause;
}

/** PostgreSQL's own message, else the error's first line, with the URL's password taken out should a driver repeat it. */
function message(e: unknown, url: string): string {
  let text =
    driverError(e)?.originalMessage ??
    (e instanceof Error ? e.message : String(e)).split('\n').find((l) => l.trim()) ??
    '';
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) text = text.replaceAll(password, '***');
  } catch {
    // not a URL: nothing to hide
  }
  return text.trim();
}
