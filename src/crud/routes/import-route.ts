/**
 * `POST /import` (insert, 201) and `PATCH /import` (upsert by `_id`, 200) (crud-api.md §2): one multipart
 * `file` (JSON array, NDJSON or CSV). Every record is validated against the collection schema before anything
 * is written; a bad record is a 400 `(index: N, /path) <message>` and nothing is stored.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ValidateFunction } from 'ajv';
import type { Document } from '../../ports/document-store.js';
import { castId } from '../query/read-plan.js';
import { badRequest } from '../errors.js';
import { insertBodySchema } from '../model/wire-schema.js';
import { requestContext } from '../request-context.js';
import { importFormat, parseImportFile, type RawRecord } from '../import/parse-file.js';
import { buildDocument, type CollectionServices } from './services.js';
import type { Validators } from '../collection-plugin.js';
import { named } from '../../http/plugin-name.js';

const MESSAGE = { message: 'File uploaded successfully' };

interface Upload {
  readonly buffer: Buffer;
  readonly mime: string;
  readonly fields: Record<string, string>;
}

async function readUpload(request: FastifyRequest): Promise<Upload> {
  if (!request.isMultipart()) throw badRequest('Request is not multipart');
  const fields: Record<string, string> = {};
  let upload: { buffer: Buffer; mime: string } | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      const buffer = await part.toBuffer();
      if (part.fieldname === 'file' && upload === undefined) upload = { buffer, mime: part.mimetype };
    } else if (typeof part.value === 'string') {
      fields[part.fieldname] = part.value;
    }
  }
  if (upload === undefined) throw badRequest('Missing file');
  return { ...upload, fields };
}

function formatError(validate: ValidateFunction, index: number): string {
  const error = validate.errors?.[0];
  if (error === undefined) return `(index: ${index}) is not valid`;
  const extra = (error.params as { additionalProperty?: unknown }).additionalProperty;
  const suffix = typeof extra === 'string' ? `. Property "${extra}" is not defined in validation schema` : '';
  return `(index: ${index}, ${error.instancePath === '' ? '/' : error.instancePath}) ${error.message ?? 'is not valid'}${suffix}`;
}

export function registerImportRoutes(app: FastifyInstance, services: CollectionServices, validators: Validators, maxFileBytes: number): void {
  const { model, writer } = services;
  const schema = insertBodySchema(model);
  const properties = { ...(schema.properties as Record<string, unknown>), _id: model.idKind === 'string' ? { type: 'string', minLength: 1 } : { type: 'string', pattern: '^[0-9a-fA-F]{24}$' } };
  // Compiled on the first import, not at start-up (a project may mount hundreds of collections).
  let compiled: ValidateFunction | undefined;
  const validator = (): ValidateFunction => (compiled ??= validators.body.compile({ ...schema, properties }));
  const structured = new Set([...model.fields.values()].filter((f) => ['array', 'object', 'GeoPoint', 'any'].includes(f.node.kind)).map((f) => f.name));

  async function documents(request: FastifyRequest): Promise<Document[]> {
    const upload = await readUpload(request);
    const format = importFormat(upload.mime);
    const records: RawRecord[] = parseImportFile(upload.buffer, format, upload.fields, structured);
    const ctx = requestContext(request.headers, services.userIdHeader);
    const now = new Date(services.clock.now());
    const validate = validator();
    return records.map((record, index) => {
      if (record === null || typeof record !== 'object' || Array.isArray(record)) throw badRequest(`(index: ${index}, /) must be object`);
      if (!validate(record)) throw badRequest(formatError(validate, index));
      const doc = buildDocument(model, record, ctx, now, `(index: ${index}) body`);
      if (record._id !== undefined) doc._id = castId(model, record._id);
      return doc;
    });
  }

  // Its own context: the multipart plugin's hooks and request decorations stay off the other routes.
  void app.register(named(`crud:${model.name}:import`, async (scope: FastifyInstance) => {
    await scope.register(multipart, { limits: { files: 1, fileSize: maxFileBytes, fields: 10, parts: 12 }, throwFileSizeLimit: true });
    registerImport(scope);
  }));

  function registerImport(scope: FastifyInstance): void {
    scope.post('/import', { config: { operation: 'import' } }, async (request, reply) => {
      const docs = await documents(request);
      await writer.run(async (c) => {
        if (docs.length > 0) await c.insertMany(docs);
        return { result: undefined, changes: [{ operation: 'insert', documents: docs }] };
      });
      return reply.code(201).send(MESSAGE);
    });

    scope.patch('/import', { config: { operation: 'import' } }, async (request) => {
      const docs = await documents(request);
      await writer.run(async (c) => {
        for (const doc of docs) {
          const { _id, creatorId, createdAt, ...rest } = doc;
          await c.updateOne({ _id }, { $set: rest, $setOnInsert: { creatorId, createdAt } }, { upsert: true });
        }
        const after = writer.events && docs.length > 0 ? await c.find({ _id: { $in: docs.map((d) => d._id) } }).toArray() : [];
        return { result: undefined, changes: [{ operation: 'update', documents: after }] };
      });
      return MESSAGE;
    });
  }
}
