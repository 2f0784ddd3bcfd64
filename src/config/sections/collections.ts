/**
 * The `collections` section of the descriptor (crud-api.md §1): Mia CRUD Service collection definitions,
 * as the config pipeline returns them (defaults applied). `schemas/project.schema.json` is the truth for
 * spelling; these types mirror it.
 */

/** Mia's field types (`fields[].type`). */
export const MIA_FIELD_TYPES = ['string', 'number', 'boolean', 'Date', 'ObjectId', 'GeoPoint', 'Array', 'RawObject'] as const;
export type MiaFieldType = (typeof MIA_FIELD_TYPES)[number];

/** Document states (`__STATE__`). */
export const DOCUMENT_STATES = ['PUBLIC', 'DRAFT', 'TRASH', 'DELETED'] as const;
export type DocumentState = (typeof DOCUMENT_STATES)[number];

/** Fields every collection has without declaring them. */
export const METADATA_FIELDS = ['_id', 'creatorId', 'createdAt', 'updaterId', 'updatedAt', '__STATE__'] as const;

/** A JSON Schema object as written in the descriptor (a nested `schema` of a RawObject, or a collection `schema`). */
export type JsonSchemaObject = Readonly<Record<string, unknown>>;

export interface ArrayItemsDefinition {
  readonly type: 'string' | 'number' | 'boolean' | 'Date' | 'ObjectId' | 'RawObject' | 'GeoPoint';
  readonly schema?: JsonSchemaObject;
}

/** One entry of Mia's `fields` list. */
export interface FieldDefinition {
  readonly name: string;
  readonly type: MiaFieldType;
  readonly required?: boolean;
  readonly nullable?: boolean;
  readonly description?: string;
  /** Element type of an `Array` field. */
  readonly items?: ArrayItemsDefinition;
  /** Nested JSON Schema of a `RawObject` field. */
  readonly schema?: JsonSchemaObject;
}

export interface IndexFieldDefinition {
  readonly name: string;
  readonly order: 1 | -1;
}

interface IndexCommon {
  readonly name: string;
  readonly unique?: boolean;
  readonly usePartialFilter?: boolean;
  readonly partialFilterExpression?: Readonly<Record<string, unknown>>;
}

export interface NormalIndexDefinition extends IndexCommon {
  readonly type: 'normal';
  readonly fields: readonly IndexFieldDefinition[];
  /** TTL: documents expire this many seconds after the (single, Date) field's value. */
  readonly expireAfterSeconds?: number;
}

export interface GeoIndexDefinition extends IndexCommon {
  readonly type: 'geo';
  readonly field: string;
}

export interface HashIndexDefinition extends IndexCommon {
  readonly type: 'hash';
  readonly field: string;
}

export interface TextIndexDefinition extends IndexCommon {
  readonly type: 'text';
  readonly fields: readonly { readonly name: string }[];
  readonly weights?: Readonly<Record<string, number>>;
  readonly defaultLanguage?: string;
  readonly languageOverride?: string;
}

export type IndexDefinition = NormalIndexDefinition | GeoIndexDefinition | HashIndexDefinition | TextIndexDefinition;

interface CollectionCommon {
  readonly name: string;
  /** Where the gateway mounts the collection when no endpoint targets it explicitly. */
  readonly endpointBasePath?: string;
  /** A `databases` entry; default `default`. */
  readonly database?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  /** Mia's field list; exclusive with `schema`. */
  readonly fields?: readonly FieldDefinition[];
  /** A JSON Schema object (`type: object`, `properties`, ...); exclusive with `fields`. */
  readonly schema?: JsonSchemaObject;
  readonly defaultSorting?: Readonly<Record<string, 1 | -1>>;
}

/** A read-write collection. */
export interface CollectionDefinition extends CollectionCommon {
  readonly type?: 'collection';
  /** State given to documents inserted without `__STATE__`; default `DRAFT`. */
  readonly defaultState?: DocumentState;
  readonly indexes?: readonly IndexDefinition[];
  /** Every change is published on this topic through the outbox. */
  readonly events?: { readonly topic: string };
}

/** A read-only collection: an aggregation pipeline over another collection (`source`). */
export interface ViewDefinition extends CollectionCommon {
  readonly type: 'view';
  readonly source: string;
  readonly pipeline: readonly Readonly<Record<string, unknown>>[];
}

export type CollectionConfig = CollectionDefinition | ViewDefinition;

export const isView = (collection: CollectionConfig): collection is ViewDefinition => collection.type === 'view';
