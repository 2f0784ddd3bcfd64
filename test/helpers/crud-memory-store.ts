/**
 * An in-memory DocumentStore (mingo semantics) for CRUD unit tests that do not need durability: unique
 * indexes enforced, ordered inserts, upserts built from the filter's equality fields. Not a contract
 * implementation: the CRUD suites also run on the embedded adapter.
 */
import { ObjectId } from 'bson';
import { Query, aggregate, update as applyUpdate } from 'mingo';
import { MiaRunError } from '../../src/errors.js';
import type {
  BulkWriteOperation, BulkWriteResult, Collection, Document, DocumentStore, Filter, FindCursor, FindOptions, IndexInfo, IndexSpec, Update, UpdateResult,
} from '../../src/ports/document-store.js';
import type { StoreFeature } from '../../src/ports/store-features.js';

type AnyRecord = Record<string, unknown>;

// structuredClone would turn ObjectIds into plain objects.
function clone<T>(value: T): T {
  if (value instanceof ObjectId || value instanceof Date) return (value instanceof Date ? new Date(value.getTime()) : value) as T;
  if (Array.isArray(value)) return value.map(clone) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)])) as T;
  return value;
}

const key = (v: unknown): string => (v instanceof ObjectId ? `oid:${v.toHexString()}` : v instanceof Date ? `d:${v.toISOString()}` : JSON.stringify(v ?? null));
const get = (doc: AnyRecord, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as AnyRecord)[k] : undefined), doc);

function cursor(docs: Document[]): FindCursor {
  return {
    toArray: async () => docs,
    close: async () => undefined,
    async *[Symbol.asyncIterator]() {
      yield* docs;
    },
  };
}

function equalityFields(filter: Filter): AnyRecord {
  const out: AnyRecord = {};
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) Object.assign(out, ...v.map((f) => equalityFields(f as Filter)));
    else if (!k.startsWith('$') && (v === null || typeof v !== 'object' || v instanceof ObjectId || v instanceof Date)) out[k] = v;
  }
  return out;
}

class MemoryCollection implements Collection {
  docs: Document[] = [];
  indexes: IndexSpec[] = [];
  constructor(readonly name: string) {}

  private checkUnique(doc: Document, except?: Document): void {
    for (const spec of [{ name: '_id_', key: { _id: 1 }, unique: true } as IndexSpec, ...this.indexes]) {
      if (spec.unique !== true) continue;
      const fields = Object.keys(spec.key);
      const k = fields.map((f) => key(get(doc, f))).join('|');
      const clash = this.docs.find((d) => d !== except && fields.map((f) => key(get(d, f))).join('|') === k);
      if (clash !== undefined) throw new MiaRunError('MR_STORE_DUPLICATE_KEY', `duplicate key on ${spec.name}`, { details: { collection: this.name, index: spec.name, key: Object.fromEntries(fields.map((f) => [f, get(doc, f)])) } });
    }
  }
  private matching(filter: Filter = {}): Document[] {
    const q = new Query(filter);
    return this.docs.filter((d) => q.test(d));
  }
  async insertOne(document: Document) {
    const doc = { ...document, _id: document._id ?? new ObjectId() };
    this.checkUnique(doc);
    this.docs.push(clone(doc));
    return { insertedId: doc._id };
  }
  async insertMany(documents: readonly Document[]) {
    const ids: unknown[] = [];
    for (const d of documents) ids.push((await this.insertOne(d)).insertedId);
    return { insertedCount: ids.length, insertedIds: ids };
  }
  find(filter: Filter = {}, options: FindOptions = {}): FindCursor {
    const projection = options.projection === undefined ? undefined : Object.fromEntries(Object.entries(options.projection).filter(([, v]) => typeof v !== 'object'));
    const sort = options.sort === undefined ? undefined : Object.fromEntries(Object.entries(options.sort).filter(([, v]) => typeof v === 'number'));
    let c = new Query(filter).find(this.docs.map((d) => clone(d)), projection as AnyRecord | undefined);
    if (sort !== undefined && Object.keys(sort).length > 0) c = c.sort(sort as Record<string, 1 | -1>);
    if (options.skip !== undefined) c = c.skip(options.skip);
    if (options.limit !== undefined && options.limit > 0) c = c.limit(options.limit);
    return cursor(c.all() as Document[]);
  }
  async findOne(filter: Filter = {}, options: Omit<FindOptions, 'limit'> = {}) {
    return (await this.find(filter, { ...options, limit: 1 }).toArray())[0] ?? null;
  }
  async count(filter: Filter = {}) {
    return this.matching(filter).length;
  }
  async estimatedCount() {
    return this.docs.length;
  }
  private apply(doc: Document, update: Update, filter: Filter): boolean {
    const next = clone(doc);
    const { $setOnInsert: _ignored, ...modifier } = update as AnyRecord;
    const changed = applyUpdate(next, modifier as never, undefined, filter as never).length > 0;
    this.checkUnique(next, doc);
    Object.assign(doc, next);
    for (const k of Object.keys(doc)) if (!(k in next)) delete doc[k];
    return changed;
  }
  private async upsert(filter: Filter, update: Update): Promise<Document> {
    const { $setOnInsert, ...rest } = update as AnyRecord;
    const doc: Document = { ...equalityFields(filter) };
    applyUpdate(doc, { ...rest, ...($setOnInsert === undefined ? {} : { $set: { ...(rest.$set as AnyRecord | undefined), ...($setOnInsert as AnyRecord) } }) } as never);
    if (doc._id === undefined) doc._id = new ObjectId();
    await this.insertOne(doc);
    return doc;
  }
  async updateOne(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    const [doc] = this.matching(filter);
    if (doc === undefined) {
      if (options.upsert !== true) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 };
      const created = await this.upsert(filter, update);
      return { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: created._id };
    }
    return { matchedCount: 1, modifiedCount: this.apply(doc, update, filter) ? 1 : 0, upsertedCount: 0 };
  }
  async updateMany(filter: Filter, update: Update): Promise<UpdateResult> {
    const docs = this.matching(filter);
    let modified = 0;
    for (const d of docs) if (this.apply(d, update, filter)) modified += 1;
    return { matchedCount: docs.length, modifiedCount: modified, upsertedCount: 0 };
  }
  async replaceOne(filter: Filter, replacement: Document): Promise<UpdateResult> {
    const [doc] = this.matching(filter);
    if (doc === undefined) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 };
    const next = { ...replacement, _id: doc._id };
    this.checkUnique(next, doc);
    this.docs[this.docs.indexOf(doc)] = next;
    return { matchedCount: 1, modifiedCount: 1, upsertedCount: 0 };
  }
  async findOneAndUpdate(filter: Filter, update: Update, options: { upsert?: boolean; returnDocument?: 'before' | 'after' } = {}) {
    const [doc] = this.matching(filter);
    if (doc === undefined) return options.upsert === true ? clone(await this.upsert(filter, update)) : null;
    const before = clone(doc);
    this.apply(doc, update, filter);
    return options.returnDocument === 'after' ? clone(doc) : before;
  }
  async deleteOne(filter: Filter) {
    const [doc] = this.matching(filter);
    if (doc !== undefined) this.docs.splice(this.docs.indexOf(doc), 1);
    return { deletedCount: doc === undefined ? 0 : 1 };
  }
  async deleteMany(filter: Filter) {
    const docs = new Set(this.matching(filter));
    this.docs = this.docs.filter((d) => !docs.has(d));
    return { deletedCount: docs.size };
  }
  async findOneAndDelete(filter: Filter) {
    const [doc] = this.matching(filter);
    if (doc !== undefined) this.docs.splice(this.docs.indexOf(doc), 1);
    return doc ?? null;
  }
  async bulkWrite(operations: readonly BulkWriteOperation[]): Promise<BulkWriteResult> {
    const r = { insertedCount: 0, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0, insertedIds: {}, upsertedIds: {} };
    for (const op of operations) {
      if ('updateOne' in op) {
        const u = await this.updateOne(op.updateOne.filter, op.updateOne.update);
        r.matchedCount += u.matchedCount;
        r.modifiedCount += u.modifiedCount;
      } else if ('updateMany' in op) {
        const u = await this.updateMany(op.updateMany.filter, op.updateMany.update);
        r.matchedCount += u.matchedCount;
        r.modifiedCount += u.modifiedCount;
      } else throw new Error('not supported by the memory store');
    }
    return r;
  }
  aggregate(pipeline: readonly Document[]): FindCursor {
    return cursor(aggregate(this.docs.map((d) => clone(d)), [...pipeline]) as Document[]);
  }
  async ensureIndexes(specs: readonly IndexSpec[]) {
    for (const s of specs) {
      this.indexes = this.indexes.filter((i) => i.name !== s.name);
      this.indexes.push(s);
    }
  }
  async listIndexes(): Promise<IndexInfo[]> {
    return [{ name: '_id_', key: { _id: 1 }, unique: true }, ...this.indexes];
  }
  async dropIndex(name: string) {
    this.indexes = this.indexes.filter((i) => i.name !== name);
  }
  async drop() {
    this.docs = [];
    this.indexes = [];
  }
}

/** A DocumentStore kept in memory; `kind` is `store.memory`. */
export function createMemoryStore(name = 'default'): DocumentStore {
  const collections = new Map<string, MemoryCollection>();
  return {
    kind: 'store.memory',
    name,
    features: new Set<StoreFeature>(),
    start: async () => undefined,
    health: async () => ({ name, status: 'OK' }),
    close: async () => undefined,
    collection(n: string) {
      let c = collections.get(n);
      if (c === undefined) collections.set(n, (c = new MemoryCollection(n)));
      return c;
    },
    listCollections: async () => [...collections.keys()].sort(),
    withTransaction: async () => {
      throw new MiaRunError('MR_STORE_UNSUPPORTED', 'no transactions in the memory store');
    },
  };
}
