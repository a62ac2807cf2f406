import { parseCount, parseDay, wordTable, type DayField } from '../core/words.ts';
import type { Db, Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';
import { creditCodeCheck, isCreditCode, normaliseCreditCode } from './credit-code.ts';
import {
  findEnterprise,
  findInsurer,
  findSector,
  findTownship,
  nearestKnown,
  type EnterpriseRef,
  type UnitRef,
} from './directory.ts';
import { refreshCover } from './cover.ts';
import { rectifyInsurance, type Rectifier } from './inspections.ts';
import { sameState, type RosterState } from './roster.ts';
import {
  applyRun,
  heartbeat,
  ImportBusy,
  jsonRows,
  markStaged,
  rollBackRun,
  stageRows,
  STAGE_BATCH,
  startRun,
  type StagedEnterprise,
} from './import-run.ts';
import { minuteIn, type Clock } from '../clock.ts';
import { UserError } from '../core/errors.ts';
import { checkPolicy, parseYuanToFen, recordPolicy, type PolicyWarning } from './policies.ts';

// The county's 台账 from Excel or CSV: the enterprise roster and the policies. Columns are found by
// their Chinese headers (and the usual variants); each row is checked on its own: bad rows are
// skipped and reported, the good ones applied together, and a crash leaves the database as it was.
// Importing the same file again changes nothing. A roster streams in as one recorded run
// (src/domain/import-run.ts): compared with the enterprises a batch at a time, its changes staged
// in short transactions and applied together in one set-based transaction at the end. Policies are
// applied in one transaction.

export type LedgerKind = 'roster' | 'policies';

/** A row of a sheet, with its number as a spreadsheet program shows it. */
export interface SheetRow {
  row: number;
  cells: string[];
}

/** A sheet as read whole. */
export interface Sheet {
  name?: string;
  rows: SheetRow[];
}

/** Sheets as the importer takes them: read whole, or streaming in (src/domain/ledger-file.ts openLedgerFile). */
export type Sheets =
  | Iterable<{ name?: string; rows: Iterable<SheetRow> | AsyncIterable<SheetRow> }>
  | AsyncIterable<{ name?: string; rows: Iterable<SheetRow> | AsyncIterable<SheetRow> }>;

export interface ImportReport {
  kind: LedgerKind;
  rows: number;
  added: number;
  updated: number;
  unchanged: number;
  rejected: { row: number; reason: string }[];
  /** Rows applied that need a look (src/domain/policies.ts checkPolicy). */
  warnings: { row: number; warning: string }[];
  /** Rows below the header passed over: totals (合计, 小计) and notes or signatures (注, 填表人). */
  skipped: { row: number; why: 'total' | 'note' }[];
  /** The sheet read, when the workbook has several (the first whose headers fit). */
  sheet?: string;
}

/** The file cannot be imported at all (unreadable, or a required column missing). */
export class ImportFileError extends Error {}

/** Header words per field, after normalising (no spaces, no brackets, no required-marks). */
const COLUMNS = {
  roster: {
    name: ['企业名称', '单位名称', '名称', '生产经营单位名称', '企业'],
    creditCode: ['统一社会信用代码', '信用代码', '社会信用代码', '统一代码'],
    sector: ['行业', '所属行业', '行业领域', '行业类别'],
    township: ['乡镇', '所属乡镇', '所在乡镇', '乡镇街道'],
    aboveScale: ['是否规上', '规上企业', '规上', '是否规模以上', '规模以上', '规模以上企业'],
    employees: ['从业人数', '职工人数', '员工人数', '从业人员数', '从业人员'],
    status: ['经营状态', '状态', '企业状态'],
  },
  policies: {
    policyNo: ['保单号', '保险单号', '保单编号', '保单号码'],
    insurer: ['保险机构', '保险公司', '承保机构', '承保公司'],
    enterprise: ['企业', '企业名称', '投保企业', '投保单位', '被保险人', '单位名称'],
    creditCode: ['统一社会信用代码', '信用代码', '社会信用代码'],
    startOn: ['起保日期', '开始日期', '保险起期', '起保日', '生效日期', '保险期限起', '保险期间起'],
    endOn: ['止保日期', '结束日期', '保险止期', '止保日', '到期日期', '终保日期', '保险期限止', '保险期间止'],
    headcount: ['参保人数', '投保人数', '承保人数'],
    liability: ['每人责任限额', '责任限额', '每人限额'],
    premium: ['保费', '保险费', '保费金额'],
  },
} as const;
const REQUIRED: Record<LedgerKind, string[][]> = {
  // Each inner list: one of these fields must be there.
  roster: [['name'], ['creditCode'], ['sector'], ['township'], ['employees']],
  policies: [['policyNo'], ['insurer'], ['enterprise', 'creditCode'], ['startOn'], ['endOn'], ['headcount']],
};
/** How many rows from the top may come before the header (titles, notes). */
const HEADER_SEARCH = 10;

const YES = ['是', 'y', 'yes', '1', 'true', '√', '✓', '规上', '规模以上'];
const NO = ['否', 'n', 'no', '0', 'false', '×', '', '规下'];
const STATUS = wordTable({
  operating: ['在营', '营业', '正常', '存续', '开业', '生产'],
  stopped: ['停产', '停业', '歇业', '停工', '停产整顿'],
  closed: ['关闭', '关停', '注销', '吊销'],
});

/** The usual name of a field's column, for messages. */
const usualName = (kind: LedgerKind, field: string): string =>
  (COLUMNS[kind] as Record<string, readonly string[]>)[field]![0]!;

/** A header cell as compared: no bracketed notes or units, spaces, required-marks, or a trailing unit (保费/万元). */
const normalise = (header: string) =>
  header
    .replace(/[（(][^）)]*[）)]/g, '')
    .replace(/[\s*＊:：]/g, '')
    .replace(/[/／]?(万元|元|人|名|家|个)$/, '');

interface Column {
  index: number;
  header: string;
  scale: number;
}

const fieldOf = (kind: LedgerKind, header: string) =>
  Object.entries(COLUMNS[kind]).find(([, names]) => (names as readonly string[]).includes(normalise(header)))?.[0];

/** The fields a header row names, a cell taken as itself or, below a merged heading, with the one above. */
function headerColumns(kind: LedgerKind, top: string[], below?: string[]): Map<string, Column> {
  const columns = new Map<string, Column>();
  const width = Math.max(top.length, below?.length ?? 0);
  // A merged heading's text is in its first cell only (a streaming reader sees no merges): it
  // stands over the empty cells after it that have a sub-heading.
  let heading = '';
  for (let index = 0; index < width; index++) {
    const [a, b] = [(top[index] ?? '').trim(), (below?.[index] ?? '').trim()];
    heading = a || (b ? heading : '');
    // Heading and sub-heading together (保险期限 over 起), the sub-heading, or the heading alone.
    const header = [heading + b, b, a].find((h) => h && fieldOf(kind, h));
    const field = header && fieldOf(kind, header);
    // 万元 in a money column's header: the figures are in units of ten thousand yuan.
    if (field && !columns.has(field))
      columns.set(field, { index, header, scale: header.includes('万元') ? 10_000 : 1 });
  }
  return columns;
}

/** Where the data starts: the last header row, each field's column, and the rows after the top ones. */
interface Found {
  name?: string | undefined;
  headerRow: number;
  columns: Map<string, Column>;
  /** The sheet's rows from the header's on: the top rows already read, then the rest as they stream in. */
  rows: AsyncIterable<SheetRow>;
  /** How many sheets the file had before the one read, and after it once every row is read. */
  sheets: () => number;
}

/** The header row among a sheet's top rows (possibly over two rows), or the fields still missing. */
function headerIn(kind: LedgerKind, top: SheetRow[]): { headerRow: number; columns: Map<string, Column> } | string[][] {
  const missingOf = (columns: Map<string, Column>) => REQUIRED[kind].filter((any) => !any.some((f) => columns.has(f)));
  let best: string[][] = REQUIRED[kind];
  for (const [i, { row, cells }] of top.slice(0, HEADER_SEARCH).entries()) {
    const one = headerColumns(kind, cells);
    const next = top[i + 1];
    // A second header row: sub-headings under merged ones, or units; never a row of figures.
    const two = next && !next.cells.some((c) => /\d/.test(c)) ? headerColumns(kind, cells, next.cells) : null;
    if (two && !missingOf(two).length && (missingOf(one).length || two.size >= one.size))
      return { headerRow: next!.row, columns: two };
    const missing = missingOf(one);
    if (!missing.length) return { headerRow: row, columns: one };
    if (missing.length < best.length) best = missing;
  }
  return best;
}

/**
 * The sheet and header row to read: the first sheet whose top rows name every required column.
 * Sheets before it (a cover, instructions) are passed over, those after it read past once its rows are.
 */
async function findColumns(kind: LedgerKind, sheets: Sheets, t: Translate): Promise<Found> {
  const it = (Symbol.asyncIterator in sheets ? sheets[Symbol.asyncIterator]() : sheets[Symbol.iterator]()) as
    | AsyncIterator<{ name?: string; rows: Iterable<SheetRow> | AsyncIterable<SheetRow> }>
    | Iterator<{ name?: string; rows: Iterable<SheetRow> | AsyncIterable<SheetRow> }>;
  let best: string[][] | null = null;
  let count = 0;
  for (let s = await it.next(); !s.done; s = await it.next()) {
    count++;
    const source = s.value.rows;
    const rows = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()) as
      AsyncIterator<SheetRow> | Iterator<SheetRow>;
    const top: SheetRow[] = [];
    for (let r = await rows.next(); !r.done; r = await rows.next()) {
      top.push(r.value);
      if (top.length > HEADER_SEARCH) break;
    }
    const found = headerIn(kind, top);
    if (!Array.isArray(found)) {
      const rest = async function* () {
        yield* top;
        for (let r = await rows.next(); !r.done; r = await rows.next()) yield r.value;
        // The sheets after it, passed over.
        for (let n = await it.next(); !n.done; n = await it.next()) count++;
      };
      return { name: s.value.name, ...found, rows: rest(), sheets: () => count };
    }
    if (!best || found.length < best.length) best = found;
  }
  const names = (best ?? REQUIRED[kind]).map((any) => any.map((f) => usualName(kind, f)).join(t('import.or')));
  throw new ImportFileError(t('import.missing_columns', { columns: names.join('、') }));
}

/** Why a row below the header is no enterprise or policy: a total, or a note or signature line. */
function passedOver(cells: string[], afterNote: boolean): 'total' | 'note' | null {
  const filled = cells.map((c) => c.replace(/\s/g, '')).filter(Boolean);
  if (filled.some((c) => /^\D{0,6}(合计|小计|总计|共计)[:：]?$/.test(c))) return 'total';
  if (
    /^(注|备注|说明|填表说明|填表人|填报人|审核人|制表人|负责人|联系人|联系电话|填表日期|填报日期)([:：、.．\d]|$)/.test(
      filled[0] ?? '',
    )
  )
    return 'note';
  // The lines of a note go on below it, one cell each.
  return afterNote && filled.length === 1 ? 'note' : null;
}

export interface ImportOptions {
  campaignId: number;
  /** The import's day: relative dates (今天) and the year of 10月31日 are read against it. */
  day: string;
  now: Date;
  t: Translate;
  /** For the audit trail: the file and who ran it. */
  source: string;
  actor?: string;
  /** The campaign's timezone, for times told to the operator. */
  timeZone: string;
  /** The roster run's heartbeats (src/domain/import-run.ts); `now` throughout when not given. */
  clock?: Clock;
  /** Stops the import between rows (Ctrl-C): it is rolled back and says so. */
  signal?: AbortSignal;
  /** Called every `every` rows (500 by default) with the rows read so far. */
  progress?: (rows: number) => void;
  every?: number;
}

/** A row's values by field, and how to name a field's column in a reason. */
class Row {
  constructor(
    readonly row: number,
    private readonly cells: string[],
    private readonly columns: Map<string, Column>,
    private readonly kind: LedgerKind,
  ) {}
  /** Whether the file has the column at all; a missing optional column leaves the ledger's value. */
  column(field: string): boolean {
    return this.columns.has(field);
  }
  /** Whether this row has a value there. */
  has(field: string): boolean {
    return this.get(field) !== '';
  }
  get(field: string): string {
    const c = this.columns.get(field);
    return c ? (this.cells[c.index] ?? '').trim() : '';
  }
  header(field: string): string {
    return this.columns.get(field)?.header ?? usualName(this.kind, field);
  }
  scale(field: string): number {
    return this.columns.get(field)?.scale ?? 1;
  }
}
type Outcome = 'added' | 'updated' | 'unchanged';
/** A reason a row was rejected: a locale key and its parameters. */
class RowError extends Error {
  constructor(
    readonly key: string,
    readonly params: Record<string, string | number> = {},
  ) {
    super(key);
  }
}

/** Imports a roster or a policy sheet; see the comment at the top of this file. */
export async function importLedger(db: Db, kind: LedgerKind, sheets: Sheets, o: ImportOptions): Promise<ImportReport> {
  const found = await findColumns(kind, sheets, o.t);
  const report: ImportReport = {
    kind,
    rows: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    rejected: [],
    warnings: [],
    skipped: [],
  };
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: o.campaignId } });
  const rows = dataRows(kind, found, report, o);
  if (kind === 'roster') await importRoster(db, campaign, rows, report, o);
  else await importPolicies(db, campaign, rows, report, o);
  if (found.sheets() > 1 && found.name) report.sheet = found.name;
  report.rejected.sort((x, y) => x.row - y.row);
  return report;
}

/** The data rows below the header, totals and notes passed over (and listed), progress told every `every` rows. */
async function* dataRows(kind: LedgerKind, found: Found, report: ImportReport, o: ImportOptions): AsyncIterable<Row> {
  const { columns } = found;
  const every = o.every ?? 500;
  for await (const { row, cells } of found.rows) {
    if (o.signal?.aborted) throw new ImportFileError(o.t('import.interrupted'));
    if (row <= found.headerRow || !cells.some((c) => c.trim() !== '')) continue;
    const why = passedOver(cells, report.skipped.at(-1)?.why === 'note');
    if (why) {
      report.skipped.push({ row, why });
      continue;
    }
    yield new Row(row, cells, columns, kind);
    if (++report.rows % every === 0) o.progress?.(report.rows);
  }
}

/** Runs a row's checks; a refused row (its rule named: the row's own checks, and the policy checks shared with /投保) is reported. */
async function checked<T>(
  report: ImportReport,
  o: ImportOptions,
  r: Row,
  seen: Map<string, number>,
  check: (r: Row, seen: Map<string, number>) => Promise<T>,
): Promise<T | null> {
  const row = r.row;
  try {
    return await check(r, seen);
  } catch (e) {
    if (!(e instanceof RowError || e instanceof UserError)) throw e;
    report.rejected.push({ row, reason: o.t(e.key, e.params) });
    return null;
  }
}

const auditCounts = (report: ImportReport) => {
  const { rejected, warnings, skipped, kind: _kind, sheet: _sheet, ...counts } = report;
  return { ...counts, rejected: rejected.length, warnings: warnings.length, skipped: skipped.length };
};

/**
 * The roster as one recorded run (src/domain/import-run.ts): rows are checked as they stream in,
 * compared a batch at a time with the enterprises they name (one query per batch), and those that
 * change something are staged; the run is applied at the end in one set-based transaction, or
 * rolled back on any failure.
 */
async function importRoster(
  db: Db,
  campaign: CampaignRow,
  rows: AsyncIterable<Row>,
  report: ImportReport,
  o: ImportOptions,
): Promise<void> {
  const clock = o.clock ?? { now: () => o.now };
  let runId: number;
  try {
    runId = await startRun(
      db,
      { campaignId: campaign.id, countyCode: campaign.countyCode, day: o.day, source: o.source, actor: o.actor },
      clock,
    );
  } catch (e) {
    if (e instanceof ImportBusy)
      throw new ImportFileError(o.t('import.busy', { since: minuteIn(e.since, o.timeZone) }));
    throw e;
  }
  try {
    const check = rosterCheck(db, campaign);
    const seen = new Map<string, number>();
    let batch: CheckedEnterprise[] = [];
    const flush = async () => {
      const staged = await compareRoster(db, campaign, o.day, batch, report, o);
      if (staged.length) await stageRows(db, runId, staged, clock);
      else await heartbeat(db, runId, clock);
      batch = [];
      // On SQLite every step above settles without returning to the event loop: let signals in (Ctrl-C).
      await new Promise((resolve) => setImmediate(resolve));
    };
    for await (const r of rows) {
      const e = await checked(report, o, r, seen, check);
      if (e) batch.push(e);
      if (batch.length >= STAGE_BATCH) await flush();
    }
    await flush();
    await markStaged(db, runId, auditCounts(report), clock);
    await applyRun(db, runId, clock);
  } catch (e) {
    await rollBackRun(db, runId, clock);
    throw e;
  }
}

/** Policies, applied in one transaction (each row checked against the ledger as /投保 checks it). */
async function importPolicies(
  db: Db,
  campaign: CampaignRow,
  rows: AsyncIterable<Row>,
  report: ImportReport,
  o: ImportOptions,
): Promise<void> {
  const all: Row[] = [];
  for await (const r of rows) all.push(r);
  await db.$transaction(
    async (tx) => {
      const warn = (row: number, w: PolicyWarning) => report.warnings.push({ row, warning: o.t(w.key, w.params) });
      const apply = policyRow(tx, campaign, o.day, warn, { by: o.actor ?? o.source, at: o.now, t: o.t });
      const seen = new Map<string, number>();
      for (const r of all) {
        const outcome = await checked(report, o, r, seen, apply);
        if (outcome) report[outcome]++;
      }
      await tx.auditEvent.create({
        data: {
          at: o.now,
          actorUserId: o.actor ?? null,
          channel: 'cli',
          command: 'import',
          action: 'import_policies',
          outcome: 'ok',
          detail: JSON.stringify({ source: o.source, ...auditCounts(report) }),
        },
      });
    },
    { timeout: 30 * 60_000, maxWait: 30_000 },
  );
}

type Apply = (r: Row, seen: Map<string, number>) => Promise<Outcome>;
type CampaignRow = { id: number; countyCode: string };

/** A look-up by the words of a column, asked once per distinct word. */
function cached<T>(find: (word: string) => Promise<T>): (word: string) => Promise<T> {
  const memo = new Map<string, Promise<T>>();
  return (word) => {
    if (!memo.has(word)) memo.set(word, find(word));
    return memo.get(word)!;
  };
}

function required(r: Row, field: string): string {
  if (!r.has(field)) throw new RowError('import.missing', { column: r.header(field) });
  return r.get(field);
}

function creditCode(r: Row): string {
  const value = r.get('creditCode');
  const code = normaliseCreditCode(value);
  if (isCreditCode(code)) return code;
  // Well formed but for the last character: say which it should be (a typo, or a made-up code).
  const check = code.length === 18 ? creditCodeCheck(code.slice(0, 17)) : '';
  if (check && isCreditCode(code.slice(0, 17) + check)) throw new RowError('import.bad_check', { value, check });
  throw new RowError('import.bad_credit_code', { value });
}

/** A number as offices type it into a cell: full-width digits, thousands separators, spaces. */
const figure = (value: string) =>
  value.replace(/[０-９．]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/[,，\s]/g, '');

function count(r: Row, field: string, min: number): number {
  const value = required(r, field);
  const n = parseCount(figure(value).replace(/\.0+$/, ''));
  if (n === null || n < min) throw new RowError('import.bad_count', { column: r.header(field), value });
  return n;
}

/** Excel's day 0 (its serials count days from 1899-12-30, counting 1900's phantom 29 February). */
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

/**
 * A date as files hold it: what parseDay reads (2026-01-05, 2026.1.5, 2026/1/5, 2026年1月5日,
 * 20260105, 1月5日 placed by its field), a date with a time of day, or an Excel serial (46027)
 * from a cell not formatted as a date.
 */
function fileDay(value: string, today: string, placed: DayField): string | null {
  const s = figure(value.trim().replace(/(T|\s+)\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/, ''));
  // Serials 20000–80000: the years 1954–2119.
  if (/^\d{5}(\.\d+)?$/.test(s) && Number(s) >= 20_000 && Number(s) < 80_000)
    return new Date(EXCEL_EPOCH + Math.floor(Number(s)) * 86_400_000).toISOString().slice(0, 10);
  return parseDay(s, today, placed);
}

function day(r: Row, field: string, today: string, placed: DayField): string {
  const value = required(r, field);
  const d = fileDay(value, today, placed);
  if (!d) throw new RowError('import.bad_date', { column: r.header(field), value });
  return d;
}

/** Yuan (or 万元 where the header says so) → fen; null when the column is empty. */
function fen(r: Row, field: string): number | null {
  if (!r.has(field)) return null;
  const value = r.get(field);
  const n = parseYuanToFen(figure(value));
  if (n === null) throw new RowError('import.bad_amount', { column: r.header(field), value });
  return Math.round(n * r.scale(field));
}

/** A name without its bracketed notes and the 人民政府 or 办事处 after a place; looked up only when that differs. */
function orElse<T>(word: string, find: (plain: string) => Promise<T | null>): Promise<T | null> | null {
  const plain = word
    .replace(/[（(][^）)]*[）)]/g, '')
    .replace(/(人民政府|办事处)$/, '')
    .trim();
  return plain && plain !== word ? find(plain) : null;
}

/** An unknown name, with the nearest known ones when there are any. */
const unknown = (key: string, value: string, near: string[]) =>
  near.length ? new RowError(`${key}_near`, { value, names: near.join('、') }) : new RowError(key, { value });

/** Rejects the second row with the same key in one file, naming the first. */
function once(seen: Map<string, number>, key: string, r: Row, shown: string): void {
  const first = seen.get(key);
  if (first !== undefined) throw new RowError('import.duplicate', { row: first, key: shown });
  seen.set(key, r.row);
}

/** A roster row as checked: the enterprise it names, as the file has it. */
interface CheckedEnterprise {
  row: number;
  creditCode: string;
  name: string;
  sectorId: number;
  townshipId: number;
  employees: number;
  /** Null when the file has no such column: the enterprise keeps its value. */
  aboveScale: boolean | null;
  status: string | null;
}

/** A roster row's own checks (known sector and township, credit code, figures), each distinct word looked up once. */
function rosterCheck(tx: Tx, campaign: CampaignRow): (r: Row, seen: Map<string, number>) => Promise<CheckedEnterprise> {
  // As written, else as the plan and offices also write it: 交通运输（含水上交通）, 东坪镇人民政府.
  const sector = cached(
    async (w) => (await findSector(tx, campaign.id, w)) ?? orElse(w, (p) => findSector(tx, campaign.id, p)),
  );
  const township = cached(
    async (w) =>
      (await findTownship(tx, campaign.countyCode, w)) ?? orElse(w, (p) => findTownship(tx, campaign.countyCode, p)),
  );
  const nearSector = cached((w) => nearestKnown(tx, campaign, w, { sectors: true }));
  const nearTownship = cached((w) => nearestKnown(tx, campaign, w, { units: ['township'] }));
  return async (r, seen) => {
    const name = required(r, 'name');
    required(r, 'creditCode');
    const code = creditCode(r);
    const s = await sector(required(r, 'sector'));
    if (!s) throw unknown('import.unknown_sector', r.get('sector'), await nearSector(r.get('sector')));
    const u = await township(required(r, 'township'));
    if (!u) throw unknown('import.unknown_township', r.get('township'), await nearTownship(r.get('township')));
    const employees = count(r, 'employees', 0);
    const flag = r.get('aboveScale').toLowerCase();
    if (!YES.includes(flag) && !NO.includes(flag))
      throw new RowError('import.bad_flag', { column: r.header('aboveScale'), value: r.get('aboveScale') });
    const status = r.has('status') ? STATUS.code(r.get('status')) : 'operating';
    if (!status) throw new RowError('import.bad_status', { column: r.header('status'), value: r.get('status') });
    once(seen, code, r, code);
    return {
      row: r.row,
      creditCode: code,
      name,
      sectorId: s.id,
      townshipId: u.id,
      employees,
      aboveScale: r.column('aboveScale') ? YES.includes(flag) : null,
      status: r.column('status') ? status : null,
    };
  };
}

/** An enterprise as stored, with its latest history row on or before the import's day. */
interface Stored extends RosterState {
  id: number;
  creditCode: string;
  countyCode: string;
  name: string;
  last: RosterState | null;
}

/**
 * Compares a batch of checked rows with the enterprises they name (one query for the batch) and
 * counts each as added, updated or unchanged, or rejected when the code is another county's. Returns
 * the rows that change something: the enterprise, or its history (every enterprise the file lists
 * keeps its state from the import's day, src/domain/roster.ts).
 */
async function compareRoster(
  db: Db,
  campaign: CampaignRow,
  day: string,
  batch: CheckedEnterprise[],
  report: ImportReport,
  o: ImportOptions,
): Promise<StagedEnterprise[]> {
  if (!batch.length) return [];
  const codes = jsonRows(
    db,
    batch.map((b) => [b.creditCode]),
  );
  const rows = await db.$queryRaw<Record<string, unknown>[]>`
    SELECT e.id, e."creditCode", e."countyCode", e.name, e.status, e."sectorId", e."townshipId", e."aboveScale", e.employees,
      st.status AS "lastStatus", st."sectorId" AS "lastSectorId", st."townshipId" AS "lastTownshipId",
      st."aboveScale" AS "lastAboveScale", st.employees AS "lastEmployees"
    FROM "Enterprise" e LEFT JOIN "EnterpriseState" st ON st.id = (SELECT x.id FROM "EnterpriseState" x
      WHERE x."enterpriseId" = e.id AND x."validFrom" <= ${day} ORDER BY x."validFrom" DESC LIMIT 1)
    WHERE e."creditCode" IN (SELECT ${codes.at(0, 'text')} FROM ${codes.rows})`;
  const stored = new Map<string, Stored>(
    rows.map((r) => [
      String(r.creditCode),
      {
        id: Number(r.id),
        creditCode: String(r.creditCode),
        countyCode: String(r.countyCode),
        name: String(r.name),
        status: String(r.status),
        sectorId: Number(r.sectorId),
        townshipId: Number(r.townshipId),
        aboveScale: Boolean(r.aboveScale),
        employees: Number(r.employees),
        last:
          r.lastStatus === null
            ? null
            : {
                status: String(r.lastStatus),
                sectorId: Number(r.lastSectorId),
                townshipId: Number(r.lastTownshipId),
                aboveScale: Boolean(r.lastAboveScale),
                employees: Number(r.lastEmployees),
              },
      },
    ]),
  );
  const staged: StagedEnterprise[] = [];
  for (const b of batch) {
    const e = stored.get(b.creditCode);
    if (!e) {
      report.added++;
      staged.push({ ...b, op: 'added', keepState: true });
      continue;
    }
    if (e.countyCode !== campaign.countyCode) {
      report.rejected.push({ row: b.row, reason: o.t('import.other_county', { value: b.creditCode }) });
      continue;
    }
    const next: RosterState = {
      status: b.status ?? e.status,
      sectorId: b.sectorId,
      townshipId: b.townshipId,
      aboveScale: b.aboveScale ?? e.aboveScale,
      employees: b.employees,
    };
    const op = b.name === e.name && sameState(e, next) ? 'unchanged' : 'updated';
    report[op]++;
    const keepState = !(e.last && sameState(e.last, next));
    if (op === 'updated' || keepState) staged.push({ ...b, op, keepState });
  }
  return staged;
}

function policyRow(
  tx: Tx,
  campaign: CampaignRow,
  today: string,
  warn: (row: number, w: PolicyWarning) => void,
  rectifier: Rectifier,
): Apply {
  const insurer = cached((w) => findInsurer(tx, campaign.countyCode, w));
  const nearInsurer = cached((w) => nearestKnown(tx, campaign, w, { units: ['insurer'] }));
  // By credit code, or by the enterprise's full name when it is the only one with that name.
  const enterprise = cached(async (w): Promise<EnterpriseRef | 'several' | null> => {
    const byCode = isCreditCode(normaliseCreditCode(w));
    const { match, candidates } = await findEnterprise(tx, campaign.countyCode, w);
    if (match && (byCode || match.name === w)) return match;
    return match || candidates.length ? 'several' : null;
  });
  return async (r, seen) => {
    const policyNo = required(r, 'policyNo');
    const company: UnitRef | null = await insurer(required(r, 'insurer'));
    if (!company) throw unknown('import.unknown_insurer', r.get('insurer'), await nearInsurer(r.get('insurer')));
    if (r.has('creditCode')) creditCode(r);
    const word = r.has('creditCode')
      ? normaliseCreditCode(r.get('creditCode'))
      : required(r, r.column('enterprise') ? 'enterprise' : 'creditCode');
    const e = await enterprise(word);
    if (e === null) throw new RowError('import.unknown_enterprise', { value: word });
    if (e === 'several') throw new RowError('import.ambiguous_enterprise', { value: word });
    // A date without its year: the start is the nearest such day, the end the first after the start.
    const startOn = day(r, 'startOn', today, 'nearest');
    const endOn = day(r, 'endOn', today, { after: startOn });
    const headcount = count(r, 'headcount', 1);
    const premiumFen = fen(r, 'premium');
    const liabilityFen = fen(r, 'liability');
    once(seen, `${company.id}:${policyNo}`, r, `${company.name} ${policyNo}`);

    const data = {
      enterpriseId: e.id,
      startOn,
      endOn,
      insuredHeadcount: headcount,
      ...(r.column('premium') ? { premiumFen } : {}),
      // A blank limit keeps the one recorded (by default the minimum in force on the start day).
      ...(liabilityFen === null ? {} : { liabilityPerPerson: Math.round(liabilityFen / 100) }),
    };
    const existing = await tx.policy.findUnique({ where: { insurerId_policyNo: { insurerId: company.id, policyNo } } });
    const terms = {
      enterpriseId: e.id,
      employees: e.employees,
      startOn,
      endOn,
      headcount,
      premiumFen,
      liabilityPerPerson: data.liabilityPerPerson ?? existing?.liabilityPerPerson ?? null,
    };
    if (!existing || existing.status === 'withdrawn') {
      const { warnings } = await recordPolicy(tx, {
        enterprise: e,
        insurer: company,
        policyNo,
        startOn,
        endOn,
        headcount,
        premiumFen,
        isDemo: false,
        liabilityPerPerson: data.liabilityPerPerson,
        today,
        rectifier,
      });
      for (const w of warnings) warn(r.row, w);
      return 'added';
    }
    for (const w of await checkPolicy(tx, { ...terms, id: existing.id })) warn(r.row, w);
    if (Object.entries(data).every(([k, v]) => existing[k as keyof typeof existing] === v)) return 'unchanged';
    const updated = await tx.policy.update({ where: { id: existing.id }, data });
    // Both enterprises' kept cover follows the policy (src/domain/cover.ts).
    await refreshCover(tx, [existing.enterpriseId, e.id], today);
    await rectifyInsurance(tx, updated, today, rectifier);
    return 'updated';
  };
}
