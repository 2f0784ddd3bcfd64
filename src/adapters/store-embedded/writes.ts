/**
 * Document writes of the embedded store inside one write transaction: the document and its index entries
 * change together, and unique constraints (the `_id` and every unique index) are checked against the
 * transaction's own view before anything is written, so they hold atomically even with concurrent writers
 * and other processes (lmdb serialises write transactions).
 */
import { ObjectId } from 'bson';
import { MiaRunError } from '../../errors.js';
import type { Document } from '../../ports/document-store.js';
import type { CollectionMeta, IndexMeta } from './catalog.js';
import { decodeDocument, decodeFields, docKey, encodeDocument, encodeId } from './codec.js';
import { compileIndex, indexEntries, type CompiledIndex, type IndexEntry } from './index-entries.js';
import { isPlainObject } from './key-encoding.js';
import type { Kv } from './kv.js';

export interface WriteTarget {
  readonly kv: Kv;
  readonly meta: CollectionMeta;
  readonly database: string;
  readonly collection: string;
  /** True when an existing document has expired (TTL) and so no longer counts for uniqueness. */
  readonly isExpired: (doc: Document) => boolean;
}

function printValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object' && 'toHexString' in v && typeof v.toHexString === 'function') return `ObjectId('${String(v.toHexString())}')`;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function duplicateKey(target: Pick<WriteTarget, 'database' | 'collection'>, index: string, key: Record<string, unknown>): MiaRunError {
  const text = `{ ${Object.entries(key).map(([k, v]) => `${k}: ${printValue(v)}`).join(', ')} }`;
  return new MiaRunError('MR_STORE_DUPLICATE_KEY', `E11000 duplicate key error collection: ${target.database}.${target.collection} index: ${index} dup key: ${text}`, {
    retriable: false,
    details: { collection: target.collection, index, key },
  });
}

/** Checks field names the way MongoDB does for stored documents. */
export function validateDocument(doc: Document): void {
  if (!isPlainObject(doc)) throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', 'A document must be a plain object');
  for (const key of Object.keys(doc)) {
    if (key.startsWith('$')) throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', `Field names must not start with "$" ("${key}")`);
  }
  if (Array.isArray(doc._id) || doc._id === undefined || (doc._id instanceof RegExp)) {
    throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', 'The _id of a document must be present and must not be an array or a regular expression');
  }
}

/** True when `index` certainly holds the same entries for both documents: the same primitives at plain fields. */
function sameEntries(index: CompiledIndex, a: Document, b: Document): boolean {
  if (!index.plain || index.partial !== undefined) return false;
  for (const field of index.fields) {
    const x = a[field] ?? null;
    const y = b[field] ?? null;
    if (x === y && (x === null || typeof x !== 'object')) continue;
    if (x instanceof Date && y instanceof Date && x.getTime() === y.getTime()) continue;
    return false;
  }
  return true;
}

function entriesOf(
  meta: CollectionMeta,
  doc: Document | undefined,
  encodedId: Buffer,
  unchanged?: ReadonlySet<IndexMeta>,
): Map<string, { entry: IndexEntry; index: string; fields: readonly string[]; unique: boolean }> {
  const out = new Map<string, { entry: IndexEntry; index: string; fields: readonly string[]; unique: boolean }>();
  if (doc === undefined) return out;
  for (const m of meta.indexes) {
    if (unchanged?.has(m) === true) continue;
    const index = compileIndex(m);
    for (const entry of indexEntries(index, doc, encodedId)) {
      out.set(entry.key.toString('hex'), { entry, index: index.name, fields: index.fields, unique: index.unique });
    }
  }
  return out;
}

/**
 * Writes `after` (insert when `before` is undefined, else replace). Throws `MR_STORE_DUPLICATE_KEY` before
 * writing anything when a unique value is taken by another live document (an expired one is removed).
 */
export function putDocument(target: WriteTarget, before: Document | undefined, after: Document): void {
  validateDocument(after);
  const encodedId = encodeId(after._id);
  putEncoded(target, before, after, encodeDocument(after), encodedId);
}

/**
 * `putDocument` for a document the caller validated and encoded (`bytes`). `before` and `after` are only read
 * for their `_id` and indexed fields, so they may be partial views (`indexedView`) of the stored documents.
 */
export function putEncoded(target: WriteTarget, before: Document | undefined, after: Document, bytes: Buffer, encodedId: Buffer = encodeId(after._id)): void {
  const key = docKey(target.meta.id, encodedId);
  if (before === undefined) {
    const existing = target.kv.get(key);
    if (existing !== undefined) {
      const other = decodeDocument(existing);
      if (!target.isExpired(other)) throw duplicateKey(target, '_id_', { _id: after._id });
      removeDocument(target, other);
    }
  }
  // Indexes whose fields keep the same values need no entries computed, checked or rewritten.
  const unchanged = before === undefined ? undefined : new Set(target.meta.indexes.filter((m) => sameEntries(compileIndex(m), before, after)));
  const old = entriesOf(target.meta, before, encodedId, unchanged);
  const next = entriesOf(target.meta, after, encodedId, unchanged);
  for (const [hex, e] of next) {
    if (!e.unique || old.has(hex)) continue;
    const holder = target.kv.get(e.entry.key);
    if (holder === undefined || holder.equals(encodedId)) continue;
    const raw = target.kv.get(docKey(target.meta.id, holder));
    const other = raw === undefined ? undefined : decodeDocument(raw);
    if (other !== undefined && target.isExpired(other)) {
      removeDocument(target, other);
      continue;
    }
    throw duplicateKey(target, e.index, Object.fromEntries(e.fields.map((f, i) => [f, e.entry.tuple[i]])));
  }
  for (const [hex, e] of old) if (!next.has(hex)) target.kv.remove(e.entry.key);
  for (const [hex, e] of next) if (!old.has(hex)) target.kv.put(e.entry.key, encodedId);
  target.kv.put(key, bytes);
}

const indexedRoots = new WeakMap<CollectionMeta, ReadonlySet<string> | null>();

/**
 * The top-level fields that index entries and TTL expiry of the collection read (with `_id`), or null when a
 * partial index filter may read any field.
 */
export function indexedFields(meta: CollectionMeta): ReadonlySet<string> | null {
  let names = indexedRoots.get(meta);
  if (names === undefined) {
    const roots = new Set(['_id']);
    for (const m of meta.indexes) for (const field of Object.keys(m.spec.key)) roots.add(field.split('.')[0]!);
    names = meta.indexes.some((m) => m.spec.partialFilterExpression !== undefined) ? null : roots;
    indexedRoots.set(meta, names);
  }
  return names;
}

/** What index maintenance reads of stored `bytes`: the fields `names` (the whole document when null). */
export function indexedView(bytes: Buffer, names: ReadonlySet<string> | null): Document {
  return (names === null ? undefined : decodeFields(bytes, names)) ?? decodeDocument(bytes);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** A value that reads back from BSON as the same value (so its index entries are the same). */
function storedAsIs(value: unknown): boolean {
  switch (typeof value) {
    case 'string': return !SURROGATE.test(value); // a lone surrogate would read back as U+FFFD
    case 'number': case 'boolean': return true;
    case 'object': return value === null || value instanceof ObjectId || (value instanceof Date && Number.isFinite(value.getTime()));
    default: return false;
  }
}

/**
 * `indexedView` of a document about to be stored as `bytes`, taken from `doc` itself when every field read
 * holds a value BSON stores as is (strings, numbers, booleans, null, dates, ObjectIds): no decoding then.
 */
export function indexedViewOf(doc: Document, bytes: Buffer, names: ReadonlySet<string> | null): Document {
  if (names === null) return decodeDocument(bytes);
  const view: Document = {};
  for (const name of names) {
    if (!Object.hasOwn(doc, name)) continue;
    const value = doc[name];
    if (!storedAsIs(value)) return indexedView(bytes, names);
    view[name] = value;
  }
  return view;
}

/** Removes a document and its index entries. */
export function removeDocument(target: WriteTarget, doc: Document): void {
  const encodedId = encodeId(doc._id);
  for (const e of entriesOf(target.meta, doc, encodedId).values()) target.kv.remove(e.entry.key);
  target.kv.remove(docKey(target.meta.id, encodedId));
}
