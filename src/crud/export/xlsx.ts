/**
 * XLSX export (crud-api.md §2, `GET /export` with a spreadsheet `Accept`): one worksheet named after the
 * collection, a header row, then one row per document, written with exceljs' streaming writer so rows are
 * zipped as they arrive instead of building the whole workbook in memory.
 */
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { ObjectId } from 'bson';

/** The MIME types that ask for a spreadsheet. */
export const XLSX_TYPES: readonly string[] = [
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-excel',
];

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

type Cell = string | number | boolean | Date | null;

/** One wire value as a cell: numbers, booleans and dates keep their type; ids as hex; objects and arrays as JSON. */
export function xlsxCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean' || value instanceof Date) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof ObjectId) return value.toHexString();
  return JSON.stringify(value);
}

/** A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`. */
function sheetName(name: string): string {
  const clean = name.replace(/[[\]:*?/\\]/g, '_').slice(0, 31);
  return clean === '' ? 'export' : clean;
}

async function fill(out: PassThrough, name: string, columns: readonly string[], rows: AsyncIterable<Record<string, unknown>>): Promise<void> {
  // Shared strings would keep every distinct string in memory until the end; inline strings stream.
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(sheetName(name));
  sheet.columns = columns.map((key) => ({ key, header: key }));
  for await (const doc of rows) {
    sheet.addRow(columns.map((c) => xlsxCell(doc[c]))).commit();
    // Backpressure: wait for the reader when the response buffer is full (or the client went away).
    if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), once(out, 'close')]);
    if (out.destroyed) return;
  }
  sheet.commit();
  await workbook.commit();
}

/**
 * Streams `rows` as an XLSX file with one column per entry of `columns` (header row first).
 * @example reply.type(XLSX_CONTENT_TYPE).send(xlsxStream('books', ['_id', 'name'], docs))
 */
export function xlsxStream(name: string, columns: readonly string[], rows: AsyncIterable<Record<string, unknown>>): Readable {
  const out = new PassThrough();
  fill(out, name, columns, rows).catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}
