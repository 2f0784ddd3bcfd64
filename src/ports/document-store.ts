/**
 * The DocumentStore port: every capability keeps its state through it, with MongoDB semantics (filters, update
 * operators, projection, sort, skip/limit, indexes). Two adapters implement it and pass one contract suite
 * (`test/contract/document-store.contract.ts`): `store.embedded` (lmdb + mingo, the default) and
 * `store.mongodb` (the official driver). Code written against this file behaves the same on both.
 *
 * Values: `ObjectId` (from `bson`), `Date`, numbers, strings, booleans, null, arrays, nested objects and
 * GeoJSON points (`{ type: 'Point', coordinates: [lon, lat] }`) round-trip exactly. `undefined` is stored as
 * null (MongoDB driver default). A document without `_id` gets a new `ObjectId`.
 *
 * Errors are `MiaRunError`s (`src/errors.ts`): `MR_STORE_DUPLICATE_KEY` (details: `collection`, `index`,
 * `key`; not retriable), `MR_STORE_INVALID_QUERY`, `MR_STORE_INVALID_DOCUMENT`, `MR_STORE_WRITE_CONFLICT`
 * (retriable), `MR_STORE_UNAVAILABLE` (retriable), `MR_STORE_UNSUPPORTED`, `MR_STORE_CLOSED`.
 *
 * @example
 * const orders = store.collection('orders');
 * await orders.ensureIndexes([{ name: 'by_customer', key: { customerId: 1 } }]);
 * const { insertedId } = await orders.insertOne({ customerId: 'c1', total: 10 });
 * await orders.updateOne({ _id: insertedId }, { $inc: { total: 5 } });
 * for await (const order of orders.find({ customerId: 'c1' }, { sort: { total: -1 }, limit: 10 })) { ... }
 */
import type { Backend } from './lifecycle.js';
import type { StoreFeature } from './store-features.js';

export type { StoreFeature } from './store-features.js';

/** A stored document: `_id` is always present on what the store returns. */
export type Document = Record<string, unknown>;

/** A MongoDB query filter (`{ field: value }`, `$eq $ne $gt $gte $lt $lte $in $nin $exists $regex $all
 * $elemMatch $size $and $or $nor $not`, `$text` with a text index, `$nearSphere`/`$geoWithin` on GeoJSON points). */
export type Filter = Record<string, unknown>;

/**
 * An update document made of operators: `$set $unset $inc $mul $currentDate $push $pull $addToSet
 * $setOnInsert` (plus `$each`/`$slice`/`$position` modifiers for `$push`, `$each` for `$addToSet`). The
 * positional `$` (`{ 'items.$.qty': 2 }`) targets the first array element matched by the filter.
 * `$currentDate` uses the store's clock. Changing `_id` is rejected with `MR_STORE_INVALID_DOCUMENT`.
 */
export type Update = Record<string, unknown>;

/** `1` ascending, `-1` descending, or the text score (`{ $meta: 'textScore' }`, descending) after a `$text` filter. */
export type SortDirection = 1 | -1 | { readonly $meta: 'textScore' };
/** Field order matters: the first key is the primary sort. Ties keep no guaranteed order unless `_id` is added. */
export type Sort = Readonly<Record<string, SortDirection>>;

/** Inclusion (`1`/`true`) or exclusion (`0`/`false`) projection; `_id` is included unless excluded.
 * `{ score: { $meta: 'textScore' } }` adds the text score. Mixing inclusion and exclusion is invalid (except `_id`). */
export type Projection = Readonly<Record<string, 0 | 1 | boolean | { readonly $meta: 'textScore' }>>;

export interface FindOptions {
  readonly projection?: Projection;
  readonly sort?: Sort;
  readonly skip?: number;
  /** 0 or absent: no limit. */
  readonly limit?: number;
}

export interface CountOptions {
  readonly skip?: number;
  readonly limit?: number;
}

export interface UpdateOptions {
  /** Insert when nothing matches: the new document is built from the filter's equality fields, then the
   * update (including `$setOnInsert`) is applied. Two concurrent upserts on a unique key give one document. */
  readonly upsert?: boolean;
}

export interface FindOneAndUpdateOptions extends UpdateOptions {
  /** Which version to return; default `'before'` (MongoDB default). */
  readonly returnDocument?: 'before' | 'after';
  /** Which document to modify when several match. */
  readonly sort?: Sort;
  readonly projection?: Projection;
}

export interface FindOneAndDeleteOptions {
  readonly sort?: Sort;
  readonly projection?: Projection;
}

export interface InsertOneResult {
  readonly insertedId: unknown;
}

export interface InsertManyResult {
  readonly insertedCount: number;
  /** Ids of the inserted documents, in input order. */
  readonly insertedIds: readonly unknown[];
}

export interface UpdateResult {
  readonly matchedCount: number;
  /** Documents whose content actually changed (a `$set` to the same value does not count). */
  readonly modifiedCount: number;
  readonly upsertedCount: number;
  /** `_id` of the upserted document, when one was inserted. */
  readonly upsertedId?: unknown;
}

export interface DeleteResult {
  readonly deletedCount: number;
}

/** One operation of `bulkWrite`, in the MongoDB driver's shape. */
export type BulkWriteOperation =
  | { readonly insertOne: { readonly document: Document } }
  | { readonly updateOne: { readonly filter: Filter; readonly update: Update; readonly upsert?: boolean } }
  | { readonly updateMany: { readonly filter: Filter; readonly update: Update; readonly upsert?: boolean } }
  | { readonly replaceOne: { readonly filter: Filter; readonly replacement: Document; readonly upsert?: boolean } }
  | { readonly deleteOne: { readonly filter: Filter } }
  | { readonly deleteMany: { readonly filter: Filter } };

export interface BulkWriteOptions {
  /** Default true: stop at the first failing operation (earlier ones stay applied). False: attempt all and
   * throw the first error at the end. Bulk writes are not atomic; use `withTransaction` for that. */
  readonly ordered?: boolean;
}

export interface BulkWriteResult {
  readonly insertedCount: number;
  readonly matchedCount: number;
  readonly modifiedCount: number;
  readonly deletedCount: number;
  readonly upsertedCount: number;
  /** Operation index → inserted `_id`. */
  readonly insertedIds: Readonly<Record<number, unknown>>;
  /** Operation index → upserted `_id`. */
  readonly upsertedIds: Readonly<Record<number, unknown>>;
}

/** Index key: `1`/`-1` (ascending/descending), `'text'`, `'2dsphere'` or `'hashed'`, per field, in order. */
export type IndexKey = Readonly<Record<string, 1 | -1 | 'text' | '2dsphere' | 'hashed'>>;

/**
 * An index definition (MongoDB `createIndexes` shape). Kinds:
 * - normal / compound: `{ key: { a: 1, b: -1 } }`, optionally `unique` (missing fields count as null);
 * - TTL: one Date field plus `expireAfterSeconds`; expired documents disappear from reads and are deleted;
 * - partial: `partialFilterExpression` (only matching documents are indexed / constrained);
 * - text: `{ key: { title: 'text', body: 'text' }, weights?, defaultLanguage? }` enables `$text`;
 * - 2dsphere: `{ key: { location: '2dsphere' } }` on GeoJSON points enables `$nearSphere`/`$geoWithin`.
 */
export interface IndexSpec {
  readonly name: string;
  readonly key: IndexKey;
  readonly unique?: boolean;
  readonly expireAfterSeconds?: number;
  readonly partialFilterExpression?: Filter;
  readonly weights?: Readonly<Record<string, number>>;
  readonly defaultLanguage?: string;
}

/** What `listIndexes` returns: every index including the implicit unique `_id_`. */
export type IndexInfo = IndexSpec;

/** A query result read lazily: iterate with `for await` to stream, or collect with `toArray()`. Single use. */
export interface FindCursor<T = Document> extends AsyncIterable<T> {
  toArray(): Promise<T[]>;
  /** Releases resources early (an abandoned `for await` loop closes it too). Idempotent. */
  close(): Promise<void>;
}

/** One collection; obtaining a handle does no I/O and the collection is created on first write. */
export interface Collection {
  readonly name: string;

  /** Throws `MR_STORE_DUPLICATE_KEY` naming the index and key when a unique index (or `_id`) would repeat. */
  insertOne(document: Document): Promise<InsertOneResult>;
  /** Ordered: stops at the first failure; the documents before it stay inserted (not atomic). */
  insertMany(documents: readonly Document[]): Promise<InsertManyResult>;

  find(filter?: Filter, options?: FindOptions): FindCursor;
  findOne(filter?: Filter, options?: Omit<FindOptions, 'limit'>): Promise<Document | null>;
  /** Exact count of matching documents (after `skip`, capped at `limit`). */
  count(filter?: Filter, options?: CountOptions): Promise<number>;
  /** Fast count of all documents, from metadata; may include documents about to expire. */
  estimatedCount(): Promise<number>;

  updateOne(filter: Filter, update: Update, options?: UpdateOptions): Promise<UpdateResult>;
  updateMany(filter: Filter, update: Update, options?: UpdateOptions): Promise<UpdateResult>;
  /** Replaces the whole document (keeping `_id`). */
  replaceOne(filter: Filter, replacement: Document, options?: UpdateOptions): Promise<UpdateResult>;
  /** Returns the matched document (before or after the update), or null when none matched and no upsert. */
  findOneAndUpdate(filter: Filter, update: Update, options?: FindOneAndUpdateOptions): Promise<Document | null>;

  deleteOne(filter: Filter): Promise<DeleteResult>;
  deleteMany(filter: Filter): Promise<DeleteResult>;
  findOneAndDelete(filter: Filter, options?: FindOneAndDeleteOptions): Promise<Document | null>;

  bulkWrite(operations: readonly BulkWriteOperation[], options?: BulkWriteOptions): Promise<BulkWriteResult>;

  /**
   * Runs a read-only pipeline (`$match $project $addFields $set $unset $sort $skip $limit $group $unwind
   * $lookup $count $replaceRoot`), used for views. `$out`/`$merge` are rejected with `MR_STORE_INVALID_QUERY`.
   */
  aggregate(pipeline: readonly Document[]): FindCursor;

  /**
   * Creates the indexes that do not exist yet; an existing index with the same name and another definition is
   * rebuilt. Building a unique index over duplicates fails with `MR_STORE_DUPLICATE_KEY`. Index kinds the
   * backend lacks fail with `MR_STORE_UNSUPPORTED` (check `features` first, as the config loader does).
   */
  ensureIndexes(specs: readonly IndexSpec[]): Promise<void>;
  listIndexes(): Promise<IndexInfo[]>;
  /** Drops an index by name; `_id_` cannot be dropped (`MR_STORE_INVALID_QUERY`); an unknown name is a no-op. */
  dropIndex(name: string): Promise<void>;
  /** Drops the collection with its documents and indexes; a missing collection is a no-op. */
  drop(): Promise<void>;
}

/**
 * A transaction scope: collections obtained from it read their own writes, and every write commits atomically
 * when the callback resolves (or none does when it throws).
 */
export interface TransactionScope {
  collection(name: string): Pick<
    Collection,
    'name' | 'insertOne' | 'insertMany' | 'find' | 'findOne' | 'count' | 'updateOne' | 'updateMany' | 'replaceOne' | 'findOneAndUpdate' | 'deleteOne' | 'deleteMany' | 'findOneAndDelete'
  >;
}

/** One database (a `databases:` entry) as a backend: `kind` is `store.embedded` or `store.mongodb`. */
export interface DocumentStore extends Backend {
  readonly features: ReadonlySet<StoreFeature>;
  /** A collection handle (cheap; no I/O until used). Operations before `start()` or after `close()` fail
   * with `MR_STORE_UNAVAILABLE` / `MR_STORE_CLOSED`. */
  collection(name: string): Collection;
  /** Names of the collections that exist (have been written to or have indexes), sorted. */
  listCollections(): Promise<string[]>;
  /**
   * Runs `fn` in a transaction spanning collections: all its writes commit atomically, or none does (when `fn`
   * throws, the error is rethrown after the abort). On a transient conflict the adapter may run `fn` again,
   * so `fn` must have no side effects besides the scope's writes. Needs the `transactions` feature; without
   * it, throws `MR_STORE_UNSUPPORTED`. Used by the outbox so a business write and its event never diverge.
   */
  withTransaction<T>(fn: (tx: TransactionScope) => Promise<T>): Promise<T>;
}

/** True when a backend is a DocumentStore (the runtime hands capabilities `Backend`s). */
export function isDocumentStore(backend: Backend): backend is DocumentStore {
  return backend.kind.startsWith('store.') && typeof (backend as Partial<DocumentStore>).collection === 'function';
}
