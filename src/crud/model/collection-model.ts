/**
 * A collection definition compiled once at start-up into what the routes need: the type tree of every field
 * (declared and metadata), required fields, the `_id` kind, store index specs and which fields carry unique,
 * geo and text indexes (crud-api.md §1).
 */
import {
  isView,
  METADATA_FIELDS,
  type CollectionConfig,
  type DocumentState,
  type IndexDefinition,
  type JsonSchemaObject,
} from '../../config/sections/collections.js';
import type { IndexSpec } from '../../ports/document-store.js';
import { nodeFromField, nodeFromJsonSchema, type TypeNode } from './type-node.js';

export interface FieldInfo {
  readonly name: string;
  readonly node: TypeNode;
  readonly required: boolean;
  readonly metadata: boolean;
  readonly description?: string;
  /** The JSON Schema the definition gave for this field (RawObject/Array element schemas are kept verbatim). */
  readonly declaredSchema?: JsonSchemaObject;
}

export interface CollectionModel {
  readonly name: string;
  readonly config: CollectionConfig;
  readonly isView: boolean;
  readonly database: string;
  /** Declared and metadata fields, declared first in definition order. */
  readonly fields: ReadonlyMap<string, FieldInfo>;
  /** The whole document as an object node. */
  readonly root: TypeNode;
  readonly required: readonly string[];
  readonly idKind: 'ObjectId' | 'string';
  readonly defaultState: DocumentState;
  readonly defaultSorting?: Readonly<Record<string, 1 | -1>>;
  readonly indexes: readonly IndexSpec[];
  /** Unique index name -> its fields, to name them in 409 messages. */
  readonly uniqueFields: ReadonlyMap<string, readonly string[]>;
  readonly geoFields: ReadonlySet<string>;
  readonly hasTextIndex: boolean;
  readonly topic?: string;
}

const metadataNode = (name: string, idKind: 'ObjectId' | 'string'): TypeNode => {
  if (name === '_id') return { kind: idKind, nullable: false };
  if (name === 'createdAt' || name === 'updatedAt') return { kind: 'Date', nullable: false };
  return { kind: 'string', nullable: false };
};

const METADATA = new Set<string>(METADATA_FIELDS);

function declaredFields(config: CollectionConfig): { fields: FieldInfo[]; idKind: 'ObjectId' | 'string' } {
  const fields: FieldInfo[] = [];
  let idKind: 'ObjectId' | 'string' = 'ObjectId';
  if (config.fields !== undefined) {
    for (const field of config.fields) {
      if (field.name === '_id') {
        if (field.type === 'string') idKind = 'string';
        continue;
      }
      if (METADATA.has(field.name)) continue;
      const schema = field.type === 'RawObject' ? field.schema : field.type === 'Array' ? field.items?.schema : undefined;
      fields.push({
        name: field.name,
        node: nodeFromField(field),
        required: field.required === true,
        metadata: false,
        ...(field.description === undefined ? {} : { description: field.description }),
        ...(schema === undefined ? {} : { declaredSchema: schema }),
      });
    }
  } else if (config.schema !== undefined) {
    const props = (config.schema.properties ?? {}) as Record<string, JsonSchemaObject>;
    const required = new Set(Array.isArray(config.schema.required) ? (config.schema.required as string[]) : []);
    for (const [name, schema] of Object.entries(props)) {
      if (name === '_id') {
        if (schema.type === 'string' && (schema.__mia_configuration as { type?: string } | undefined)?.type !== 'ObjectId') idKind = 'string';
        continue;
      }
      if (METADATA.has(name)) continue;
      const description = typeof schema.description === 'string' ? schema.description : undefined;
      fields.push({ name, node: nodeFromJsonSchema(schema), required: required.has(name), metadata: false, declaredSchema: schema, ...(description === undefined ? {} : { description }) });
    }
  }
  return { fields, idKind };
}

const isIdIndex = (index: IndexDefinition): boolean => index.type === 'normal' && index.fields.length === 1 && index.fields[0]?.name === '_id';

function indexSpec(index: IndexDefinition): IndexSpec {
  const partial = index.usePartialFilter === true && index.partialFilterExpression !== undefined ? { partialFilterExpression: index.partialFilterExpression } : {};
  const unique = index.unique === true ? { unique: true } : {};
  switch (index.type) {
    case 'normal':
      return {
        name: index.name,
        key: Object.fromEntries(index.fields.map((f) => [f.name, f.order])),
        ...unique,
        ...partial,
        ...(index.expireAfterSeconds === undefined ? {} : { expireAfterSeconds: index.expireAfterSeconds }),
      };
    case 'geo':
      return { name: index.name, key: { [index.field]: '2dsphere' }, ...unique, ...partial };
    case 'hash':
      return { name: index.name, key: { [index.field]: 'hashed' }, ...partial };
    case 'text':
      return {
        name: index.name,
        key: Object.fromEntries(index.fields.map((f) => [f.name, 'text' as const])),
        ...partial,
        ...(index.weights === undefined ? {} : { weights: index.weights }),
        ...(index.defaultLanguage === undefined ? {} : { defaultLanguage: index.defaultLanguage }),
      };
  }
}

/** Compiles one collection (or view) definition. Pure: no I/O. */
export function compileCollection(config: CollectionConfig): CollectionModel {
  const { fields: declared, idKind } = declaredFields(config);
  const fields = new Map<string, FieldInfo>();
  for (const field of declared) fields.set(field.name, field);
  for (const name of METADATA_FIELDS) fields.set(name, { name, node: metadataNode(name, idKind), required: false, metadata: true });
  const properties = new Map<string, TypeNode>([...fields].map(([name, info]) => [name, info.node]));
  // Mia collection files list the `_id` index every collection already has (`_id_`); it is not created again
  // (MongoDB refuses a second `_id` index, and `unique` on it).
  const indexes = isView(config) ? [] : (config.indexes ?? []).filter((i) => !isIdIndex(i)).map(indexSpec);
  const uniqueFields = new Map<string, readonly string[]>([['_id_', ['_id']]]);
  for (const spec of indexes) if (spec.unique === true) uniqueFields.set(spec.name, Object.keys(spec.key));
  const geoFields = new Set<string>();
  for (const spec of indexes) for (const [field, kind] of Object.entries(spec.key)) if (kind === '2dsphere') geoFields.add(field);
  for (const field of declared) if (field.node.kind === 'GeoPoint') geoFields.add(field.name);
  const topic = isView(config) ? undefined : config.events?.topic;
  return {
    name: config.name,
    config,
    isView: isView(config),
    database: config.database ?? 'default',
    fields,
    root: { kind: 'object', nullable: false, properties, additional: false },
    required: declared.filter((f) => f.required).map((f) => f.name),
    idKind,
    defaultState: isView(config) ? 'PUBLIC' : (config.defaultState ?? 'DRAFT'),
    ...(config.defaultSorting === undefined ? {} : { defaultSorting: config.defaultSorting }),
    indexes,
    uniqueFields,
    geoFields,
    hasTextIndex: indexes.some((spec) => Object.values(spec.key).includes('text')),
    ...(topic === undefined ? {} : { topic }),
  };
}
