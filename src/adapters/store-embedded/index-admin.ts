/**
 * Index management of the embedded store (inside one write transaction): validate definitions, build entries
 * for existing documents (a unique index over duplicates fails and nothing is written), rebuild an index whose
 * definition changed, drop indexes and whole collections.
 */
import { MiaRunError } from '../../errors.js';
import type { IndexSpec } from '../../ports/document-store.js';
import { ID_INDEX, type Catalog, type CollectionMeta, type IndexMeta } from './catalog.js';
import { decodeDocument, encodeId, indexPrefix } from './codec.js';
import { compileIndex, indexEntries, indexKind } from './index-entries.js';
import { prefixEnd } from './key-encoding.js';
import type { Kv } from './kv.js';
import { docRange } from './planner.js';
import { mingoQuery } from './query.js';
import { duplicateKey } from './writes.js';

const KEY_KINDS = new Set<unknown>([1, -1, 'text', '2dsphere', 'hashed']);

function invalid(message: string): MiaRunError {
  return new MiaRunError('MR_STORE_INVALID_QUERY', message);
}

export function validateIndexSpec(spec: IndexSpec, existing: readonly IndexSpec[]): void {
  if (typeof spec.name !== 'string' || spec.name === '') throw invalid('An index needs a name');
  const fields = Object.entries(spec.key ?? {});
  if (fields.length === 0) throw invalid(`Index "${spec.name}" needs at least one key field`);
  for (const [field, kind] of fields) if (!KEY_KINDS.has(kind)) throw invalid(`Index "${spec.name}": invalid kind ${String(kind)} for "${field}"`);
  if (spec.name === '_id_') throw invalid('The _id_ index exists already and cannot be redefined');
  if (spec.expireAfterSeconds !== undefined) {
    if (fields.length !== 1 || indexKind(spec) !== 'normal') throw invalid(`TTL index "${spec.name}" must have exactly one ascending or descending field`);
    if (!Number.isFinite(spec.expireAfterSeconds) || spec.expireAfterSeconds < 0) throw invalid(`TTL index "${spec.name}": expireAfterSeconds must be >= 0`);
  }
  if (indexKind(spec) === 'text' && existing.some((e) => e.name !== spec.name && indexKind(e) === 'text')) {
    throw invalid(`A collection can have only one text index ("${spec.name}")`);
  }
  if (spec.partialFilterExpression !== undefined) mingoQuery(spec.partialFilterExpression);
}

/** Definitions are equal when every option that changes behaviour is equal. */
export function sameDefinition(a: IndexSpec, b: IndexSpec): boolean {
  const norm = (s: IndexSpec): string =>
    JSON.stringify([Object.entries(s.key), s.unique === true, s.expireAfterSeconds ?? null, s.partialFilterExpression ?? null, s.weights ?? null, s.defaultLanguage ?? null]);
  return norm(a) === norm(b);
}

function clearRange(kv: Kv, start: Buffer, end: Buffer): void {
  const keys = [...kv.range(start, end)].map((e) => e.key);
  for (const key of keys) kv.remove(key);
}

/** Creates or rebuilds the indexes of `specs` on collection `name`. */
export function ensureIndexes(kv: Kv, catalog: Catalog, ctx: { database: string; collection: string }, specs: readonly IndexSpec[]): void {
  let meta = catalog.collection(kv, ctx.collection, true)!;
  for (const spec of specs) {
    validateIndexSpec(spec, meta.indexes.map((i) => i.spec));
    const current = meta.indexes.find((i) => i.spec.name === spec.name);
    if (current !== undefined && sameDefinition(current.spec, spec)) continue;
    if (current !== undefined) meta = removeIndex(kv, catalog, ctx.collection, meta, spec.name);
    const id = catalog.load(kv).nextId;
    const index: IndexMeta = { id, spec: { ...spec } };
    const compiled = compileIndex(index);
    const range = docRange(meta.id);
    for (const entry of kv.range(range.start, range.end)) {
      const doc = decodeDocument(entry.value);
      const encodedId = encodeId(doc._id);
      for (const e of indexEntries(compiled, doc, encodedId)) {
        const holder = compiled.unique ? kv.get(e.key) : undefined;
        if (holder !== undefined && !holder.equals(encodedId)) {
          throw duplicateKey(ctx, spec.name, Object.fromEntries(compiled.fields.map((f, i) => [f, e.tuple[i]])));
        }
        kv.put(e.key, encodedId);
      }
    }
    meta = { ...meta, indexes: [...meta.indexes, index] };
    catalog.update(kv, ctx.collection, meta, id + 1);
  }
}

function removeIndex(kv: Kv, catalog: Catalog, collection: string, meta: CollectionMeta, name: string): CollectionMeta {
  const index = meta.indexes.find((i) => i.spec.name === name);
  if (index === undefined) return meta;
  const prefix = indexPrefix(index.id);
  clearRange(kv, prefix, prefixEnd(prefix));
  const next = { ...meta, indexes: meta.indexes.filter((i) => i !== index) };
  catalog.update(kv, collection, next);
  return next;
}

export function dropIndex(kv: Kv, catalog: Catalog, collection: string, name: string): void {
  if (name === ID_INDEX.name) throw invalid('The _id_ index cannot be dropped');
  const meta = catalog.collection(kv, collection, false);
  if (meta !== undefined) removeIndex(kv, catalog, collection, meta, name);
}

export function dropCollection(kv: Kv, catalog: Catalog, collection: string): void {
  const meta = catalog.collection(kv, collection, false);
  if (meta === undefined) return;
  for (const index of meta.indexes) {
    const prefix = indexPrefix(index.id);
    clearRange(kv, prefix, prefixEnd(prefix));
  }
  const range = docRange(meta.id);
  clearRange(kv, range.start, range.end);
  catalog.update(kv, collection, undefined);
}

export function listIndexes(meta: CollectionMeta | undefined): IndexSpec[] {
  return [ID_INDEX, ...(meta?.indexes.map((i) => i.spec) ?? [])];
}
