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
  /** Poison messages: default topic `<topic>.dlq`; `mode: skip` (default) or `holdKey`. */
  readonly deadLetter?: { readonly topic?: string; readonly mode?: 'skip' | 'holdKey' };
  /** pr-update stream of this projection (fast-data.md §4); default version `v2`. */
  readonly publish?: { readonly topic: string; readonly version?: 'v1' | 'v2' };
  /** Written by a Mia Real-Time Updater / Projection Storer (or another view): consumed as pr-update, never ingested here. */
  readonly external?: { readonly prUpdateTopic: string };
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
  /** MongoDB filter on either side (`countries.active: true`), constants only; the relation holds when it matches too. */
  readonly where?: Readonly<Record<string, unknown>>;
}

export interface JoinNode {
  readonly from: string;
  readonly via?: string;
  readonly many?: boolean;
  readonly sort?: Readonly<Record<string, 1 | -1>>;
  /** The joined record(s) as objects of these fields... */
  readonly fields?: AggregationConfig;
  /** ...or as the value of one entry (a field of the joined record, or a nested join). */
  readonly value?: AggregationEntry;
}

/** A nested object built from the same records (`{ fields }` without `from`). */
export interface ObjectNode {
  readonly fields: AggregationConfig;
}

/** A value of a `select` (a field reference, `{ const }` or `{ fn }`). */
export type SelectValue = string | { readonly const: unknown } | { readonly fn: string };
/** `{ "==": [operand, operand] }` with `==`, `!=`, `>`, `<`, `>=`, `<=`; operands are field references or `{ const }`. */
export type SelectCondition = Readonly<Record<string, readonly [SelectValue, SelectValue]>>;
export interface SelectEntry {
  readonly select: readonly { readonly when: SelectCondition; readonly value: SelectValue }[];
  readonly default?: SelectValue;
}

/** One aggregation entry: `projection.field` (or `field` inside a join), a join, a constant, a function or a select. */
export type AggregationEntry = string | JoinNode | ObjectNode | { readonly const: unknown } | { readonly fn: string } | SelectEntry;
export type AggregationConfig = Readonly<Record<string, AggregationEntry>>;

/** A Mia file (`erSchema`, `aggregation`, `key`), relative to the declaring file; resolved by the config loader. */
export interface MiaFileRef {
  readonly file: string;
}

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
  /** sv-update events; default version `v2`; `includeBeforeAfter` adds the images to v1 messages. */
  readonly publish?: { readonly topic: string; readonly version?: 'v1' | 'v2'; readonly includeBeforeAfter?: boolean };
  /** sv-trigger topics (fast-data.md §4): `publish` instead of computing here, `consume` to compute from triggers. */
  readonly triggers?: { readonly publish?: { readonly topic: string }; readonly consume?: { readonly topic: string } };
  /** A `fastData.functions` name: `(sv, { logger }) => boolean`. */
  readonly validator?: string;
  /** Default `delete` (Mia). */
  readonly onInvalid?: 'delete' | 'keep';
  /** Default `replace`. */
  readonly upsert?: 'replace' | 'update';
  /** Custom strategy per projection: a `fastData.functions` async generator yielding identifiers. */
  readonly strategies?: Readonly<Record<string, { readonly fn: string }>>;
  /** Identifiers from one change above which a warning is logged; default 10,000. */
  readonly fanOutWarn?: number;
  /** Aggregation time limit (`10s`); default 10 s. */
  readonly timeout?: string | number;
  /** Retries of retriable failures; default 5 × 5000 ms. */
  readonly retry?: { readonly attempts?: number; readonly delay?: string | number };
  /** Default `fd-sv-errors`. */
  readonly errors?: { readonly collection?: string };
  /** Default `<view>.DLQ`. */
  readonly deadLetter?: { readonly topic: string };
  /** Mia ER schema file; the config loader turns it into `relations`. */
  readonly erSchema?: MiaFileRef;
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
