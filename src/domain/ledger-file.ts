import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { trusted } from '../core/neutral.ts';
import type { Translate } from '../i18n.ts';
import { CsvError, csvErrorRow, csvParser } from './csv.ts';
import { ImportFileError, type Sheet, type SheetRow } from './ledger-import.ts';

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
/** The bytes handed on at a time to the text decoder or the unzipper. */
const CHUNK = 64 * 1024;
const ZIP = [0x50, 0x4b]; // PK
const OLE = [0xd0, 0xcf, 0x11, 0xe0]; // compound file: .xls, .et, .doc, or a password-protected .xlsx
const startsWith = (bytes: Buffer, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/** A sheet as it streams in: its rows, each numbered as a spreadsheet program shows it. */
export interface SheetStream {
  name?: string;
  rows: AsyncIterable<SheetRow>;
}

/**
 * A 台账 file opened for streaming: its sheets in order, each read as it is consumed (a sheet left
 * unread is skipped), and how much of the file has been read (0–1, for the time left). What cannot be
 * read mid-way (a broken quote, a damaged sheet) throws an ImportFileError while iterating.
 */
export interface LedgerSource {
  sheets: AsyncIterable<SheetStream>;
  read(): number;
}

/**
 * Opens a .csv (UTF-8, or GBK as Excel saves it in China; one sheet) or an .xlsx file for
 * streaming, after the checks made before anything is parsed (kind, size, first bytes, the zip's
 * declared size). `dates: false` (a roster has no dates) skips a workbook's styles, which are
 * what tell a date from a number: a third less work per cell.
 */
export async function openLedgerFile(file: string, t: Translate, o: { dates?: boolean } = {}): Promise<LedgerSource> {
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
  const data: Buffer = bytes;
  let offset = 0;
  // The file in chunks, counting what has been handed on.
  function* chunks() {
    for (; offset < data.length; offset += CHUNK) yield data.subarray(offset, offset + CHUNK);
  }
  const read = () => Math.min(1, offset / data.length);
  let sheets: AsyncIterable<SheetStream>;
  if (ext === '.csv') {
    if (startsWith(bytes, ZIP) || bytes.includes(0)) throw fail('import.file_not_csv');
    sheets = (async function* () {
      yield { rows: csvRows(chunks(), isUtf8(bytes) ? 'utf-8' : 'gb18030', fail) };
    })();
  } else {
    if (!startsWith(bytes, ZIP)) throw fail('import.file_not_xlsx');
    const unzipped = unzippedSize(bytes);
    if (unzipped === null) throw fail('import.file_corrupt');
    if (unzipped > MAX_UNZIPPED_BYTES || unzipped > bytes.length * MAX_UNZIP_RATIO)
      throw fail('import.file_zip_bomb', { limit: MAX_UNZIPPED_BYTES / MB, ratio: MAX_UNZIP_RATIO });
    sheets = workbookSheets(Readable.from(chunks()), o.dates ?? true, () => fail('import.file_corrupt'));
  }
  return { sheets: notEmpty(sheets, () => fail('import.file_empty')), read };
}

/**
 * The sheets of a file, read whole (each row with its number as a spreadsheet program shows it):
 * for small files and tests; an import streams (openLedgerFile).
 */
export async function readLedgerFile(file: string, t: Translate): Promise<Sheet[]> {
  const sheets: Sheet[] = [];
  for await (const sheet of (await openLedgerFile(file, t)).sheets) {
    const rows: Sheet['rows'] = [];
    for await (const r of sheet.rows) rows.push(r);
    sheets.push({ ...(sheet.name === undefined ? {} : { name: sheet.name }), rows });
  }
  return sheets;
}

/** Passes the sheets on, and refuses the file as empty at its end when no cell had anything in it. */
async function* notEmpty(sheets: AsyncIterable<SheetStream>, empty: () => Error): AsyncIterable<SheetStream> {
  let filled = false;
  const watched = async function* (rows: AsyncIterable<SheetRow>) {
    for await (const r of rows) {
      filled ||= r.cells.some((c) => c.trim() !== '');
      yield r;
    }
  };
  for await (const sheet of sheets) yield { ...sheet, rows: watched(sheet.rows) };
  if (!filled) throw empty();
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

/** Text from byte chunks, a character split between two chunks kept whole. */
async function* decoded(chunks: AsyncIterable<Buffer | string> | Iterable<Buffer>, encoding = 'utf-8') {
  const decoder = new TextDecoder(encoding);
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

async function* csvRows(
  chunks: Iterable<Buffer>,
  encoding: string,
  fail: (key: string, params?: Record<string, number>) => ImportFileError,
): AsyncIterable<SheetRow> {
  let row = 0;
  try {
    for await (const cells of Readable.from(decoded(chunks, encoding)).pipe(csvParser()))
      yield { row: ++row, cells: (cells as string[]).map(clean) };
  } catch (e) {
    if (e instanceof CsvError) throw fail('import.file_csv_quote', { row: csvErrorRow(e) });
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

/**
 * exceljs' streaming reader, made to decode each part of the workbook as one stream of text: its
 * own parser decodes every chunk of a part on its own (lib/utils/parse-sax.js, TextDecoder.decode
 * without `stream`), so a character whose bytes a chunk boundary splits, as happens to Chinese text
 * in any long sheet, turns into two U+FFFD. Given text instead of bytes, it passes it through.
 */
class WorkbookReader extends ExcelJS.stream.xlsx.WorkbookReader {
  _parseWorksheet(iterator: AsyncIterable<Buffer>, sheetNo: string) {
    const base = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as {
      _parseWorksheet(this: WorkbookReader, i: AsyncIterable<string>, n: string): Iterable<unknown>;
    };
    return base._parseWorksheet.call(this, decoded(iterator), sheetNo);
  }
  _parseSharedStrings(entry: Readable) {
    const base = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as {
      _parseSharedStrings(this: WorkbookReader, e: Readable): AsyncIterable<unknown>;
    };
    return this.flatSharedStrings(base._parseSharedStrings.call(this, Readable.from(decoded(entry))));
  }
  /**
   * The cached shared strings copied flat once read: each is a slice of the decoded XML text, and a
   * slice keeps all of it alive (about twice the strings' own size, for as long as the sheet is read).
   * A JSON round trip makes a fresh string, equal to the old one in every code unit.
   */
  private async *flatSharedStrings(parsed: AsyncIterable<unknown>) {
    yield* parsed;
    const cache = (this as unknown as { sharedStrings?: unknown[] }).sharedStrings;
    if (cache)
      for (let i = 0; i < cache.length; i++) {
        const s = cache[i];
        if (typeof s === 'string') cache[i] = JSON.parse(JSON.stringify(s)) as string;
      }
  }
}

/** The sheets of a workbook as they stream in; a damaged one throws `corrupt()`. */
async function* workbookSheets(input: Readable, dates: boolean, corrupt: () => Error): AsyncIterable<SheetStream> {
  const reader = new WorkbookReader(input, {
    sharedStrings: 'cache',
    styles: dates ? 'cache' : 'ignore',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });
  // Errors of the reader only: a consumer's never enter a generator.
  try {
    for await (const sheet of reader as AsyncIterable<ExcelJS.stream.xlsx.WorksheetReader>)
      yield { name: (sheet as unknown as { name: string }).name, rows: sheetRows(sheet, corrupt) };
  } catch {
    throw corrupt();
  }
}

async function* sheetRows(sheet: ExcelJS.stream.xlsx.WorksheetReader, corrupt: () => Error): AsyncIterable<SheetRow> {
  try {
    for await (const r of sheet as AsyncIterable<ExcelJS.Row>) {
      const values = r.values as ExcelJS.CellValue[];
      const cells = new Array<string>(Math.max(0, values.length - 1));
      for (let i = 1; i < values.length; i++) cells[i - 1] = clean(cellText(values[i]));
      yield { row: r.number, cells };
    }
  } catch {
    throw corrupt();
  }
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
