/**
 * Import file formats (crud-api.md §2 `POST /import`): a JSON array, NDJSON, or CSV (header row, options
 * `delimiter`, `escape`, `encoding`). Every format yields plain records; typing happens afterwards against
 * the collection schema, so the three behave the same.
 */
import { badRequest } from '../errors.js';
import { MiaRunError } from '../../errors.js';

export type ImportFormat = 'json' | 'ndjson' | 'csv';

const FORMATS: Readonly<Record<string, ImportFormat>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'text/csv': 'csv',
  'application/csv': 'csv',
};

export function importFormat(mime: string): ImportFormat {
  const format = FORMATS[(mime.split(';')[0] ?? '').trim().toLowerCase()];
  if (format === undefined) throw new MiaRunError('MR_CRUD_UNSUPPORTED_FILE', `Unsupported file type ${mime}`);
  return format;
}

export interface CsvOptions {
  readonly delimiter: string;
  readonly escape: string;
  readonly encoding: BufferEncoding;
}

const ENCODINGS = new Set(['utf8', 'utf-8', 'latin1', 'ascii', 'utf16le', 'ucs2', 'binary']);

/** CSV options from multipart fields; anything unusable is a 400. */
export function csvOptions(fields: Readonly<Record<string, string>>): CsvOptions {
  const delimiter = fields.delimiter ?? ',';
  const escape = fields.escape ?? '"';
  const encoding = (fields.encoding ?? 'utf8').toLowerCase();
  if (delimiter.length !== 1 || /[\r\n]/.test(delimiter)) throw badRequest('delimiter must be one character');
  if (escape.length !== 1 || escape === delimiter || /[\r\n]/.test(escape)) throw badRequest('escape must be one character, other than the delimiter');
  if (!ENCODINGS.has(encoding)) throw badRequest(`Unsupported encoding ${fields.encoding ?? ''}`);
  return { delimiter, escape, encoding: encoding as BufferEncoding };
}

/** RFC 4180 rows (quoted cells with the `escape` character doubled inside, CRLF or LF line ends). */
export function parseCsvRows(text: string, options: Pick<CsvOptions, 'delimiter' | 'escape'>): string[][] {
  const { delimiter, escape } = options;
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === escape && text[i + 1] === '"' && escape !== '"') { cell += '"'; i++; } else if (c === '"' && text[i + 1] === '"' && escape === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === delimiter) { row.push(cell); cell = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (quoted) throw badRequest('(index: ' + rows.length + ') unterminated quoted CSV cell');
  if (cell !== '' || row.length > 0) { row.push(cell); rows.push(row); }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

export type RawRecord = Record<string, unknown>;

/** Records of a file; `structured` names fields whose CSV cells hold JSON (arrays, objects, GeoPoints). */
export function parseImportFile(buffer: Buffer, format: ImportFormat, fields: Readonly<Record<string, string>>, structured: ReadonlySet<string>): RawRecord[] {
  if (format === 'csv') {
    const options = csvOptions(fields);
    const [header, ...rows] = parseCsvRows(buffer.toString(options.encoding), options);
    if (header === undefined) return [];
    return rows.map((row, index) => {
      const record: RawRecord = {};
      header.forEach((name, col) => {
        const cell = row[col];
        if (cell === undefined || cell === '') return;
        if (!structured.has(name)) {
          record[name] = cell;
          return;
        }
        try {
          record[name] = JSON.parse(cell) as unknown;
        } catch {
          throw badRequest(`(index: ${index}, /${name}) must be JSON`);
        }
      });
      return record;
    });
  }
  const text = buffer.toString('utf8');
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch (error) {
      throw badRequest(`File is not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw badRequest('A JSON import file must hold an array of documents');
    return parsed as RawRecord[];
  }
  return text.split(/\r?\n/).flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as RawRecord];
    } catch (error) {
      throw badRequest(`(index: ${index}) is not valid JSON: ${(error as Error).message}`);
    }
  });
}
