/**
 * A small in-memory DocumentStore (mingo for filters) implementing the part of the port sagas use, for unit
 * tests of the saga engine independent of the storage adapters. Documents are deep-copied in and out, as a
 * real store would, so a test cannot pass by sharing references.
 */
import { aggregate, find } from 'mingo';
import type { BulkWriteOperation, Collection, Document, DocumentStore, Filter, FindCursor, FindOptions } from '../../src/ports/document-store.js';
import type { HealthCheck } from '../../src/ports/lifecycle.js';
import { MiaRunError } from '../../src/errors.js';

function cursor(docs: Document[]): FindCursor {
  return {
    toArray: async () => docs,
    close: async () => undefined,
    async *[Symbol.asyncIterator]() {
      yield* docs;
    },
  };
}

function query(docs: Document[], filter: Filter = {}, options: FindOptions = {}): Document[] {
  let c = find(docs, filter, options.projection as Record<string, 0 | 1> | undefined);
  if (options.sort) c = c.sort(options.sort as Record<string, 1 | -1>);
  if (options.skip) c = c.skip(options.skip);
  if (options.limit) c = c.limit(options.limit);
  return c.all() as Document[];
}

export class MemoryCollection {
  readonly docs = new Map<unknown, Document>();
  /** Number of writes, for tests that count them. */
  writes = 0;

  constructor(readonly name: string) {}

  private all(): Document[] {
    return [...this.docs.values()];
  }

  async insertOne(document: Document) {
    const id = document._id;
    if (this.docs.has(id)) throw new MiaRunError('MR_STORE_DUPLICATE_KEY', `duplicate _id ${String(id)}`);
    this.docs.set(id, structuredClone(document));
    this.writes++;
    return { insertedId: id };
  }

  find(filter?: Filter, options?: FindOptions): FindCursor {
    return cursor(structuredClone(query(this.all(), filter, options)));
  }

  async findOne(filter?: Filter, options?: FindOptions): Promise<Document | null> {
    return structuredClone(query(this.all(), filter, { ...options, limit: 1 })[0] ?? null);
  }

  async count(filter?: Filter): Promise<number> {
    return query(this.all(), filter).length;
  }

  async replaceOne(filter: Filter, replacement: Document) {
    const [match] = query(this.all(), filter, { limit: 1, projection: { _id: 1 } });
    if (!match) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 };
    this.docs.set(match._id, structuredClone({ ...replacement, _id: match._id }));
    this.writes++;
    return { matchedCount: 1, modifiedCount: 1, upsertedCount: 0 };
  }

  /** Only what recording a saga definition needs: an upsert by `_id` with `$setOnInsert`. */
  async updateOne(filter: Filter, update: { $setOnInsert?: Document }, options: { upsert?: boolean } = {}) {
    const keys = Object.keys(update);
    if (keys.some((k) => k !== '$setOnInsert') || Object.keys(filter).some((k) => k !== '_id')) throw new MiaRunError('MR_STORE_UNSUPPORTED', 'the memory store double only upserts by _id with $setOnInsert');
    if (this.docs.has(filter._id)) return { matchedCount: 1, modifiedCount: 0, upsertedCount: 0 };
    if (options.upsert !== true) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 };
    await this.insertOne({ _id: filter._id, ...update.$setOnInsert });
    return { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: filter._id };
  }

  /** Inserts and replacements only (what the saga repository sends), unordered. */
  async bulkWrite(operations: readonly BulkWriteOperation[]) {
    let insertedCount = 0;
    let matchedCount = 0;
    let firstError: unknown;
    for (const op of operations) {
      try {
        if ('insertOne' in op) insertedCount += (await this.insertOne(op.insertOne.document)) ? 1 : 0;
        else if ('replaceOne' in op) matchedCount += (await this.replaceOne(op.replaceOne.filter, op.replaceOne.replacement)).matchedCount;
        else throw new MiaRunError('MR_STORE_UNSUPPORTED', 'the memory store double only inserts and replaces in bulk');
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
    return { insertedCount, matchedCount, modifiedCount: matchedCount, deletedCount: 0, upsertedCount: 0, insertedIds: {}, upsertedIds: {} };
  }

  aggregate(pipeline: readonly Document[]): FindCursor {
    return cursor(aggregate(structuredClone(this.all()), [...pipeline]) as Document[]);
  }

  async ensureIndexes(): Promise<void> {}
}

/** The store: collections by name. */
export class MemoryDocumentStore {
  readonly kind = 'store.embedded';
  readonly features = new Set<never>();
  readonly collections = new Map<string, MemoryCollection>();

  constructor(readonly name = 'default') {}

  collection(name: string): Collection {
    let c = this.collections.get(name);
    if (!c) this.collections.set(name, (c = new MemoryCollection(name)));
    return c as unknown as Collection;
  }

  async start(): Promise<void> {}
  async close(): Promise<void> {}
  async health(): Promise<HealthCheck> {
    return { name: this.name, status: 'OK' };
  }
  async listCollections(): Promise<string[]> {
    return [...this.collections.keys()].sort();
  }
  withTransaction(): Promise<never> {
    return Promise.reject(new MiaRunError('MR_STORE_UNSUPPORTED', 'no transactions in the memory store'));
  }
}

/** A MemoryDocumentStore typed as the port. */
export function memoryStore(name = 'default'): DocumentStore & MemoryDocumentStore {
  return new MemoryDocumentStore(name) as unknown as DocumentStore & MemoryDocumentStore;
}
