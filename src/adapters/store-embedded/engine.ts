/**
 * The operations of one embedded collection as synchronous functions over a `Kv` view. Writes run inside one
 * lmdb write transaction (or a `withTransaction` overlay); the async `Collection` facade only schedules them.
 * Multi-document writes report a failure with the partial result instead of throwing, so the documents
 * written before it stay (MongoDB's ordered semantics).
 */
import type { Clock } from '../../ports/clock.js';
import type { Document, Filter, FindOneAndUpdateOptions, Sort, Update, UpdateResult } from '../../ports/document-store.js';
import { ObjectId } from 'bson';
import { MiaRunError } from '../../errors.js';
import type { Catalog, CollectionMeta } from './catalog.js';
import { decodeDocument, decodeFields, docKey, encodeId } from './codec.js';
import type { Kv } from './kv.js';
import { compileIndex } from './index-entries.js';
import { encodeKey, isPlainObject, prefixEnd, TAG } from './key-encoding.js';
import { prepare, search } from './search.js';
import { applyReplacement, applyUpdate, encodeReplacement, type ApplyResult, upsertId, upsertSeed, validateUpdate, withId } from './updates.js';
import { indexedFields, indexedViewOf, putDocument, putEncoded, removeDocument, type WriteTarget } from './writes.js';

export interface EngineContext {
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly database: string;
}

/** A write outcome that may carry an error after partial success. */
export interface Partial<T> {
  readonly result: T;
  readonly error?: unknown;
}

export interface UpdateSpec {
  readonly update?: Update;
  readonly replacement?: Document;
  readonly multi: boolean;
  readonly upsert: boolean;
  readonly sort?: Sort;
  /** The caller reads `before`/`after` (findOneAndUpdate): they are decoded documents then. */
  readonly documents?: boolean;
}

const isKeyScalar = (v: unknown): boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date || v instanceof ObjectId;

const isPrimitiveEquality = (field: string, value: unknown): boolean =>
  !field.startsWith('$') && !field.includes('.') && (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && !Number.isNaN(value)));

type UpdateOutcome = Partial<UpdateResult & { before?: Document | null; after?: Document | null }>;

export class CollectionEngine {
  constructor(
    private readonly ctx: EngineContext,
    readonly name: string,
  ) {}

  meta(kv: Kv): CollectionMeta | undefined {
    return this.ctx.catalog.collection(kv, this.name, false);
  }

  private target(kv: Kv, meta: CollectionMeta): WriteTarget {
    const expired = prepare(meta).expired;
    const now = this.ctx.clock.now();
    return { kv, meta, database: this.ctx.database, collection: this.name, isExpired: (doc) => expired?.(doc, now) === true };
  }

  private writable(kv: Kv): WriteTarget {
    return this.target(kv, this.ctx.catalog.collection(kv, this.name, true)!);
  }

  find(kv: Kv, filter: Filter | undefined, options?: { sort?: Sort; skip?: number; limit?: number }) {
    return search({ kv, meta: this.meta(kv), filter, now: this.ctx.clock.now(), ...(options === undefined ? {} : { options }) });
  }

  insertMany(kv: Kv, docs: readonly Document[]): Partial<unknown[]> {
    const ids: unknown[] = [];
    const target = this.writable(kv);
    for (const input of docs) {
      try {
        // No copy: the input is only read, and encoded once by putDocument.
        const doc = isPlainObject(input) ? withId(input) : input;
        putDocument(target, undefined, doc);
        ids.push(doc._id);
      } catch (error) {
        return { result: ids, error };
      }
    }
    return { result: ids };
  }

  /**
   * The hot path of `replaceOne({ _id: v, version: n }, doc)` (a point read by id with top-level equalities on
   * strings, numbers or booleans, the optimistic-concurrency write): reads the stored bytes, decodes only the
   * filter's and the indexes' fields, encodes the replacement once and stores those bytes. Undefined when the
   * filter is not of that shape or a field does not hold the same primitive (the general path judges then);
   * null when no live document has that `_id`.
   */
  private replaceById(kv: Kv, filter: Filter, replacement: Document, now: number): UpdateOutcome | null | undefined {
    const meta = this.meta(kv);
    const id = filter._id;
    if (meta === undefined || !isKeyScalar(id)) return undefined;
    const keys = Object.keys(filter);
    for (const key of keys) if (key !== '_id' && !isPrimitiveEquality(key, filter[key])) return undefined;
    const indexed = indexedFields(meta);
    if (indexed === null) return undefined;
    const encodedId = encodeId(id);
    const raw = kv.get(docKey(meta.id, encodedId));
    if (raw === undefined) return null;
    const view = decodeFields(raw, keys.length === 1 ? indexed : new Set([...indexed, ...keys]));
    if (view === undefined) return undefined;
    for (const key of keys) if (key !== '_id' && view[key] !== filter[key]) return undefined;
    if (prepare(meta).expired?.(view, now) === true) return null;
    const next = encodeReplacement(view._id, replacement);
    const changed = !next.bytes.equals(raw);
    if (changed) putEncoded(this.target(kv, meta), view, indexedViewOf(next.doc, next.bytes, indexed), next.bytes, encodedId);
    return { result: { matchedCount: 1, modifiedCount: changed ? 1 : 0, upsertedCount: 0 } };
  }

  update(kv: Kv, filter: Filter, spec: UpdateSpec): UpdateOutcome {
    if (spec.update !== undefined) validateUpdate(spec.update);
    const now = this.ctx.clock.now();
    if (spec.replacement !== undefined && spec.documents !== true && !spec.multi && spec.sort === undefined) {
      try {
        const fast = this.replaceById(kv, filter, spec.replacement, now);
        if (fast !== undefined && (fast !== null || !spec.upsert)) return fast ?? { result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 } };
      } catch (error) {
        return { result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 }, error };
      }
    }
    const hits = [...this.find(kv, filter, { ...(spec.sort === undefined ? {} : { sort: spec.sort }), limit: spec.multi ? 0 : 1 })];
    let matched = 0;
    let modified = 0;
    let before: Document | null = null;
    let after: Document | null = null;
    const target = hits.length > 0 ? this.writable(kv) : undefined;
    for (const { doc } of hits) {
      try {
        const next: ApplyResult & { bytes?: Buffer } = spec.replacement !== undefined ? applyReplacement(doc, spec.replacement) : applyUpdate(doc, spec.update!, { filter, isInsert: false, now });
        matched++;
        if (next.changed) {
          if (next.bytes !== undefined) putEncoded(target!, doc, next.doc, next.bytes);
          else putDocument(target!, doc, next.doc);
          modified++;
        }
        before = doc;
        after = next.doc;
      } catch (error) {
        return { result: { matchedCount: matched, modifiedCount: modified, upsertedCount: 0 }, error };
      }
    }
    if (matched > 0 || !spec.upsert) return { result: { matchedCount: matched, modifiedCount: modified, upsertedCount: 0, before, after } };
    // A replacement takes only `_id` from the filter; an update starts from the filter's equality fields.
    const created =
      spec.replacement !== undefined
        ? { doc: withId(replacementSeed(spec.replacement, upsertId(filter))) }
        : applyUpdate(upsertSeed(filter), spec.update!, { filter, isInsert: true, now });
    const doc = withId(created.doc);
    putDocument(this.writable(kv), undefined, doc);
    return { result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: doc._id, before: null, after: doc } };
  }

  delete(kv: Kv, filter: Filter, multi: boolean, sort?: Sort): { deletedCount: number; deleted: Document | null } {
    const hits = [...this.find(kv, filter, { ...(sort === undefined ? {} : { sort }), limit: multi ? 0 : 1 })];
    if (hits.length === 0) return { deletedCount: 0, deleted: null };
    const target = this.writable(kv);
    for (const { doc } of hits) removeDocument(target, doc);
    return { deletedCount: hits.length, deleted: hits[0]!.doc };
  }

  /** Deletes up to `max` documents expired by TTL indexes (found through the TTL index); returns how many. */
  sweepExpired(kv: Kv, max: number): number {
    const meta = this.meta(kv);
    if (meta === undefined) return 0;
    const target = this.target(kv, meta);
    const now = this.ctx.clock.now();
    const expired = new Map<string, Document>();
    for (const m of meta.indexes) {
      if (m.spec.expireAfterSeconds === undefined) continue;
      const index = compileIndex(m);
      const cutoff = encodeKey([new Date(now - m.spec.expireAfterSeconds * 1000)], index.prefix);
      for (const entry of kv.range(Buffer.concat([index.prefix, Buffer.from([TAG.date])]), prefixEnd(cutoff))) {
        if (expired.size >= max) break;
        const raw = kv.get(docKey(meta.id, entry.value));
        const doc = raw === undefined ? undefined : decodeDocument(raw);
        if (doc !== undefined && target.isExpired(doc)) expired.set(entry.value.toString('hex'), doc);
      }
    }
    for (const doc of expired.values()) removeDocument(target, doc);
    return expired.size;
  }

  /** Raw document by `_id`, expired or not (tests and tools). */
  getById(kv: Kv, id: unknown): Document | undefined {
    const meta = this.meta(kv);
    const raw = meta === undefined ? undefined : kv.get(docKey(meta.id, encodeId(id)));
    return raw === undefined ? undefined : decodeDocument(raw);
  }

  static returned(result: { before?: Document | null; after?: Document | null }, options: FindOneAndUpdateOptions): Document | null {
    return (options.returnDocument === 'after' ? result.after : result.before) ?? null;
  }
}

function replacementSeed(replacement: Document, id: unknown): Document {
  return id === undefined ? { ...replacement } : { ...replacement, _id: id };
}

export function assertFilter(filter: unknown): asserts filter is Filter {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new MiaRunError('MR_STORE_INVALID_QUERY', 'Filter must be an object');
  }
}
