/**
 * JSON Schemas of the wire forms (crud-api.md §1 "Wire forms"), built once per collection and compiled by
 * Fastify for request bodies and query strings: ObjectId as 24 hex digits, Date as an ISO-8601 string,
 * GeoPoint as `[lon, lat]`.
 */
import { DOCUMENT_STATES, type JsonSchemaObject } from '../../config/sections/collections.js';
import type { CollectionModel, FieldInfo } from './collection-model.js';
import type { TypeNode } from './type-node.js';

type Schema = Record<string, unknown>;

export const OBJECT_ID_PATTERN = '^[0-9a-fA-F]{24}$';

const withNull = (schema: Schema, nullable: boolean): Schema => (nullable ? { ...schema, nullable: true } : schema);

/** The wire schema of a type node; declared JSON Schemas of raw objects are kept verbatim. */
export function wireSchema(node: TypeNode, declared?: JsonSchemaObject): Schema {
  switch (node.kind) {
    case 'string':
      return withNull({ type: 'string' }, node.nullable);
    case 'number':
      return withNull({ type: 'number' }, node.nullable);
    case 'boolean':
      return withNull({ type: 'boolean' }, node.nullable);
    case 'Date':
      return withNull({ type: 'string', format: 'date-time' }, node.nullable);
    case 'ObjectId':
      return withNull({ type: 'string', pattern: OBJECT_ID_PATTERN }, node.nullable);
    case 'GeoPoint':
      return withNull(
        {
          type: 'array',
          items: [
            { type: 'number', minimum: -180, maximum: 180 },
            { type: 'number', minimum: -90, maximum: 90 },
          ],
          minItems: 2,
          maxItems: 2,
        },
        node.nullable,
      );
    case 'array':
      if (declared !== undefined) return withNull({ type: 'array', items: { type: 'object', ...declared } }, node.nullable);
      return withNull({ type: 'array', items: wireSchema(node.items) }, node.nullable);
    case 'object':
      if (declared !== undefined) return withNull({ ...declared, type: 'object' }, node.nullable);
      return withNull({ type: 'object' }, node.nullable);
    case 'any':
      return {};
  }
}

function fieldSchema(field: FieldInfo): Schema {
  const schema = wireSchema(field.node, field.node.kind === 'array' || field.node.kind === 'object' ? field.declaredSchema : undefined);
  return field.description === undefined ? schema : { ...schema, description: field.description };
}

export const stateSchema = { type: 'string', enum: [...DOCUMENT_STATES] };

/** A document as a client writes it: declared fields plus `__STATE__`; metadata fields are rejected. */
export function insertBodySchema(model: CollectionModel): Schema {
  const properties: Schema = {};
  for (const field of model.fields.values()) if (!field.metadata) properties[field.name] = fieldSchema(field);
  properties.__STATE__ = stateSchema;
  if (model.idKind === 'string') properties._id = { type: 'string', minLength: 1 };
  return { type: 'object', properties, required: [...model.required], additionalProperties: false };
}

/** A document as read: declared and metadata fields (for `/schema` and the API documentation). */
export function documentSchema(model: CollectionModel): Schema {
  const properties: Schema = {};
  for (const field of model.fields.values()) properties[field.name] = fieldSchema(field);
  return { type: 'object', properties, required: ['_id', ...model.required] };
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Dotted paths below object and array fields (`meta.a`, `list.0`, `list.$.merge`), checked further in code. */
function nestedPatterns(fields: readonly FieldInfo[]): Schema {
  const patterns: Schema = {};
  for (const field of fields) if (field.node.kind === 'object' || field.node.kind === 'array' || field.node.kind === 'any') patterns[`^${escapeRegex(field.name)}\\..+$`] = {};
  return patterns;
}

function operatorSchema(fields: readonly FieldInfo[], value: (field: FieldInfo) => Schema | undefined, nested: boolean): Schema {
  const properties: Schema = {};
  for (const field of fields) {
    const schema = value(field);
    if (schema !== undefined) properties[field.name] = schema;
  }
  return { type: 'object', properties, ...(nested ? { patternProperties: nestedPatterns(fields) } : {}), additionalProperties: false };
}

/**
 * An update body (crud-api.md §5): `$set $unset $inc $mul $currentDate $push $addToSet $pull`, and
 * `$setOnInsert` when `upsert`. Top-level values are typed here; dotted paths are checked by the update parser.
 */
export function updateBodySchema(model: CollectionModel, upsert: boolean): Schema {
  const fields = [...model.fields.values()].filter((f) => !f.metadata);
  const isArray = (f: FieldInfo): boolean => f.node.kind === 'array' || f.node.kind === 'any';
  const set = operatorSchema(fields, fieldSchema, true);
  const properties: Schema = {
    $set: set,
    $unset: operatorSchema(fields, (f) => (f.required ? undefined : { type: 'boolean', enum: [true] }), true),
    $inc: operatorSchema(fields, (f) => (f.node.kind === 'number' ? { type: 'number' } : undefined), true),
    $mul: operatorSchema(fields, (f) => (f.node.kind === 'number' ? { type: 'number' } : undefined), true),
    $currentDate: operatorSchema(fields, (f) => (f.node.kind === 'Date' ? { type: 'boolean', enum: [true] } : undefined), true),
    $push: operatorSchema(fields, (f) => (isArray(f) ? {} : undefined), true),
    $addToSet: operatorSchema(fields, (f) => (isArray(f) ? {} : undefined), true),
    $pull: operatorSchema(fields, (f) => (isArray(f) ? {} : undefined), true),
  };
  if (upsert) properties.$setOnInsert = set;
  return { type: 'object', properties, additionalProperties: false, minProperties: 1 };
}

/** The `stateTo` body of `POST /:id/state`. */
export const stateBodySchema: Schema = { type: 'object', properties: { stateTo: stateSchema }, required: ['stateTo'], additionalProperties: false };
