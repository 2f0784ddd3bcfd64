/**
 * Index entries of a document: which keys a normal / compound / TTL / partial / hashed index holds for it.
 * Text and 2dsphere indexes keep no entries (their queries scan; see docs/storage.md). Arrays are multikey:
 * one entry per element, as in MongoDB; a missing field indexes as null.
 */
import { Query } from 'mingo';
import type { Document, IndexSpec } from '../../ports/document-store.js';
import { MiaRunError } from '../../errors.js';
import type { IndexMeta } from './catalog.js';
import { encodeId, indexPrefix } from './codec.js';
import { encodeValue, isPlainObject, KeyWriter } from './key-encoding.js';

/** Values at a dotted path, expanding arrays along the way (MongoDB multikey semantics). */
export function valuesAtPath(doc: unknown, path: string): unknown[] {
  const parts = path.split('.');
  let current: unknown[] = [doc];
  for (const part of parts) {
    const next: unknown[] = [];
    for (const value of current) {
      if (Array.isArray(value)) {
        const index = /^\d+$/.test(part) ? Number(part) : -1;
        if (index >= 0) next.push(value[index]);
        else for (const el of value) if (isPlainObject(el)) next.push(el[part]);
      } else if (isPlainObject(value)) next.push(value[part]);
      else next.push(undefined);
    }
    current = next;
  }
  const out: unknown[] = [];
  for (const value of current) {
    if (Array.isArray(value) && value.length > 0) out.push(...value);
    else out.push(value === undefined ? null : value);
  }
  return out.length === 0 ? [null] : out;
}

export type IndexKind = 'normal' | 'text' | '2dsphere';

export function indexKind(spec: IndexSpec): IndexKind {
  const kinds = Object.values(spec.key);
  if (kinds.includes('text')) return 'text';
  if (kinds.includes('2dsphere')) return '2dsphere';
  return 'normal';
}

/** A compiled index: what writes and the planner need. */
export interface CompiledIndex {
  readonly meta: IndexMeta;
  readonly name: string;
  readonly kind: IndexKind;
  readonly fields: readonly string[];
  readonly unique: boolean;
  readonly partial: Query | undefined;
  readonly prefix: Buffer;
  /** Every field is a top-level name (no dots). */
  readonly plain: boolean;
}

const compiled = new WeakMap<IndexMeta, CompiledIndex>();

export function compileIndex(meta: IndexMeta): CompiledIndex {
  let c = compiled.get(meta);
  if (c === undefined) {
    const spec = meta.spec;
    c = {
      meta,
      name: spec.name,
      kind: indexKind(spec),
      fields: Object.keys(spec.key),
      unique: spec.unique === true,
      partial: spec.partialFilterExpression === undefined ? undefined : new Query(spec.partialFilterExpression, {}),
      prefix: indexPrefix(meta.id),
      plain: Object.keys(spec.key).every((f) => !f.includes('.')),
    };
    compiled.set(meta, c);
  }
  return c;
}

const MAX_ENTRIES_PER_DOCUMENT = 10_000;

/** Tuples of field values the index holds for `doc` (empty when a partial filter excludes it). */
export function indexTuples(index: CompiledIndex, doc: Document): unknown[][] {
  if (index.kind !== 'normal') return [];
  if (index.partial !== undefined && !index.partial.test(doc)) return [];
  if (index.plain) {
    // Undotted fields holding no arrays (the usual case): one entry, no path walking.
    const tuple = index.fields.map((f) => doc[f] ?? null);
    if (!tuple.some(Array.isArray)) return [tuple];
  }
  let tuples: unknown[][] = [[]];
  let arrays = 0;
  for (const field of index.fields) {
    const values = dedupe(valuesAtPath(doc, field));
    if (values.length > 1) arrays++;
    if (arrays > 1) {
      throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', `cannot index parallel arrays in index "${index.name}"`, { details: { index: index.name } });
    }
    tuples = tuples.flatMap((t) => values.map((v) => [...t, v]));
  }
  if (tuples.length > MAX_ENTRIES_PER_DOCUMENT) {
    throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', `document has too many entries for index "${index.name}"`);
  }
  return tuples;
}

function dedupe(values: unknown[]): unknown[] {
  if (values.length < 2) return values;
  const seen = new Map<string, unknown>();
  for (const v of values) {
    seen.set(encodeValue(v).toString('hex'), v);
  }
  return [...seen.values()];
}

export interface IndexEntry {
  readonly key: Buffer;
  readonly tuple: readonly unknown[];
}

/** lmdb keys of the entries `doc` has in `index`: unique indexes key by values alone, others add the `_id`. */
export function indexEntries(index: CompiledIndex, doc: Document, encodedId: Buffer = encodeId(doc._id)): IndexEntry[] {
  return indexTuples(index, doc).map((tuple) => {
    const w = new KeyWriter(index.prefix);
    for (const v of tuple) w.value(v);
    if (!index.unique) w.bytes(encodedId);
    return { key: w.finish(), tuple };
  });
}
