/**
 * What the OpenAPI document says about CRUD collections (crud-api.md §2): each collection's document schema
 * as a component, its routes grouped under a tag named after it, and the Mia response shapes (documents,
 * arrays of documents, bare integers, `{_id}`, empty 204s) on the routes of every path the gateway serves
 * it at. Built only when the document is first asked for.
 */
import { isView } from '../../config/sections/collections.js';
import type { ProjectConfig } from '../../config/types.js';
import { compileCollections } from '../../crud/index.js';
import { documentSchema } from '../../crud/model/wire-schema.js';
import { effectiveEndpoints } from '../../gateway/index.js';
import { toOpenApiSchema } from './openapi-schema.js';

type Schema = Record<string, unknown>;
type Operation = Record<string, unknown>;

export interface CollectionDocs {
  readonly schemas: Record<string, Schema>;
  readonly tags: readonly { name: string; description?: string }[];
  /** The tag and responses of one operation, when `path` is a collection route; undefined otherwise. */
  describe(path: string, method: string): { tag: string; responses: Record<string, unknown> } | undefined;
}

const json = (schema: Schema, description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema } } });
const INTEGER = { type: 'integer', minimum: 0 };
const ERROR = json({ type: 'object', properties: { statusCode: { type: 'integer' }, code: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } } }, 'Error');

/** Mia responses by method and the route below the collection base path (`{id}` for `:id`). */
function responses(method: string, route: string, ref: Schema): Record<string, unknown> | undefined {
  const docs = { type: 'array', items: ref };
  const table: Record<string, Record<string, unknown>> = {
    'get /': { 200: json(docs, 'The page of documents') },
    'get /export': { 200: { description: 'Every matching document as NDJSON, a JSON array, CSV or XLSX by Accept', content: { 'application/x-ndjson': { schema: ref }, 'application/json': { schema: docs }, 'text/csv': { schema: { type: 'string' } }, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: { type: 'string', format: 'binary' } } } }, 406: ERROR },
    'get /count': { 200: json(INTEGER, 'How many documents match') },
    'get /schema': { 200: json({ type: 'object' }, 'The JSON Schema of a document') },
    'get /{id}': { 200: json(ref, 'The document'), 404: json({ type: 'object', properties: { error: { type: 'string' } } }, 'Not found') },
    'post /': { 200: json({ type: 'object', properties: { _id: { type: 'string' } }, required: ['_id'] }, 'The id of the new document'), 409: ERROR },
    'post /validate': { 200: json({ type: 'object', properties: { result: { type: 'string', enum: ['ok'] } } }, 'The document is valid (nothing written)') },
    'post /bulk': { 200: json({ type: 'array', items: { type: 'object', properties: { _id: { type: 'string' } } } }, 'The ids in input order'), 409: ERROR },
    'post /upsert-one': { 200: json(ref, 'The document after the upsert') },
    'patch /{id}': { 200: json(ref, 'The document after the update'), 404: json({ type: 'object' }, 'Not found') },
    'patch /': { 200: json(INTEGER, 'How many documents were modified') },
    'patch /bulk': { 200: json(INTEGER, 'How many documents were modified') },
    'delete /{id}': { 204: { description: 'Deleted' }, 404: json({ type: 'object' }, 'Not found') },
    'delete /': { 200: json(INTEGER, 'How many documents were deleted') },
    'post /{id}/state': { 204: { description: 'State changed' }, 400: ERROR, 404: json({ type: 'object' }, 'Not found') },
    'post /state': { 200: json(INTEGER, 'How many documents changed state') },
    'post /import': { 201: json({ type: 'object', properties: { message: { type: 'string' } } }, 'Imported'), 415: ERROR },
    'patch /import': { 200: json({ type: 'object', properties: { message: { type: 'string' } } }, 'Imported') },
  };
  const found = table[`${method} ${route}`];
  return found === undefined ? undefined : { ...found, ...(found[400] === undefined ? { 400: ERROR } : {}) };
}

/** OpenAPI path form of a Fastify path (`/a/:id` -> `/a/{id}`), without a trailing slash. */
export function openApiPath(path: string): string {
  const converted = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return converted.length > 1 && converted.endsWith('/') ? converted.slice(0, -1) : converted;
}

/** Component names allowed by OpenAPI (`^[a-zA-Z0-9._-]+$`); collection names already are. */
const componentName = (name: string): string => name.replace(/[^A-Za-z0-9._-]/g, '_');

export function collectionDocs(config: Pick<ProjectConfig, 'endpoints' | 'collections'>): CollectionDocs {
  const models = compileCollections(config.collections);
  const schemas: Record<string, Schema> = {};
  const tags: { name: string; description?: string }[] = [];
  for (const model of models) {
    schemas[componentName(model.name)] = toOpenApiSchema(documentSchema(model));
    const description = model.config.description ?? (isView(model.config) ? `Read-only view over ${model.config.source}` : undefined);
    tags.push(description === undefined ? { name: model.name } : { name: model.name, description });
  }
  // Longest base path first, so `/api/books/archive` is not taken for a route of `/api/books`.
  const mounts = effectiveEndpoints(config)
    .filter((e) => e.target?.collection !== undefined)
    .map((e) => ({ base: openApiPath(e.basePath), name: e.target?.collection as string }))
    .sort((a, b) => b.base.length - a.base.length);
  return {
    schemas,
    tags,
    describe(path, method) {
      const mount = mounts.find((m) => path === m.base || path.startsWith(m.base === '/' ? '/' : `${m.base}/`));
      if (mount === undefined || schemas[componentName(mount.name)] === undefined) return undefined;
      const route = mount.base === '/' ? path : path.slice(mount.base.length) || '/';
      const found = responses(method, route.replace(/\{[^}]+\}/g, '{id}'), { $ref: `#/components/schemas/${componentName(mount.name)}` });
      return found === undefined ? undefined : { tag: mount.name, responses: found };
    },
  };
}

/** Adds the collections' components, tags and responses to a generated document (in place). */
export function addCollections(document: Record<string, unknown>, docs: CollectionDocs): void {
  const components = (document.components ??= {}) as Record<string, unknown>;
  components.schemas = { ...(components.schemas as Schema | undefined), ...docs.schemas };
  document.tags = [...((document.tags as unknown[] | undefined) ?? []), ...docs.tags];
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(item)) {
      const described = docs.describe(path, method);
      if (described === undefined) continue;
      operation.tags = [described.tag];
      operation.responses = described.responses;
    }
  }
}
