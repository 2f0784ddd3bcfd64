/**
 * The type of every value a collection may hold, as one tree built from either definition form (Mia's
 * `fields` list or a JSON Schema, crud-api.md §1). Casting, filter checks and update checks walk this tree,
 * so both forms behave the same.
 */
import type { FieldDefinition, JsonSchemaObject } from '../../config/sections/collections.js';

export type ScalarKind = 'string' | 'number' | 'boolean' | 'Date' | 'ObjectId' | 'GeoPoint';

export type TypeNode =
  | { readonly kind: ScalarKind; readonly nullable: boolean }
  /** `properties` undefined: any object (a RawObject without schema). */
  | { readonly kind: 'object'; readonly nullable: boolean; readonly properties?: ReadonlyMap<string, TypeNode>; readonly additional: boolean }
  | { readonly kind: 'array'; readonly nullable: boolean; readonly items: TypeNode }
  /** Anything (a schema without `type`). */
  | { readonly kind: 'any'; readonly nullable: boolean };

export const ANY: TypeNode = { kind: 'any', nullable: true };

const DATE_FORMATS = new Set(['date-time', 'date', 'time', 'duration']);

function schemaTypes(schema: JsonSchemaObject): string[] {
  const type = schema.type;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string');
  return [];
}

/** A JSON Schema (a RawObject's `schema`, a property of a collection `schema`) as a TypeNode. */
export function nodeFromJsonSchema(schema: JsonSchemaObject, nullableHint = false): TypeNode {
  const types = schemaTypes(schema);
  const nullable = nullableHint || schema.nullable === true || types.includes('null');
  const mia = schema.__mia_configuration as { type?: unknown } | undefined;
  if (mia?.type === 'ObjectId') return { kind: 'ObjectId', nullable };
  if (mia?.type === 'GeoPoint') return { kind: 'GeoPoint', nullable };
  const main = types.find((t) => t !== 'null');
  if (main === 'string') return { kind: typeof schema.format === 'string' && DATE_FORMATS.has(schema.format) ? 'Date' : 'string', nullable };
  if (main === 'number' || main === 'integer') return { kind: 'number', nullable };
  if (main === 'boolean') return { kind: 'boolean', nullable };
  if (main === 'array') {
    const items = schema.items;
    return { kind: 'array', nullable, items: items !== null && typeof items === 'object' && !Array.isArray(items) ? nodeFromJsonSchema(items as JsonSchemaObject) : ANY };
  }
  if (main === 'object') {
    const props = schema.properties;
    if (props === null || typeof props !== 'object') return { kind: 'object', nullable, additional: true };
    const properties = new Map<string, TypeNode>();
    for (const [name, sub] of Object.entries(props as Record<string, unknown>)) {
      if (sub !== null && typeof sub === 'object') properties.set(name, nodeFromJsonSchema(sub as JsonSchemaObject));
    }
    return { kind: 'object', nullable, properties, additional: schema.additionalProperties !== false };
  }
  return { kind: 'any', nullable: true };
}

/** One Mia `fields` entry as a TypeNode. */
export function nodeFromField(field: FieldDefinition): TypeNode {
  const nullable = field.nullable === true;
  switch (field.type) {
    case 'Array': {
      const items = field.items;
      if (items === undefined) return { kind: 'array', nullable, items: ANY };
      if (items.type === 'RawObject') {
        return { kind: 'array', nullable, items: items.schema === undefined ? { kind: 'object', nullable: false, additional: true } : nodeFromJsonSchema({ type: 'object', ...items.schema }) };
      }
      return { kind: 'array', nullable, items: { kind: items.type, nullable: false } };
    }
    case 'RawObject':
      return field.schema === undefined ? { kind: 'object', nullable, additional: true } : nodeFromJsonSchema({ type: 'object', ...field.schema }, nullable);
    default:
      return { kind: field.type, nullable };
  }
}

const INDEX = /^(0|[1-9]\d*)$/;

/**
 * The node at a dotted path below a root node (`a.b`, `list.0.name`, `list.name` for every element), or
 * undefined when the path leaves the declared shape. Objects without a declared shape yield `ANY`.
 */
export function nodeAtPath(root: TypeNode, segments: readonly string[]): TypeNode | undefined {
  let node: TypeNode = root;
  for (const segment of segments) {
    if (node.kind === 'array') {
      const element: TypeNode = node.items;
      node = element;
      // `list.0` and `list.$` name an element; `list.name` reaches into every element.
      if (INDEX.test(segment) || segment === '$') continue;
    }
    if (node.kind === 'any') return ANY;
    if (node.kind !== 'object') return undefined;
    if (node.properties === undefined) return ANY;
    const next = node.properties.get(segment);
    if (next === undefined) return node.additional ? ANY : undefined;
    node = next;
  }
  return node;
}
