/**
 * The async `Collection` of the embedded store: validates arguments, then runs the engine's synchronous
 * operations through a runner: lmdb write transactions (concurrent calls are group-committed by lmdb into one
 * durable commit) or a `withTransaction` overlay. Results resolve once the write is durable.
 */
import { ObjectId } from 'bson';
import { MiaRunError } from '../../errors.js';
import type {
  BulkWriteOperation, BulkWriteOptions, BulkWriteResult, Collection, CountOptions, DeleteResult, Document, Filter, FindCursor,
  FindOneAndDeleteOptions, FindOneAndUpdateOptions, FindOptions, IndexInfo, IndexSpec, InsertManyResult, InsertOneResult, Update,
  UpdateOptions, UpdateResult,
} from '../../ports/document-store.js';
import { runAggregate } from './aggregate.js';
import { GeneratorCursor } from './cursor.js';
import { assertFilter, CollectionEngine, type EngineContext } from './engine.js';
import { dropCollection, dropIndex, ensureIndexes, listIndexes } from './index-admin.js';
import type { Kv } from './kv.js';
import { projector } from './results.js';

/** Where the engine's operations run. */
export interface Runner {
  read<T>(fn: (kv: Kv) => T): T;
  /**
   * Runs `fn` in a write transaction. Document operations never write before they may throw, so they share
   * lmdb's batched transaction; `atomic` operations (index builds, drops) run in a child transaction that is
   * rolled back when they throw.
   */
  write<T>(fn: (kv: Kv) => T, atomic?: boolean): Promise<T>;
  /** Number of documents stored (expired ones included). */
  count(collectionId: number): number;
}

function orThrow<T>(outcome: { result: T; error?: unknown }): T {
  if (outcome.error !== undefined) throw outcome.error;
  return outcome.result;
}

export class EmbeddedCollection implements Collection {
  readonly #engine: CollectionEngine;

  constructor(
    private readonly ctx: EngineContext,
    private readonly runner: Runner,
    readonly name: string,
  ) {
    if (typeof name !== 'string' || name === '' || name.startsWith('system.') || name.includes('$') || name.includes('\0')) {
      throw new MiaRunError('MR_STORE_INVALID_QUERY', `Invalid collection name "${String(name)}"`);
    }
    this.#engine = new CollectionEngine(ctx, name);
  }

  async insertOne(document: Document): Promise<InsertOneResult> {
    const ids = orThrow(await this.runner.write((kv) => this.#engine.insertMany(kv, [document])));
    return { insertedId: ids[0] };
  }

  async insertMany(documents: readonly Document[]): Promise<InsertManyResult> {
    if (!Array.isArray(documents)) throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', 'insertMany needs an array of documents');
    const ids = orThrow(await this.runner.write((kv) => this.#engine.insertMany(kv, documents)));
    return { insertedCount: ids.length, insertedIds: ids };
  }

  find(filter: Filter = {}, options: FindOptions = {}): FindCursor {
    return new GeneratorCursor(() => {
      const project = projector(options.projection);
      const hits = this.runner.read((kv) => this.#engine.find(kv, filter, options));
      return (function* () {
        for (const hit of hits) yield project(hit);
      })();
    });
  }

  async findOne(filter: Filter = {}, options: Omit<FindOptions, 'limit'> = {}): Promise<Document | null> {
    const project = projector(options.projection);
    return this.runner.read((kv) => {
      for (const hit of this.#engine.find(kv, filter, { ...options, limit: 1 })) return project(hit);
      return null;
    });
  }

  async count(filter: Filter = {}, options: CountOptions = {}): Promise<number> {
    return this.runner.read((kv) => {
      const meta = this.#engine.meta(kv);
      // Counting everything without TTL indexes needs no documents decoded: count the keys.
      const plainAll = Object.keys(filter).length === 0 && options.skip === undefined && options.limit === undefined;
      if (meta !== undefined && plainAll && !meta.indexes.some((i) => i.spec.expireAfterSeconds !== undefined)) return this.runner.count(meta.id);
      let n = 0;
      for (const _ of this.#engine.find(kv, filter, options)) n++;
      return n;
    });
  }

  async estimatedCount(): Promise<number> {
    return this.runner.read((kv) => {
      const meta = this.#engine.meta(kv);
      return meta === undefined ? 0 : this.runner.count(meta.id);
    });
  }

  async updateOne(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    return this.#update(filter, { update, multi: false, upsert: options.upsert === true });
  }

  async updateMany(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    return this.#update(filter, { update, multi: true, upsert: options.upsert === true });
  }

  async replaceOne(filter: Filter, replacement: Document, options: UpdateOptions = {}): Promise<UpdateResult> {
    return this.#update(filter, { replacement, multi: false, upsert: options.upsert === true });
  }

  async #update(filter: Filter, spec: Parameters<CollectionEngine['update']>[2]): Promise<UpdateResult> {
    assertFilter(filter);
    const { before: _b, after: _a, ...result } = orThrow(await this.runner.write((kv) => this.#engine.update(kv, filter, spec)));
    return result;
  }

  async findOneAndUpdate(filter: Filter, update: Update, options: FindOneAndUpdateOptions = {}): Promise<Document | null> {
    assertFilter(filter);
    const spec = { update, multi: false, upsert: options.upsert === true, documents: true, ...(options.sort === undefined ? {} : { sort: options.sort }) };
    const result = orThrow(await this.runner.write((kv) => this.#engine.update(kv, filter, spec)));
    const doc = CollectionEngine.returned(result, options);
    return doc === null ? null : projector(options.projection)({ doc });
  }

  async deleteOne(filter: Filter): Promise<DeleteResult> {
    assertFilter(filter);
    const { deletedCount } = await this.runner.write((kv) => this.#engine.delete(kv, filter, false));
    return { deletedCount };
  }

  async deleteMany(filter: Filter): Promise<DeleteResult> {
    assertFilter(filter);
    const { deletedCount } = await this.runner.write((kv) => this.#engine.delete(kv, filter, true));
    return { deletedCount };
  }

  async findOneAndDelete(filter: Filter, options: FindOneAndDeleteOptions = {}): Promise<Document | null> {
    assertFilter(filter);
    const { deleted } = await this.runner.write((kv) => this.#engine.delete(kv, filter, false, options.sort));
    return deleted === null ? null : projector(options.projection)({ doc: deleted });
  }

  async bulkWrite(operations: readonly BulkWriteOperation[], options: BulkWriteOptions = {}): Promise<BulkWriteResult> {
    const ordered = options.ordered !== false;
    const outcome = await this.runner.write((kv) => {
      const r = { insertedCount: 0, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0, insertedIds: {} as Record<number, unknown>, upsertedIds: {} as Record<number, unknown> };
      let firstError: unknown;
      operations.forEach((op, i) => {
        if (firstError !== undefined && ordered) return;
        try {
          if ('insertOne' in op) {
            const doc = op.insertOne.document._id === undefined ? { _id: new ObjectId(), ...op.insertOne.document } : op.insertOne.document;
            orThrow(this.#engine.insertMany(kv, [doc]));
            r.insertedCount++;
            r.insertedIds[i] = doc._id;
          } else if ('deleteOne' in op || 'deleteMany' in op) {
            const many = 'deleteMany' in op;
            const filter = many ? op.deleteMany.filter : op.deleteOne.filter;
            assertFilter(filter);
            r.deletedCount += this.#engine.delete(kv, filter, many).deletedCount;
          } else {
            const [filter, spec] =
              'updateOne' in op ? [op.updateOne.filter, { update: op.updateOne.update, multi: false, upsert: op.updateOne.upsert === true }]
              : 'updateMany' in op ? [op.updateMany.filter, { update: op.updateMany.update, multi: true, upsert: op.updateMany.upsert === true }]
              : [op.replaceOne.filter, { replacement: op.replaceOne.replacement, multi: false, upsert: op.replaceOne.upsert === true }];
            assertFilter(filter);
            const u = orThrow(this.#engine.update(kv, filter, spec));
            r.matchedCount += u.matchedCount;
            r.modifiedCount += u.modifiedCount;
            r.upsertedCount += u.upsertedCount;
            if (u.upsertedId !== undefined) r.upsertedIds[i] = u.upsertedId;
          }
        } catch (error) {
          firstError ??= error;
        }
      });
      return { result: r, error: firstError };
    });
    return orThrow(outcome);
  }

  aggregate(pipeline: readonly Document[]): FindCursor {
    return new GeneratorCursor(() => this.runner.read((kv) => runAggregate(kv, this.ctx, this.name, pipeline))[Symbol.iterator]());
  }

  async ensureIndexes(specs: readonly IndexSpec[]): Promise<void> {
    if (!Array.isArray(specs)) throw new MiaRunError('MR_STORE_INVALID_QUERY', 'ensureIndexes needs an array of index definitions');
    await this.runner.write((kv) => ensureIndexes(kv, this.ctx.catalog, { database: this.ctx.database, collection: this.name }, specs), true);
  }

  async listIndexes(): Promise<IndexInfo[]> {
    return this.runner.read((kv) => listIndexes(this.#engine.meta(kv)));
  }

  async dropIndex(name: string): Promise<void> {
    await this.runner.write((kv) => dropIndex(kv, this.ctx.catalog, this.name, name), true);
  }

  async drop(): Promise<void> {
    await this.runner.write((kv) => dropCollection(kv, this.ctx.catalog, this.name), true);
  }

  /** Deletes documents expired by TTL indexes (the store's sweeper calls this); returns how many. */
  async sweepExpired(batch = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runner.write((kv) => this.#engine.sweepExpired(kv, batch));
      total += n;
      if (n < batch) return total;
    }
  }
}
