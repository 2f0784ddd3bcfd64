/**
 * From a normalised change to projection fields (fast-data.md §2 key resolution, §3.1 casts, §3.2 unknown
 * columns): resolve the primary key, cast mapped columns, drop and count the others. A failed cast stores
 * null and is counted; on a required or primary-key field the message is dead-lettered (MR_FD_CAST_FAILED).
 */
import { MiaRunError } from '../errors.js';
import type { ProjectionConfig } from '../config/sections/fast-data.js';
import type { Logger } from '../ports/logger.js';
import { CAST_FAILED, applyCast, type CastFn } from './casts.js';
import type { Image, ParsedChange } from './formats/index.js';

export interface CompiledField {
  readonly name: string;
  readonly source: string;
  readonly cast: CastFn;
  readonly required: boolean;
}

export interface CompiledProjection {
  readonly name: string;
  readonly sor: string;
  readonly topic: string;
  readonly collection: string;
  readonly config: ProjectionConfig;
  /** Projection PK field names. */
  readonly primaryKey: readonly string[];
  /** Source PK column names (through `fields`). */
  readonly sourceKeys: readonly string[];
  readonly fields: readonly CompiledField[];
  readonly bySource: ReadonlyMap<string, CompiledField>;
}

export interface MappingStats {
  onUncastable(projection: string, field: string): void;
  onUnknown(projection: string, column: string): void;
}

/** Compiles a projection's fields, binding casts by name. */
export function compileProjection(name: string, sor: string, config: ProjectionConfig, casts: (name: string) => CastFn): CompiledProjection {
  const pk = new Set(config.primaryKey);
  const fields = config.fields.map((f) => ({ name: f.name, source: f.source, cast: casts(f.cast ?? 'identity'), required: f.required === true || pk.has(f.name) }));
  const byName = new Map(fields.map((f) => [f.name, f]));
  return {
    name,
    sor,
    topic: config.topic,
    collection: config.collection ?? name,
    config,
    primaryKey: config.primaryKey,
    sourceKeys: config.primaryKey.map((k) => byName.get(k)?.source ?? k),
    fields,
    bySource: new Map(fields.map((f) => [f.source, f])),
  };
}

/** Source PK values of one image, or undefined when any is missing or null. */
function keyFrom(image: Image | null, columns: readonly string[]): Image | undefined {
  if (image === null) return undefined;
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = image[c];
    if (v === undefined || v === null) return undefined;
    out[c] = v;
  }
  return out;
}

/**
 * The source key of the record a change targets: the key object when it holds every PK column, else the
 * image (`after`, or `before` for D); a golden-gate string key `a_b` is split only as a last resort.
 */
export function resolveSourceKey(p: CompiledProjection, change: ParsedChange, side: 'before' | 'after'): Image | undefined {
  const img = side === 'after' ? change.after : change.before;
  const fromKey = keyFrom(change.key, p.sourceKeys);
  if (change.counterType === 'pos') return keyFrom(img, p.sourceKeys) ?? fromKey ?? splitKey(change.rawKey, p.sourceKeys);
  return fromKey ?? keyFrom(img, p.sourceKeys) ?? splitKey(change.rawKey, p.sourceKeys);
}

function splitKey(raw: string | null, columns: readonly string[]): Image | undefined {
  if (raw === null || raw === '' || raw[0] === '{') return undefined;
  const parts = raw.split('_');
  if (parts.length !== columns.length) return undefined;
  return Object.fromEntries(columns.map((c, i) => [c, parts[i]]));
}

/**
 * Casts the mapped columns present in `image` (absent columns are "not in this image" and not cast).
 * Returns projection field → value, keyed by field name (dot paths kept as keys).
 */
export function mapImage(p: CompiledProjection, image: Image, stats: MappingStats, logger: Logger): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of Object.keys(image)) {
    const field = p.bySource.get(column);
    if (field === undefined) {
      stats.onUnknown(p.name, column);
      continue;
    }
    const value = applyCast(field.cast, image[column], { fieldName: field.name, record: image, logger });
    if (value === CAST_FAILED) {
      if (field.required) {
        throw new MiaRunError('MR_FD_CAST_FAILED', `${p.name}.${field.name}: cannot cast ${JSON.stringify(image[column])}`, { retriable: false, details: { projection: p.name, field: field.name } });
      }
      stats.onUncastable(p.name, field.name);
      out[field.name] = null;
    } else {
      out[field.name] = value;
    }
  }
  return out;
}

/** Casts a source key into projection PK values (dead-letters when a key column cannot be cast). */
export function mapKey(p: CompiledProjection, sourceKey: Image, stats: MappingStats, logger: Logger): Record<string, unknown> {
  const mapped = mapImage(p, sourceKey, stats, logger);
  const out: Record<string, unknown> = {};
  for (const k of p.primaryKey) {
    if (mapped[k] === undefined || mapped[k] === null) throw new MiaRunError('MR_FD_MISSING_KEY', `${p.name}: primary key field "${k}" is missing or null`, { retriable: false });
    out[k] = mapped[k];
  }
  return out;
}
