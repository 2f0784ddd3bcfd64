/**
 * The `fastData` section of the descriptor (fast-data.md §2, §3, §5): systems of record with their
 * ingestion format and projections, custom casts and functions, and single views. The JSON Schema in
 * `schemas/project.schema.json` is the truth for spelling; these types mirror it. Defaults (format
 * position, delete mode, database, collection names, states) are applied by the capability.
 */
import type { CodeHook } from '../types.js';

export type FastDataFormat = 'debezium' | 'golden-gate' | 'db2' | 'basic' | 'custom';
export type FastDataPosition = 'kafkaTimestamp' | 'offset' | 'source.ts_ms' | 'source.lsn' | 'pos';

export interface ProjectionFieldConfig {
  /** Projection field; a dot path writes a nested field. */
  readonly name: string;
  /** Source column in the CDC image. */
  readonly source: string;
  /** Built-in cast, Mia alias or a `fastData.casts` name; default `identity`. */
  readonly cast?: string;
  readonly required?: boolean;
}

export interface ProjectionConfig {
  readonly topic: string;
  /** Default: the projection name. */
  readonly collection?: string;
  /** Projection field names. */
  readonly primaryKey: readonly string[];
  readonly fields: readonly ProjectionFieldConfig[];
  readonly indexes?: readonly { readonly name?: string; readonly fields: Readonly<Record<string, 1 | -1>> }[];
}

export interface SystemOfRecordConfig {
  readonly format: FastDataFormat;
  /** `format: custom`: `messageAdapter(message, primaryKeys, logger)`. */
  readonly adapter?: CodeHook;
  /** Default `kafkaTimestamp` (`pos` for golden-gate). */
  readonly position?: FastDataPosition;
  /** Default `soft`. */
  readonly delete?: 'soft' | 'hard';
  /** Default `default`. */
  readonly database?: string;
  readonly projections: Readonly<Record<string, ProjectionConfig>>;
}

/** A field reference `projection.field`, or several for a composite relation. */
export type FieldRefs = string | readonly string[];

export interface RelationConfig {
  readonly name?: string;
  /** The referencing side (`orders.customerId`). */
  readonly from: FieldRefs;
  /** The referenced side (`customers.id`). */
  readonly to: FieldRefs;
}

export interface JoinNode {
  readonly from: string;
  readonly via?: string;
  readonly many?: boolean;
  readonly sort?: Readonly<Record<string, 1 | -1>>;
  readonly fields: AggregationConfig;
}

/** One aggregation entry: `projection.field` (or `field` inside a join), a join, a constant or a function. */
export type AggregationEntry = string | JoinNode | { readonly const: unknown } | { readonly fn: string };
export type AggregationConfig = Readonly<Record<string, AggregationEntry>>;

export interface SingleViewConfig {
  readonly database?: string;
  /** Default: the view name. */
  readonly collection?: string;
  /** Default: the projection named in `key`. */
  readonly base?: string;
  /** SV field ← `projection.field` of the base. */
  readonly key: Readonly<Record<string, string>>;
  readonly relations?: readonly RelationConfig[];
  readonly aggregation: AggregationConfig;
  /** Default `[PUBLIC]`. */
  readonly onStates?: readonly ('PUBLIC' | 'DRAFT' | 'TRASH' | 'DELETED')[];
  /** Default `delete`. */
  readonly delete?: 'delete' | 'virtualDelete';
  readonly publish?: { readonly topic: string; readonly version?: 'v2' };
}

export interface FastDataConfig {
  readonly casts?: Readonly<Record<string, CodeHook>>;
  readonly functions?: Readonly<Record<string, CodeHook>>;
  readonly systemsOfRecord?: Readonly<Record<string, SystemOfRecordConfig>>;
  readonly singleViews?: Readonly<Record<string, SingleViewConfig>>;
}

/** Built-in cast names and Mia aliases (fast-data.md §3.1); `src/projections/casts.ts` implements each. */
export const BUILTIN_CAST_NAMES: readonly string[] = [
  'identity', 'toString', 'toInteger', 'toNumber', 'toBoolean', 'toDate', 'toTimestamp', 'unixTimestampToISOString', 'toObject', 'toArrayOfObject',
  'defaultIdentity',
  ...['CastToString', 'CastToInteger', 'CastToFloat', 'CastStringToBoolean', 'CastToDate', 'CastUnixTimestampToISOString', 'CastToObject', 'CastToArrayOfObject'].flatMap((s) => [`default${s}`, `c${s.slice(1)}`]),
  'defaultCastUnitTimestampToISOString',
];
