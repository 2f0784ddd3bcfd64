/**
 * A per-batch write buffer over one keyed collection (a projection, or a single view): reads by key see the
 * batch's own pending writes, the stored records of a whole batch can be fetched with one query per chunk
 * of keys (`prefetch`), and bursts on one key coalesce: at `flush` each key written in the batch costs one
 * operation (its final state), all in one `bulkWrite` (one durable commit instead of one per message).
 * Filters are always the key object, built in key order, so `JSON.stringify(filter)` identifies a record.
 */
import type { BulkWriteOperation, Collection, Document, Filter, UpdateResult } from '../ports/document-store.js';

export type KeyedCollection = Pick<Collection, 'findOne' | 'replaceOne' | 'deleteOne'>;

export interface WriteBuffer extends KeyedCollection {
  /**
   * Reads the stored records of `keys` (key objects with the fields of `keyFields`) in chunks of one query
   * each, so later `findOne` calls on them are answered from memory; missing records are remembered as such.
   */
  prefetch(keyFields: readonly string[], keys: readonly Filter[]): Promise<void>;
  /** Writes everything buffered (one operation per key) and empties the buffer. */
  flush(): Promise<void>;
}

const DONE: UpdateResult = { matchedCount: 1, modifiedCount: 1, upsertedCount: 0 };
/** Keys per prefetch query: bounded so a composite key's `$in` product stays a point read and each matched record is checked against a short `$in` list. */
const CHUNK = 64;

interface Entry {
  /** The record as stored before the batch (null: none). */
  readonly stored: Document | null;
  /** The record after the batch's writes so far. */
  current: Document | null;
  filter: Filter;
  dirty: boolean;
}

const keyId = (filter: Filter): string => JSON.stringify(filter);

export interface WriteBufferOptions {
  /**
   * A record missing before the batch is written with `insertOne` (cheaper than an upsert). Only for
   * collections where one key has one writer at a time (a projection: one key, one partition); otherwise
   * (single views, written from several partitions) it is a keyed `replaceOne` with upsert.
   */
  readonly insertMissing?: boolean;
}

/** Buffers the writes of one batch to `collection`. */
export function createWriteBuffer(collection: Collection, options: WriteBufferOptions = {}): WriteBuffer {
  const entries = new Map<string, Entry>();
  const known = new Map<string, Document | null>();

  const storedOf = async (filter: Filter, k: string): Promise<Document | null> => {
    if (known.has(k)) return known.get(k) ?? null;
    const doc = await collection.findOne(filter);
    known.set(k, doc);
    return doc;
  };
  const write = async (filter: Filter, next: Document | null): Promise<void> => {
    const k = keyId(filter);
    let entry = entries.get(k);
    if (entry === undefined) entries.set(k, (entry = { stored: await storedOf(filter, k), current: null, filter, dirty: true }));
    entry.current = next;
    entry.dirty = true;
  };

  return {
    async findOne(filter: Filter = {}) {
      const k = keyId(filter);
      const entry = entries.get(k);
      if (entry !== undefined) return entry.current;
      return storedOf(filter, k);
    },
    async replaceOne(filter: Filter, replacement: Document) {
      await write(filter, replacement);
      return DONE;
    },
    async deleteOne(filter: Filter) {
      await write(filter, null);
      return { deletedCount: 1 };
    },
    async prefetch(keyFields, keys) {
      const missing = new Map<string, Filter>();
      for (const key of keys) {
        const k = keyId(key);
        if (!known.has(k) && !entries.has(k)) missing.set(k, key);
      }
      const list = [...missing];
      for (let i = 0; i < list.length; i += CHUNK) {
        const chunk = list.slice(i, i + CHUNK);
        const query: Record<string, unknown> = {};
        for (const field of keyFields) query[field] = { $in: [...new Set(chunk.map(([, key]) => key[field]))] };
        for (const [k] of chunk) known.set(k, null);
        for await (const doc of collection.find(query)) {
          const k = keyId(Object.fromEntries(keyFields.map((f) => [f, doc[f]])));
          if (known.has(k)) known.set(k, doc);
        }
      }
    },
    async flush() {
      const ops: BulkWriteOperation[] = [];
      for (const entry of entries.values()) {
        if (!entry.dirty) continue;
        const { stored, current } = entry;
        // `insertMissing`: the stored `_id` addresses the record directly and a new record is inserted (a
        // concurrent insert of the same key fails the batch on the unique key index; the redelivery re-reads
        // it). Otherwise writes go by key (upsert), last writer wins.
        if (options.insertMissing !== true) {
          ops.push(current === null ? { deleteOne: { filter: entry.filter } } : { replaceOne: { filter: entry.filter, replacement: current, upsert: true } });
        } else if (current === null) {
          if (stored !== null) ops.push({ deleteOne: { filter: { _id: stored._id } } });
        } else if (stored === null) ops.push({ insertOne: { document: { ...current } } });
        else ops.push({ replaceOne: { filter: { _id: stored._id }, replacement: current } });
      }
      entries.clear();
      known.clear();
      if (ops.length > 0) await collection.bulkWrite(ops, { ordered: true });
    },
  };
}
