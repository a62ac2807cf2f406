import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import ExcelJS from 'exceljs';
import { trusted } from '../core/neutral.ts';
import type { Translate } from '../i18n.ts';
import { CsvSyntaxError, parseCsv } from './csv.ts';
import { ImportFileError, type Sheet } from './ledger-import.ts';

// Reading a 台账 file into sheets of text cells, refusing what cannot be read with one clear line
// (an ImportFileError) before anything is loaded: a missing, empty, oversized or mislabelled file,
// an old .xls/.et workbook, a corrupt one, a zip that would inflate far beyond its size, a CSV with
// a broken quote.

/** The largest file read, in bytes. */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;
/** The most an .xlsx may hold once unzipped, in bytes, and how many times its own size. */
export const MAX_UNZIPPED_BYTES = 200 * 1024 * 1024;
export const MAX_UNZIP_RATIO = 100;

const MB = 1024 * 1024;
const ZIP = [0x50, 0x4b]; // PK
const OLE = [0xd0, 0xcf, 0x11, 0xe0]; // compound file: .xls, .et, .doc, or a password-protected .xlsx
const startsWith = (bytes: Buffer, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/**
 * The sheets of a .csv (UTF-8, or GBK as Excel saves it in China; one sheet) or an .xlsx file,
 * each row with its number as a spreadsheet program shows it.
 */
export async function readLedgerFile(file: string, t: Translate): Promise<Sheet[]> {
  const fail = (key: string, params: Record<string, string | number> = {}) =>
    // The path is the operator's own words, shown in the operator's terminal as typed.
    new ImportFileError(t(key, { file: trusted(file), ...params }));
  const ext = extname(file).toLowerCase();
  if (ext === '.xls' || ext === '.et') throw fail('import.file_old_excel');
  if (ext !== '.csv' && ext !== '.xlsx') throw fail('import.file_kind');
  const bytes = await readSmall(file).catch((e: NodeJS.ErrnoException) => {
    throw fail(e.code === 'ENOENT' ? 'import.file_missing' : 'import.file_unreadable');
  });
  if (bytes === 'not a file') throw fail('import.file_unreadable');
  if (bytes === 'too large') throw fail('import.file_too_large', { limit: MAX_FILE_BYTES / MB });
  if (bytes.length === 0) throw fail('import.file_empty');
  if (startsWith(bytes, OLE)) throw fail('import.file_old_excel');
  let sheets: Sheet[];
  if (ext === '.csv') {
    if (startsWith(bytes, ZIP) || bytes.includes(0)) throw fail('import.file_not_csv');
    sheets = [{ rows: csvRows(bytes, fail) }];
  } else {
    if (!startsWith(bytes, ZIP)) throw fail('import.file_not_xlsx');
    const unzipped = unzippedSize(bytes);
    if (unzipped === null) throw fail('import.file_corrupt');
    if (unzipped > MAX_UNZIPPED_BYTES || unzipped > bytes.length * MAX_UNZIP_RATIO)
      throw fail('import.file_zip_bomb', { limit: MAX_UNZIPPED_BYTES / MB, ratio: MAX_UNZIP_RATIO });
    sheets = await workbookSheets(bytes).catch(() => {
      throw fail('import.file_corrupt');
    });
  }
  if (!sheets.some((s) => s.rows.some((r) => r.cells.some((c) => c.trim() !== '')))) throw fail('import.file_empty');
  return sheets;
}

/** The file's bytes, unless it is no regular file or larger than MAX_FILE_BYTES (then it is not read). */
async function readSmall(file: string): Promise<Buffer | 'not a file' | 'too large'> {
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (!info.isFile()) return 'not a file';
    if (info.size > MAX_FILE_BYTES) return 'too large';
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function csvRows(bytes: Buffer, fail: (key: string, params?: Record<string, number>) => ImportFileError) {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('gb18030').decode(bytes);
  }
  try {
    return parseCsv(text, true).map((cells, i) => ({ row: i + 1, cells: cells.map(clean) }));
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw fail('import.file_csv_quote', { row: e.row });
    throw e;
  }
}

/**
 * The total unzipped size the zip's central directory declares, read before anything is
 * inflated; null when there is no readable central directory (a truncated or damaged file).
 */
function unzippedSize(zip: Buffer): number | null {
  const END = 0x06054b50;
  const ENTRY = 0x02014b50;
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === END) {
      end = i;
      break;
    }
  }
  if (end < 0) return null;
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  // ZIP64 (sizes or counts too large for the classic fields): far beyond any 台账.
  if (count === 0xffff || at === 0xffffffff) return Number.POSITIVE_INFINITY;
  let total = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== ENTRY) return null;
    const size = zip.readUInt32LE(at + 24);
    if (size === 0xffffffff) return Number.POSITIVE_INFINITY;
    total += size;
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return total;
}

async function workbookSheets(bytes: Buffer): Promise<Sheet[]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  return workbook.worksheets.map((sheet) => {
    const rows: Sheet['rows'] = [];
    sheet.eachRow((r, row) => {
      rows.push({ row, cells: Array.from({ length: r.cellCount }, (_, i) => clean(cellText(r.getCell(i + 1).value))) });
    });
    return { name: sheet.name, rows };
  });
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

/** Control characters and direction overrides from a file never reach a terminal or a message. */
const clean = (cell: string) => cell.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ');
