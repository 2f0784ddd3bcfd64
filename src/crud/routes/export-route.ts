/**
 * `GET /export` (crud-api.md §2): the list query without the page limit, streamed with backpressure in the
 * format the `Accept` header asks for: NDJSON (none, `*` / `*`, `application/x-ndjson`), a JSON array
 * (`application/json`), CSV (`text/csv`, header row first with `_id` as first column) or XLSX (the
 * spreadsheet MIME types, same columns as CSV with typed cells).
 */
import { Readable } from 'node:stream';
import { ObjectId } from 'bson';
import type { FastifyInstance } from 'fastify';
import type { Document } from '../../ports/document-store.js';
import { badRequest } from '../errors.js';
import { MiaRunError } from '../../errors.js';
import { querySchema } from '../model/query-schema.js';
import type { QueryString } from '../query/read-plan.js';
import { parseJsonParam, requestContext } from '../request-context.js';
import { XLSX_CONTENT_TYPE, XLSX_TYPES, xlsxStream } from '../export/xlsx.js';
import { startRead } from './reader.js';
import { createSerializer, type CollectionServices } from './services.js';

type Format = 'ndjson' | 'json' | 'csv' | 'xlsx';

const FORMATS: Readonly<Record<string, Format>> = {
  '*/*': 'ndjson',
  'application/*': 'ndjson',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/json': 'json',
  'text/csv': 'csv',
  ...Object.fromEntries(XLSX_TYPES.map((t) => [t, 'xlsx'] as const)),
};

const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
  csv: 'text/csv',
  xlsx: XLSX_CONTENT_TYPE,
};

/** The export format for an `Accept` header; throws 406 when none of its types is supported. */
export function exportFormat(accept: string | undefined): Format {
  if (accept === undefined || accept.trim() === '') return 'ndjson';
  for (const part of accept.split(',')) {
    const mime = (part.split(';')[0] ?? '').trim().toLowerCase();
    const format = FORMATS[mime];
    if (format !== undefined) return format;
  }
  throw new MiaRunError('MR_CRUD_NOT_ACCEPTABLE', `unsupported file type ${accept}`);
}

function csvCell(value: unknown, delimiter: string): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (value instanceof Date) text = value.toISOString();
  else if (value instanceof ObjectId) text = value.toHexString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return text.includes(delimiter) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvOptions(raw: unknown, base64: boolean): { delimiter: string } {
  if (typeof raw !== 'string') return { delimiter: ',' };
  const opts = parseJsonParam('_exportOpts', raw, base64);
  if (typeof opts !== 'object' || opts === null) throw badRequest('_exportOpts must be a JSON object');
  const delimiter = (opts as { delimiter?: unknown }).delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || /["\r\n]/.test(delimiter)) throw badRequest('_exportOpts.delimiter must be one character (not a quote or newline)');
  return { delimiter };
}

export function registerExportRoute(app: FastifyInstance, services: CollectionServices): void {
  const { model, limits } = services;
  const serialize = createSerializer(model);

  app.get('/export', {
    schema: { querystring: querySchema(model, ['_q', '_p', '_rawp', '_s', '_l', '_sk', '_st', '_id', '_exportOpts']) },
    config: { operation: 'fetch' },
  }, async (request, reply) => {
    const format = exportFormat(request.headers.accept);
    const query = request.query as QueryString;
    const ctx = requestContext(request.headers, services.userIdHeader);
    const options = format === 'csv' ? csvOptions(query._exportOpts, ctx.base64) : { delimiter: ',' };
    const requested = typeof query._l === 'number' ? query._l : undefined;
    const limit = limits.maxExport === undefined ? requested : Math.min(requested ?? limits.maxExport, limits.maxExport);
    const read = startRead(services, query, ctx, { ...(limit === undefined ? {} : { limit }), ...(typeof query._sk === 'number' ? { skip: query._sk } : {}) });
    const columns = typeof query._p === 'string'
      ? ['_id', ...query._p.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== '_id' && model.fields.has(s) && (ctx.readColumns?.has(s) ?? true))]
      : ['_id', ...[...model.fields.keys()].filter((k) => k !== '_id' && (ctx.readColumns?.has(k) ?? true))];
    if (format === 'xlsx') {
      const rows = (async function* (): AsyncGenerator<Record<string, unknown>> {
        for await (const doc of read.cursor as AsyncIterable<Document>) yield serialize(doc, read.extraKeys);
      })();
      return reply.type(CONTENT_TYPES.xlsx).header('content-disposition', `attachment; filename="${model.name}.xlsx"`).send(xlsxStream(model.name, columns, rows));
    }
    async function* lines(): AsyncGenerator<string> {
      let first = true;
      if (format === 'json') yield '[';
      if (format === 'csv') yield `${columns.map((c) => csvCell(c, options.delimiter)).join(options.delimiter)}\n`;
      for await (const doc of read.cursor as AsyncIterable<Document>) {
        const out = serialize(doc, read.extraKeys);
        if (format === 'ndjson') yield `${JSON.stringify(out)}\n`;
        else if (format === 'json') yield `${first ? '' : ','}${JSON.stringify(out)}`;
        else yield `${columns.map((c) => csvCell(out[c], options.delimiter)).join(options.delimiter)}\n`;
        first = false;
      }
      if (format === 'json') yield ']';
    }
    return reply.type(CONTENT_TYPES[format]).send(Readable.from(lines()));
  });
}
