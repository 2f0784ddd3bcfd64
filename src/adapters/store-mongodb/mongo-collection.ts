/**
 * One collection of a `MongoDocumentStore`: the port's operations on the official driver, with errors mapped
 * (`map-error.ts`, `duplicate-key.ts`) and values decoded into the port's bson classes. Bound to a session when
 * it belongs to a transaction scope.
 */
import { ObjectId } from 'bson';
import { MongoError } from 'mongodb';
import type { AnyBulkWriteOperation, ClientSession, Db, Collection as DriverCollection, Document as DriverDocument, Filter as DriverFilter } from 'mongodb';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type {
  BulkWriteOperation, BulkWriteOptions, BulkWriteResult, Collection, CountOptions, DeleteResult, Document, Filter, FindCursor, FindOneAndDeleteOptions,
  FindOneAndUpdateOptions, FindOptions, IndexInfo, IndexSpec, InsertManyResult, InsertOneResult, StoreFeature, Update, UpdateOptions, UpdateResult,
} from '../../ports/document-store.js';
import { toPortDocument, toPortValue } from './bson-values.js';
import { MongoFindCursor } from './cursor.js';
import { type DuplicateKeyContext, duplicateKeyError } from './duplicate-key.js';
import { checkIndexFeatures, ensureIndexes, listIndexes } from './indexes.js';
import { type OperationKind, isDuplicateKeyError, isFerretDbUniqueViolation, mapMongoError } from './map-error.js';
import { type TtlIndex, withoutExpired } from './ttl-filter.js';
import { resolveCurrentDate } from './updates.js';
import { validateCollectionName, validateDocument } from './validate.js';

/** What a collection needs from its store. */
export interface StoreHandle {
  /** The connected database, or throws `MR_STORE_UNAVAILABLE` (not started) / `MR_STORE_CLOSED`. */
  db(): Db;
  readonly clock: Clock;
  readonly features: ReadonlySet<StoreFeature>;
  /** `database "<name>"`, for messages. */
  readonly label: string;
  /** True when the connected server is FerretDB (known after start). */
  isFerretDb(): boolean;
  /** The collection's TTL indexes (cached; none when the server has no TTL). */
  ttlIndexes(collection: string): Promise<readonly TtlIndex[]>;
  /** Drops the cached index knowledge of a collection after its indexes changed. */
  forgetIndexes(collection: string): void;
}

const FORBIDDEN_STAGES = ['$out', '$merge'];

function withId(document: Document): Document {
  validateDocument(document);
  return document._id === undefined ? { _id: new ObjectId(), ...document } : document;
}

function toUpdateResult(result: { matchedCount: number; modifiedCount: number; upsertedCount: number; upsertedId: unknown }): UpdateResult {
  const out: { -readonly [K in keyof UpdateResult]: UpdateResult[K] } = {
    matchedCount: result.matchedCount,
    modifiedCount: result.modifiedCount,
    upsertedCount: result.upsertedCount,
  };
  if (result.upsertedId !== null && result.upsertedId !== undefined) out.upsertedId = toPortValue(result.upsertedId);
  return out;
}

export class MongoCollection implements Collection {
  constructor(
    readonly name: string,
    private readonly store: StoreHandle,
    private readonly session?: ClientSession,
  ) {
    validateCollectionName(name);
  }

  private get context(): string {
    return `${this.store.label}, collection "${this.name}"`;
  }

  private get options(): { session?: ClientSession } {
    return this.session === undefined ? {} : { session: this.session };
  }

  private driver(): DriverCollection<DriverDocument> {
    return this.store.db().collection(this.name);
  }

  /** Runs a driver call, mapping its errors; duplicate keys become `MR_STORE_DUPLICATE_KEY` naming the index. */
  private async run<T>(kind: OperationKind, call: (c: DriverCollection<DriverDocument>) => Promise<T>, dup: Omit<DuplicateKeyContext, 'collection'> = {}): Promise<T> {
    const collection = this.driver();
    try {
      return await call(collection);
    } catch (error) {
      // Inside a transaction, errors the driver's withTransaction retries on must reach it unmapped; the
      // store maps whatever is left when the transaction gives up.
      if (this.session !== undefined && error instanceof MongoError && (error.hasErrorLabel('TransientTransactionError') || error.hasErrorLabel('UnknownTransactionCommitResult'))) throw error;
      // Details are looked up outside the session: a failed write has already aborted a MongoDB transaction.
      if (isDuplicateKeyError(error) || (this.store.isFerretDb() && isFerretDbUniqueViolation(error))) throw await duplicateKeyError(error, { collection, ...dup });
      throw mapMongoError(error, kind, this.context);
    }
  }

  /**
   * An upsert that loses a race on a unique key fails with a duplicate key although the document now exists;
   * as MongoDB recommends, it is tried once more, which then matches and updates it.
   */
  private async upsertRetry<T>(upsert: boolean | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (upsert !== true || !(error instanceof MiaRunError) || error.code !== 'MR_STORE_DUPLICATE_KEY') throw error;
      return call();
    }
  }

  private update(update: Update): Update {
    return resolveCurrentDate(update, this.store.clock.now());
  }

  /** The filter without the documents TTL indexes have expired (see `ttl-filter.ts`). */
  private async live(filter: Filter): Promise<Filter> {
    return withoutExpired(filter, await this.store.ttlIndexes(this.name), this.store.clock.now());
  }

  async insertOne(document: Document): Promise<InsertOneResult> {
    const doc = withId(document);
    await this.run('insert', (c) => c.insertOne(doc, this.options), { document: doc });
    return { insertedId: doc._id };
  }

  async insertMany(documents: readonly Document[]): Promise<InsertManyResult> {
    if (documents.length === 0) return { insertedCount: 0, insertedIds: [] };
    const docs = documents.map(withId);
    await this.run('insert', (c) => c.insertMany(docs, { ...this.options, ordered: true }));
    return { insertedCount: docs.length, insertedIds: docs.map((d) => d._id) };
  }

  find(filter: Filter = {}, options: FindOptions = {}): FindCursor {
    const cursor = (async () =>
      this.driver().find((await this.live(filter)) as DriverFilter<DriverDocument>, {
        ...this.options,
        ...(options.projection === undefined ? {} : { projection: options.projection }),
        ...(options.sort === undefined ? {} : { sort: options.sort as Record<string, 1 | -1> }),
        ...(options.skip === undefined ? {} : { skip: options.skip }),
        ...(options.limit === undefined || options.limit === 0 ? {} : { limit: options.limit }),
      }))();
    return new MongoFindCursor(cursor, this.context);
  }

  async findOne(filter: Filter = {}, options: Omit<FindOptions, 'limit'> = {}): Promise<Document | null> {
    const [first] = await this.find(filter, { ...options, limit: 1 }).toArray();
    return first ?? null;
  }

  async count(filter: Filter = {}, options: CountOptions = {}): Promise<number> {
    const live = await this.live(filter);
    return this.run('read', (c) =>
      c.countDocuments(live, { ...this.options, ...(options.skip === undefined ? {} : { skip: options.skip }), ...(options.limit ? { limit: options.limit } : {}) }),
    );
  }

  async estimatedCount(): Promise<number> {
    // estimatedDocumentCount cannot run in a transaction; a session-bound handle counts exactly.
    if (this.session !== undefined) return this.count();
    return this.run('read', (c) => c.estimatedDocumentCount());
  }

  async updateOne(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    const u = this.update(update);
    return this.upsertRetry(options.upsert, async () =>
      toUpdateResult(await this.run('update', async (c) => c.updateOne(await this.live(filter), u, { ...this.options, upsert: options.upsert === true }), { filter, update: u })),
    );
  }

  async updateMany(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    const u = this.update(update);
    return this.upsertRetry(options.upsert, async () =>
      toUpdateResult(await this.run('update', async (c) => c.updateMany(await this.live(filter), u, { ...this.options, upsert: options.upsert === true }), { filter, update: u })),
    );
  }

  async replaceOne(filter: Filter, replacement: Document, options: UpdateOptions = {}): Promise<UpdateResult> {
    validateDocument(replacement);
    return this.upsertRetry(options.upsert, async () =>
      toUpdateResult(await this.run('update', async (c) => c.replaceOne(await this.live(filter), replacement, { ...this.options, upsert: options.upsert === true }), { filter, update: { $set: replacement } })),
    );
  }

  async findOneAndUpdate(filter: Filter, update: Update, options: FindOneAndUpdateOptions = {}): Promise<Document | null> {
    const u = this.update(update);
    const doc = await this.upsertRetry(options.upsert, () =>
      this.run(
        'update',
        async (c) =>
          c.findOneAndUpdate(await this.live(filter), u, {
            ...this.options,
            upsert: options.upsert === true,
            returnDocument: options.returnDocument ?? 'before',
            ...(options.sort === undefined ? {} : { sort: options.sort as Record<string, 1 | -1> }),
            ...(options.projection === undefined ? {} : { projection: options.projection }),
          }),
        { filter, update: u },
      ),
    );
    return toPortDocument(doc as Document | null);
  }

  async deleteOne(filter: Filter): Promise<DeleteResult> {
    const result = await this.run('update', async (c) => c.deleteOne(await this.live(filter), this.options));
    return { deletedCount: result.deletedCount };
  }

  async deleteMany(filter: Filter): Promise<DeleteResult> {
    const result = await this.run('update', async (c) => c.deleteMany(await this.live(filter), this.options));
    return { deletedCount: result.deletedCount };
  }

  async findOneAndDelete(filter: Filter, options: FindOneAndDeleteOptions = {}): Promise<Document | null> {
    const doc = await this.run('update', async (c) =>
      c.findOneAndDelete(await this.live(filter), {
        ...this.options,
        ...(options.sort === undefined ? {} : { sort: options.sort as Record<string, 1 | -1> }),
        ...(options.projection === undefined ? {} : { projection: options.projection }),
      }),
    );
    return toPortDocument(doc as Document | null);
  }

  async bulkWrite(operations: readonly BulkWriteOperation[], options: BulkWriteOptions = {}): Promise<BulkWriteResult> {
    const empty: BulkWriteResult = { insertedCount: 0, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0, insertedIds: {}, upsertedIds: {} };
    if (operations.length === 0) return empty;
    const now = this.store.clock.now();
    const ops = operations.map((op): AnyBulkWriteOperation<DriverDocument> => {
      if ('insertOne' in op) return { insertOne: { document: withId(op.insertOne.document) } };
      if ('updateOne' in op) return { updateOne: { ...op.updateOne, update: resolveCurrentDate(op.updateOne.update, now) } };
      if ('updateMany' in op) return { updateMany: { ...op.updateMany, update: resolveCurrentDate(op.updateMany.update, now) } };
      if ('replaceOne' in op) validateDocument(op.replaceOne.replacement);
      return op as AnyBulkWriteOperation<DriverDocument>;
    });
    const result = await this.run('update', (c) => c.bulkWrite(ops, { ...this.options, ordered: options.ordered !== false }));
    const insertedIds: Record<number, unknown> = {};
    const upsertedIds: Record<number, unknown> = {};
    for (const [index, id] of Object.entries(result.insertedIds)) insertedIds[Number(index)] = toPortValue(id);
    for (const [index, id] of Object.entries(result.upsertedIds)) upsertedIds[Number(index)] = toPortValue(id);
    return {
      insertedCount: result.insertedCount,
      matchedCount: result.matchedCount,
      modifiedCount: result.modifiedCount,
      deletedCount: result.deletedCount,
      upsertedCount: result.upsertedCount,
      insertedIds,
      upsertedIds,
    };
  }

  aggregate(pipeline: readonly Document[]): FindCursor {
    const cursor = (async () => {
      const forbidden = pipeline.flatMap((stage) => Object.keys(stage)).find((op) => FORBIDDEN_STAGES.includes(op));
      if (forbidden !== undefined) throw new MiaRunError('MR_STORE_INVALID_QUERY', `${this.context}: the ${forbidden} stage is not allowed (aggregate is read-only)`);
      const ttl = await this.store.ttlIndexes(this.name);
      // Expired documents leave the pipeline first; `$geoNear` must stay the first stage, so they leave after it.
      const stages = [...pipeline];
      if (ttl.length > 0) {
        const match = { $match: withoutExpired({}, ttl, this.store.clock.now()) };
        stages.splice(stages[0] !== undefined && '$geoNear' in stages[0] ? 1 : 0, 0, match);
      }
      return this.driver().aggregate(stages, this.options);
    })();
    return new MongoFindCursor(cursor, this.context);
  }

  async ensureIndexes(specs: readonly IndexSpec[]): Promise<void> {
    checkIndexFeatures(specs, this.store.features, this.context);
    try {
      await this.run('index', (c) => ensureIndexes(c, specs, this.session));
    } finally {
      this.store.forgetIndexes(this.name);
    }
  }

  async listIndexes(): Promise<IndexInfo[]> {
    return this.run('read', (c) => listIndexes(c, this.session));
  }

  async dropIndex(name: string): Promise<void> {
    if (name === '_id_') throw new MiaRunError('MR_STORE_INVALID_QUERY', `${this.context}: the "_id_" index cannot be dropped`);
    await this.run('index', async (c) => {
      const exists = (await listIndexes(c, this.session)).some((index) => index.name === name);
      if (exists) await c.dropIndex(name, this.options);
    });
    this.store.forgetIndexes(this.name);
  }

  async drop(): Promise<void> {
    await this.run('admin', async (c) => {
      try {
        await c.drop(this.options);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 26) throw error; // NamespaceNotFound: already gone
      }
    });
    this.store.forgetIndexes(this.name);
  }
}
