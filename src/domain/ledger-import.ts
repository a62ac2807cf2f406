import { parseCount, parseDay, type DayField } from '../core/words.ts';
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
import { keepState } from './roster.ts';
import { UserError } from '../core/errors.ts';
import { checkPolicy, parseYuanToFen, recordPolicy, type PolicyWarning } from './policies.ts';

// The county's 台账 from Excel or CSV: the enterprise roster and the policies. Columns are found by
// their Chinese headers (and the usual variants); each row is checked on its own, and the whole
// file is applied in one transaction: bad rows are skipped and reported, the good ones applied
// together, and a crash leaves the database as it was. Importing the same file again changes nothing.

export type LedgerKind = 'roster' | 'policies';

/** A sheet as read, each row with its number as a spreadsheet program shows it. */
export interface Sheet {
  name?: string;
  rows: { row: number; cells: string[] }[];
}

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
  for (let index = 0; index < width; index++) {
    const [a, b] = [(top[index] ?? '').trim(), (below?.[index] ?? '').trim()];
    // Heading and sub-heading together (保险期限 over 起), the sub-heading, or the heading alone.
    const header = [a + b, b, a].find((h) => h && fieldOf(kind, h));
    const field = header && fieldOf(kind, header);
    // 万元 in a money column's header: the figures are in units of ten thousand yuan.
    if (field && !columns.has(field))
      columns.set(field, { index, header, scale: header.includes('万元') ? 10_000 : 1 });
  }
  return columns;
}

/**
 * The sheet and header row to read (the first within a sheet's top rows that names every required
 * column, possibly over two rows), the last header row, and where each field is. Sheets before it
 * (a cover, instructions) are passed over.
 */
function findColumns(
  kind: LedgerKind,
  sheets: Sheet[],
  t: Translate,
): { sheet: Sheet; headerRow: number; columns: Map<string, Column> } {
  const missingOf = (columns: Map<string, Column>) => REQUIRED[kind].filter((any) => !any.some((f) => columns.has(f)));
  let best: string[][] | null = null;
  for (const sheet of sheets) {
    const top = sheet.rows.slice(0, HEADER_SEARCH + 1);
    for (const [i, { row, cells }] of top.slice(0, HEADER_SEARCH).entries()) {
      const one = headerColumns(kind, cells);
      const next = top[i + 1];
      // A second header row: sub-headings under merged ones, or units; never a row of figures.
      const two = next && !next.cells.some((c) => /\d/.test(c)) ? headerColumns(kind, cells, next.cells) : null;
      if (two && !missingOf(two).length && (missingOf(one).length || two.size >= one.size))
        return { sheet, headerRow: next!.row, columns: two };
      const missing = missingOf(one);
      if (!missing.length) return { sheet, headerRow: row, columns: one };
      if (!best || missing.length < best.length) best = missing;
    }
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
export async function importLedger(db: Db, kind: LedgerKind, sheets: Sheet[], o: ImportOptions): Promise<ImportReport> {
  const { sheet, headerRow, columns } = findColumns(kind, sheets, o.t);
  const data: Sheet['rows'] = [];
  const skipped: ImportReport['skipped'] = [];
  for (const r of sheet.rows.filter((r) => r.row > headerRow && r.cells.some((c) => c.trim() !== ''))) {
    const why = passedOver(r.cells, skipped.at(-1)?.why === 'note');
    if (why) skipped.push({ row: r.row, why });
    else data.push(r);
  }
  const report: ImportReport = {
    kind,
    ...(sheets.length > 1 && sheet.name ? { sheet: sheet.name } : {}),
    rows: data.length,
    added: 0,
    updated: 0,
    unchanged: 0,
    rejected: [],
    warnings: [],
    skipped,
  };
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: o.campaignId } });
  const every = o.every ?? 500;
  await db.$transaction(
    async (tx) => {
      const warn = (row: number, w: PolicyWarning) => report.warnings.push({ row, warning: o.t(w.key, w.params) });
      const apply =
        kind === 'roster'
          ? rosterRow(tx, campaign, o.day)
          : policyRow(tx, campaign, o.day, warn, { by: o.actor ?? o.source, at: o.now, t: o.t });
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
          // A refused row, its rule named: the row's own checks, and the policy checks shared with /投保.
          if (!(e instanceof RowError || e instanceof UserError)) throw e;
          report.rejected.push({ row, reason: o.t(e.key, e.params) });
        }
        if ((i + 1) % every === 0) o.progress?.(i + 1, data.length);
      }
      const { rejected, warnings, skipped: passed, ...counts } = report;
      await tx.auditEvent.create({
        data: {
          at: o.now,
          actorUserId: o.actor ?? null,
          channel: 'cli',
          command: 'import',
          action: `import_${kind}`,
          outcome: 'ok',
          detail: JSON.stringify({
            source: o.source,
            ...counts,
            rejected: rejected.length,
            warnings: warnings.length,
            skipped: passed.length,
          }),
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

function rosterRow(tx: Tx, campaign: CampaignRow, today: string): Apply {
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
    // Every enterprise the file lists keeps its state from the import's day (src/domain/roster.ts).
    if (!existing) {
      const added = await tx.enterprise.create({
        data: { creditCode: code, countyCode: campaign.countyCode, ...data },
      });
      await keepState(tx, added, today, true);
      return 'added';
    }
    if (existing.countyCode !== campaign.countyCode) throw new RowError('import.other_county', { value: code });
    if (Object.entries(data).every(([k, v]) => existing[k as keyof typeof existing] === v)) {
      await keepState(tx, existing, today);
      return 'unchanged';
    }
    await keepState(tx, await tx.enterprise.update({ where: { id: existing.id }, data }), today);
    return 'updated';
  };
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
