/**
 * A per-batch write buffer over one projection collection: reads by primary key see the batch's own
 * pending writes, and every write of the batch reaches the store in one ordered `bulkWrite` (one durable
 * commit instead of one per message). Filters are always the projection's PK object, built in PK order.
 */
import type { BulkWriteOperation, Collection, Document, Filter, UpdateResult } from '../ports/document-store.js';

export type KeyedCollection = Pick<Collection, 'findOne' | 'replaceOne' | 'deleteOne'>;

export interface WriteBuffer extends KeyedCollection {
  /** Writes everything buffered (in order) and empties the buffer. */
  flush(): Promise<void>;
}

const DONE: UpdateResult = { matchedCount: 1, modifiedCount: 1, upsertedCount: 0 };

/** Buffers the writes of one batch to `collection`. */
export function createWriteBuffer(collection: Collection): WriteBuffer {
  const pending = new Map<string, Document | null>();
  let ops: BulkWriteOperation[] = [];
  const id = (filter: Filter): string => JSON.stringify(filter);
  return {
    async findOne(filter: Filter = {}) {
      const k = id(filter);
      if (pending.has(k)) return pending.get(k) ?? null;
      return collection.findOne(filter);
    },
    async replaceOne(filter: Filter, replacement: Document) {
      pending.set(id(filter), replacement);
      ops.push({ replaceOne: { filter, replacement, upsert: true } });
      return DONE;
    },
    async deleteOne(filter: Filter) {
      pending.set(id(filter), null);
      ops.push({ deleteOne: { filter } });
      return { deletedCount: 1 };
    },
    async flush() {
      if (ops.length === 0) return;
      const batch = ops;
      ops = [];
      pending.clear();
      await collection.bulkWrite(batch, { ordered: true });
    },
  };
}
