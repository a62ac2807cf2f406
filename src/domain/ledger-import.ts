import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import ExcelJS from 'exceljs';
import { parseCount, parseDay, type DayField } from '../core/words.ts';
import type { Db, Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';
import { parseCsv } from './csv.ts';
import { creditCodeCheck, isCreditCode, normaliseCreditCode } from './credit-code.ts';
import {
  findEnterprise,
  findInsurer,
  findSector,
  findTownship,
  type EnterpriseRef,
  type UnitRef,
} from './directory.ts';
import { refreshCover } from './cover.ts';
import { parseYuanToFen, recordPolicy } from './policies.ts';

// The county's 台账 from Excel or CSV: the enterprise roster and the policies. Columns are found by
// their Chinese headers (and the usual variants); each row is checked on its own, and the whole
// file is applied in one transaction: bad rows are skipped and reported, the good ones applied
// together, and a crash leaves the database as it was. Importing the same file again changes nothing.

export type LedgerKind = 'roster' | 'policies';

/** A sheet as read, each row with its number as a spreadsheet program shows it. */
export interface Sheet {
  rows: { row: number; cells: string[] }[];
}

export interface ImportReport {
  kind: LedgerKind;
  rows: number;
  added: number;
  updated: number;
  unchanged: number;
  rejected: { row: number; reason: string }[];
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
    startOn: ['起保日期', '开始日期', '保险起期', '起保日', '生效日期'],
    endOn: ['止保日期', '结束日期', '保险止期', '止保日', '到期日期', '终保日期'],
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
const STATUS: Record<string, string> = {
  在营: 'operating',
  营业: 'operating',
  正常: 'operating',
  存续: 'operating',
  开业: 'operating',
  生产: 'operating',
  operating: 'operating',
  停产: 'stopped',
  停业: 'stopped',
  歇业: 'stopped',
  停工: 'stopped',
  停产整顿: 'stopped',
  stopped: 'stopped',
  关闭: 'closed',
  关停: 'closed',
  注销: 'closed',
  吊销: 'closed',
  closed: 'closed',
};

/** Reads a .csv (UTF-8, or GBK as Excel saves it in China) or an .xlsx file's first sheet. */
export async function readSheet(file: string): Promise<Sheet> {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') {
    const bytes = await readFile(file);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      text = new TextDecoder('gb18030').decode(bytes);
    }
    return { rows: parseCsv(text, true).map((cells, i) => ({ row: i + 1, cells })) };
  }
  if (ext !== '.xlsx') throw new ImportFileError(`${file}: .csv or .xlsx`);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const sheet = workbook.worksheets[0];
  const rows: Sheet['rows'] = [];
  sheet?.eachRow((r, row) => {
    rows.push({ row, cells: Array.from({ length: r.cellCount }, (_, i) => cellText(r.getCell(i + 1).value)) });
  });
  return { rows };
}

/** A cell as text: dates as 'YYYY-MM-DD', formulas by their result, rich text joined. */
function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return new Date(Math.round(v.getTime() / 60_000) * 60_000).toISOString().slice(0, 10);
  if (typeof v !== 'object') return String(v);
  if ('richText' in v) return v.richText.map((r) => r.text).join('');
  if ('text' in v) return String(v.text);
  if ('result' in v) return cellText(v.result as ExcelJS.CellValue);
  return '';
}

/** The usual name of a field's column, for messages. */
const usualName = (kind: LedgerKind, field: string): string =>
  (COLUMNS[kind] as Record<string, readonly string[]>)[field]![0]!;

const normalise = (header: string) => header.replace(/[（(][^）)]*[）)]/g, '').replace(/[\s*＊:：]/g, '');

interface Column {
  index: number;
  header: string;
  scale: number;
}

/** The header row (the first that names every required column) and where each field is. */
function findColumns(
  kind: LedgerKind,
  sheet: Sheet,
  t: Translate,
): { headerRow: number; columns: Map<string, Column> } {
  let best: { headerRow: number; columns: Map<string, Column>; missing: string[][] } | null = null;
  for (const { row, cells } of sheet.rows.slice(0, HEADER_SEARCH)) {
    const columns = new Map<string, Column>();
    cells.forEach((header, index) => {
      const word = normalise(header);
      const field = Object.entries(COLUMNS[kind]).find(([, names]) => (names as readonly string[]).includes(word))?.[0];
      // 万元 in a money column's header: the figures are in units of ten thousand yuan.
      if (field && !columns.has(field))
        columns.set(field, { index, header: header.trim(), scale: header.includes('万元') ? 10_000 : 1 });
    });
    const missing = REQUIRED[kind].filter((any) => !any.some((f) => columns.has(f)));
    if (!missing.length) return { headerRow: row, columns };
    if (!best || missing.length < best.missing.length) best = { headerRow: row, columns, missing };
  }
  const names = (best?.missing ?? REQUIRED[kind]).map((any) => any.map((f) => usualName(kind, f)).join(t('import.or')));
  throw new ImportFileError(t('import.missing_columns', { columns: names.join('、') }));
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
  /** Called every `every` rows (500 by default) with the rows done and the total. */
  progress?: (done: number, total: number) => void;
  every?: number;
}

/** A row's values by field, and how to name a field's column in a reason. */
interface Row {
  row: number;
  /** Whether the file has the column at all; a missing optional column leaves the ledger's value. */
  column(field: string): boolean;
  /** Whether this row has a value there. */
  has(field: string): boolean;
  get(field: string): string;
  header(field: string): string;
  scale(field: string): number;
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
export async function importLedger(db: Db, kind: LedgerKind, sheet: Sheet, o: ImportOptions): Promise<ImportReport> {
  const { headerRow, columns } = findColumns(kind, sheet, o.t);
  const data = sheet.rows.filter((r) => r.row > headerRow && r.cells.some((c) => c.trim() !== ''));
  const report: ImportReport = { kind, rows: data.length, added: 0, updated: 0, unchanged: 0, rejected: [] };
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: o.campaignId } });
  const every = o.every ?? 500;
  await db.$transaction(
    async (tx) => {
      const apply = kind === 'roster' ? rosterRow(tx, campaign) : policyRow(tx, campaign, o.day);
      const seen = new Map<string, number>();
      for (const [i, { row, cells }] of data.entries()) {
        const r: Row = {
          row,
          column: (f) => columns.has(f),
          has: (f) => columns.has(f) && (cells[columns.get(f)!.index] ?? '').trim() !== '',
          get: (f) => (columns.has(f) ? (cells[columns.get(f)!.index] ?? '').trim() : ''),
          header: (f) => columns.get(f)?.header ?? usualName(kind, f),
          scale: (f) => columns.get(f)?.scale ?? 1,
        };
        try {
          report[await apply(r, seen)]++;
        } catch (e) {
          if (!(e instanceof RowError)) throw e;
          report.rejected.push({ row, reason: o.t(e.key, e.params) });
        }
        if ((i + 1) % every === 0) o.progress?.(i + 1, data.length);
      }
      const { rejected, ...counts } = report;
      await tx.auditEvent.create({
        data: {
          at: o.now,
          actorUserId: o.actor ?? null,
          channel: 'cli',
          command: 'import',
          action: `import_${kind}`,
          outcome: 'ok',
          detail: JSON.stringify({ source: o.source, ...counts, rejected: rejected.length }),
        },
      });
    },
    { timeout: 30 * 60_000, maxWait: 30_000 },
  );
  return report;
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

function count(r: Row, field: string, min: number): number {
  const value = required(r, field);
  const n = parseCount(value.replace(/\.0+$/, ''));
  if (n === null || n < min) throw new RowError('import.bad_count', { column: r.header(field), value });
  return n;
}

function day(r: Row, field: string, today: string, placed: DayField): string {
  const value = required(r, field);
  const d = parseDay(value, today, placed);
  if (!d) throw new RowError('import.bad_date', { column: r.header(field), value });
  return d;
}

/** Yuan (or 万元 where the header says so) → fen; null when the column is empty. */
function fen(r: Row, field: string): number | null {
  if (!r.has(field)) return null;
  const value = r.get(field).replace(/,/g, '');
  const n = parseYuanToFen(value);
  if (n === null) throw new RowError('import.bad_amount', { column: r.header(field), value });
  return Math.round(n * r.scale(field));
}

/** Rejects the second row with the same key in one file, naming the first. */
function once(seen: Map<string, number>, key: string, r: Row, shown: string): void {
  const first = seen.get(key);
  if (first !== undefined) throw new RowError('import.duplicate', { row: first, key: shown });
  seen.set(key, r.row);
}

function rosterRow(tx: Tx, campaign: CampaignRow): Apply {
  const sector = cached((w) => findSector(tx, campaign.id, w));
  const township = cached((w) => findTownship(tx, campaign.countyCode, w));
  return async (r, seen) => {
    const name = required(r, 'name');
    required(r, 'creditCode');
    const code = creditCode(r);
    const s = await sector(required(r, 'sector'));
    if (!s) throw new RowError('import.unknown_sector', { value: r.get('sector') });
    const u = await township(required(r, 'township'));
    if (!u) throw new RowError('import.unknown_township', { value: r.get('township') });
    const employees = count(r, 'employees', 0);
    const flag = r.get('aboveScale').toLowerCase();
    if (!YES.includes(flag) && !NO.includes(flag))
      throw new RowError('import.bad_flag', { column: r.header('aboveScale'), value: r.get('aboveScale') });
    const status = r.has('status') ? STATUS[r.get('status').toLowerCase()] : 'operating';
    if (!status) throw new RowError('import.bad_status', { column: r.header('status'), value: r.get('status') });
    once(seen, code, r, code);

    const data = {
      name,
      sectorId: s.id,
      townshipId: u.id,
      employees,
      ...(r.column('aboveScale') ? { aboveScale: YES.includes(flag) } : {}),
      ...(r.column('status') ? { status } : {}),
    };
    const existing = await tx.enterprise.findUnique({ where: { creditCode: code } });
    if (!existing) {
      await tx.enterprise.create({ data: { creditCode: code, countyCode: campaign.countyCode, ...data } });
      return 'added';
    }
    if (existing.countyCode !== campaign.countyCode) throw new RowError('import.other_county', { value: code });
    if (Object.entries(data).every(([k, v]) => existing[k as keyof typeof existing] === v)) return 'unchanged';
    await tx.enterprise.update({ where: { id: existing.id }, data });
    return 'updated';
  };
}

function policyRow(tx: Tx, campaign: CampaignRow, today: string): Apply {
  const insurer = cached((w) => findInsurer(tx, campaign.countyCode, w));
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
    if (!company) throw new RowError('import.unknown_insurer', { value: r.get('insurer') });
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
    if (endOn <= startOn) throw new RowError('import.end_before_start', { start: startOn, end: endOn });
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
    if (!existing) {
      await recordPolicy(tx, {
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
      });
      return 'added';
    }
    if (Object.entries(data).every(([k, v]) => existing[k as keyof typeof existing] === v)) return 'unchanged';
    await tx.policy.update({ where: { id: existing.id }, data });
    // Both enterprises' kept cover follows the policy (src/domain/cover.ts).
    await refreshCover(tx, [existing.enterpriseId, e.id], today);
    return 'updated';
  };
}
