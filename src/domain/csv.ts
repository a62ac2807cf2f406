import { CsvError, parse as parseStream, type Options, type Parser } from 'csv-parse';
import { parse } from 'csv-parse/sync';

export { CsvError };

/** A CSV file that cannot be read as a whole: a quote left open or closed in the middle of a field. */
export class CsvSyntaxError extends Error {
  constructor(
    /** The row as a spreadsheet program counts it (blank rows included). */
    readonly row: number,
    readonly code: string,
  ) {
    super(`CSV row ${row}: ${code}`);
  }
}

/** RFC 4180 as csv-parse reads it: quoted fields, doubled quotes, line breaks inside quotes, CRLF, LF or CR; blank rows kept. */
const OPTIONS: Options = { bom: true, relax_column_count: true, record_delimiter: ['\r\n', '\n', '\r'] };

/** The row (as a spreadsheet program counts it) where csv-parse stopped. */
export const csvErrorRow = (e: CsvError) => Number(e.records ?? 0) + 1;

/** A streaming parser: text in, rows of strings out, blank rows kept (so row numbers are a spreadsheet's). */
export const csvParser = (): Parser => parseStream(OPTIONS);

/**
 * Parses CSV text into rows of strings. Blank rows are dropped unless `keepBlank`, which
 * keeps row numbers as a spreadsheet program shows them. A broken quote throws a CsvSyntaxError
 * naming its row, so nothing of a broken file is read.
 */
export function parseCsv(text: string, keepBlank = false): string[][] {
  let rows: string[][];
  try {
    rows = parse(text, OPTIONS);
  } catch (e) {
    if (e instanceof CsvError) throw new CsvSyntaxError(csvErrorRow(e), e.code);
    throw e;
  }
  return keepBlank ? rows : rows.filter((r) => r.some((f) => f.trim() !== ''));
}
