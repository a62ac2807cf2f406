import type ExcelJS from 'exceljs';

// Sheets as the bot's workbooks lay them out (the 台账 export, the audit log).

/** Rows a column's width is judged from: the header and a sample, not every row (workbooks are streamed, rows go as written). */
export const WIDTH_SAMPLE = 50;

/** A column's width in characters (a Chinese character counts two) from its header and the sample's cells. */
export function columnWidth(header: string, sample: unknown[]): number {
  const width = (v: unknown) => [...String(v ?? '')].reduce((n, c) => n + (c.charCodeAt(0) > 0xff ? 2 : 1), 0);
  return Math.min(60, Math.max(8, ...[header, ...sample].map(width)) + 2);
}

const FROZEN = { views: [{ state: 'frozen' as const, ySplit: 1, xSplit: 1 }] };

/** The header row, bold, with the widths judged from it and the sample, and the `percent` columns (1-based) as 0.0 %. */
function header(ws: ExcelJS.Worksheet, headers: string[], sample: unknown[][], percent: number[]): ExcelJS.Row {
  headers.forEach((h, i) => {
    ws.getColumn(i + 1).width = columnWidth(
      h,
      sample.map((r) => r[i]),
    );
  });
  for (const c of percent) ws.getColumn(c).numFmt = '0.0%';
  const row = ws.addRow(headers);
  row.font = { bold: true };
  return row;
}

/** A sheet with a bold, frozen, filterable header row; `percent` columns (1-based) as 0.0 %. */
export function addSheet(
  wb: ExcelJS.Workbook,
  name: string,
  headers: string[],
  rows: unknown[][],
  percent: number[] = [],
): ExcelJS.Worksheet {
  const ws = wb.addWorksheet(name, FROZEN);
  header(ws, headers, rows.slice(0, WIDTH_SAMPLE), percent);
  for (const r of rows) ws.addRow(r);
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: headers.length } };
  return ws;
}

export type WorkbookWriter = ExcelJS.stream.xlsx.WorkbookWriter;

export interface StreamedSheet {
  /** Columns (1-based) shown as 0.0 %. */
  percent?: number[];
  /** Styles a data row (its index from 0) before it is committed. */
  style?: (row: ExcelJS.Row, index: number) => void;
  /** Lines after the data (notes), not judged for widths. */
  tail?: unknown[][];
}

/**
 * A sheet laid out as addSheet lays it out, on a streaming workbook: rows are committed as they
 * are written, so only a batch is in memory; widths come from the header and the first rows.
 */
export async function streamSheet(
  wb: WorkbookWriter,
  name: string,
  headers: string[],
  batches: AsyncIterable<unknown[][]> | Iterable<unknown[][]>,
  o: StreamedSheet = {},
): Promise<number> {
  const ws = wb.addWorksheet(name, FROZEN);
  let count = 0;
  const write = (rows: unknown[][]) => {
    for (const r of rows) {
      const row = ws.addRow(r);
      o.style?.(row, count);
      count++;
      row.commit();
    }
  };
  const held: unknown[][] = [];
  let started = false;
  const start = () => {
    header(ws, headers, held.slice(0, WIDTH_SAMPLE), o.percent ?? []).commit();
    started = true;
    write(held.splice(0));
  };
  for await (const rows of batches) {
    if (started) write(rows);
    else {
      held.push(...rows);
      if (held.length >= WIDTH_SAMPLE) start();
    }
  }
  if (!started) start();
  for (const r of o.tail ?? []) ws.addRow(r).commit();
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: headers.length } };
  ws.commit();
  return count;
}
