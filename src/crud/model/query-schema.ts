/**
 * JSON Schemas of each route's query string (crud-api.md §3): reserved parameters plus one equality
 * parameter per scalar field; anything else is a 400 naming the parameter.
 */
import type { CollectionModel } from './collection-model.js';
import { OBJECT_ID_PATTERN, wireSchema } from './wire-schema.js';

type Schema = Record<string, unknown>;

const STATE_LIST = '^(PUBLIC|DRAFT|TRASH|DELETED)(,(PUBLIC|DRAFT|TRASH|DELETED))*$';

export type QueryParam = '_q' | '_p' | '_rawp' | '_s' | '_l' | '_sk' | '_st' | '_id' | '_useEstimate' | '_exportOpts';

const SCALARS = new Set(['string', 'number', 'boolean', 'Date', 'ObjectId']);

/** The query string schema of a route accepting `params` (and field parameters unless `fields` is false). */
export function querySchema(model: CollectionModel, params: readonly QueryParam[], options: { maxLimit?: number; fields?: boolean } = {}): Schema {
  const properties: Schema = {};
  if (options.fields !== false) {
    for (const field of model.fields.values()) {
      if (SCALARS.has(field.node.kind)) properties[field.name] = wireSchema({ ...field.node, nullable: false });
    }
  }
  delete properties._id;
  const reserved: Record<QueryParam, Schema> = {
    _q: { type: 'string', description: 'JSON filter (MongoDB syntax, allow-listed operators)' },
    _p: { type: 'string', description: 'Comma-separated fields to return' },
    _rawp: { type: 'string', description: 'JSON projection (allow-listed operators)' },
    _s: { type: 'array', items: { type: 'string', pattern: '^-?[A-Za-z_][A-Za-z0-9_.,-]*$' }, description: 'Sort: field or -field, comma-separated or repeated' },
    _l: { type: 'integer', minimum: 1, ...(options.maxLimit === undefined ? {} : { maximum: options.maxLimit }), description: 'Page size' },
    _sk: { type: 'integer', minimum: 0, description: 'Documents to skip' },
    _st: { type: 'string', pattern: STATE_LIST, description: 'Comma-separated states (default PUBLIC)' },
    _id: model.idKind === 'string' ? { type: 'string' } : { type: 'string', pattern: OBJECT_ID_PATTERN },
    _useEstimate: { type: 'boolean', description: 'Fast estimated count' },
    _exportOpts: { type: 'string', description: 'JSON export options, e.g. {"delimiter":";"} for CSV' },
  };
  for (const param of params) properties[param] = reserved[param];
  return { type: 'object', properties, additionalProperties: false };
}
