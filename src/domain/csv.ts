import { CsvError, parse } from 'csv-parse/sync';

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

/**
 * Parses CSV text (RFC 4180, by csv-parse: quoted fields, doubled quotes, line breaks inside
 * quotes, CRLF, LF or CR) into rows of strings. Blank rows are dropped unless `keepBlank`, which
 * keeps row numbers as a spreadsheet program shows them. A broken quote throws a CsvSyntaxError
 * naming its row, so nothing of a broken file is read.
 */
export function parseCsv(text: string, keepBlank = false): string[][] {
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, relax_column_count: true, record_delimiter: ['\r\n', '\n', '\r'] });
  } catch (e) {
    if (e instanceof CsvError) throw new CsvSyntaxError(Number(e.records ?? 0) + 1, e.code);
    throw e;
  }
  return keepBlank ? rows : rows.filter((r) => r.some((f) => f.trim() !== ''));
}
