/**
 * Group commit of saga writes: the inserts and compare-and-set replacements asked for in one turn of the
 * event loop go to the store as one unordered `bulkWrite` (one round trip, one durable commit), and each
 * caller is answered once that write is acknowledged.
 *
 * A bulk write reports counts, not which operation matched. When every operation matched (the usual case)
 * all callers succeed. Otherwise each operation is settled on its own: tried again alone, and when it no
 * longer matches, the stored saga's `writeId` (unique per write) says whether this write landed in the bulk,
 * so a conflict is never mistaken for a success or the reverse.
 */
import { randomUUID } from 'node:crypto';
import { isMiaRunError } from '../errors.js';
import type { BulkWriteOperation, Collection, Document } from '../ports/document-store.js';
import type { SagaDocument } from './document.js';

export interface WriteBatcher {
  /** Inserts a new saga; resolves once durable. */
  insert(doc: SagaDocument): Promise<void>;
  /** Replaces the saga when its stored version is still `expected`: true once durable, false when another writer got there first. */
  replace(expected: number, next: SagaDocument): Promise<boolean>;
}

type Pending =
  | { readonly kind: 'insert'; readonly doc: Document; readonly resolve: (ok: boolean) => void; readonly reject: (err: unknown) => void }
  | { readonly kind: 'replace'; readonly expected: number; readonly doc: Document; readonly resolve: (ok: boolean) => void; readonly reject: (err: unknown) => void };

/** The document as written: the saga plus this write's id. */
const stamped = (doc: SagaDocument): Document => ({ ...(doc as unknown as Document), writeId: nextWriteId() });

/** Unique id of each write of this process: a random prefix and a counter. */
const writerPrefix = randomUUID().slice(0, 8);
let writes = 0;
const nextWriteId = (): string => `${writerPrefix}${(++writes).toString(36)}`;

/** True when `stored` is the very document `written` (its write landed). */
const isSame = (stored: Document | null, written: Document): boolean => stored !== null && stored.writeId === written.writeId;

function operation(p: Pending): BulkWriteOperation {
  return p.kind === 'insert'
    ? { insertOne: { document: p.doc } }
    : { replaceOne: { filter: { _id: p.doc._id, sagaVersion: p.expected }, replacement: p.doc } };
}

export function createWriteBatcher(collection: Collection, options: { readonly maxBatch: number }): WriteBatcher {
  let queue: Pending[] = [];

  /** Settles one write that was part of a bulk whose outcome is not known per operation. */
  async function settleAlone(p: Pending): Promise<boolean> {
    if (p.kind === 'insert') {
      try {
        await collection.insertOne(p.doc);
        return true;
      } catch (err) {
        if (isMiaRunError(err) && err.code === 'MR_STORE_DUPLICATE_KEY' && isSame(await collection.findOne({ _id: p.doc._id }), p.doc)) return true;
        throw err;
      }
    }
    const { matchedCount } = await collection.replaceOne({ _id: p.doc._id, sagaVersion: p.expected }, p.doc);
    if (matchedCount === 1) return true;
    return isSame(await collection.findOne({ _id: p.doc._id }), p.doc);
  }

  async function write(batch: readonly Pending[]): Promise<void> {
    const inserts = batch.filter((p) => p.kind === 'insert').length;
    let allMatched = false;
    try {
      const r = await collection.bulkWrite(batch.map(operation), { ordered: false });
      allMatched = r.insertedCount === inserts && r.matchedCount === batch.length - inserts;
    } catch {
      // Some operation failed (a conflict on insert, or the store): each one is settled on its own below.
    }
    if (allMatched) {
      for (const p of batch) p.resolve(true);
      return;
    }
    await Promise.all(batch.map((p) => settleAlone(p).then(p.resolve, p.reject)));
  }

  const flush = (): void => {
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += options.maxBatch) {
      const batch = all.slice(i, i + options.maxBatch);
      void write(batch).catch((err: unknown) => {
        for (const p of batch) p.reject(err);
      });
    }
  };

  const enqueue = (make: (resolve: (ok: boolean) => void, reject: (err: unknown) => void) => Pending): Promise<boolean> =>
    new Promise<boolean>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push(make(resolve, reject));
    });

  return {
    async insert(doc) {
      await enqueue((resolve, reject) => ({ kind: 'insert', doc: stamped(doc), resolve, reject }));
    },
    replace(expected, doc) {
      return enqueue((resolve, reject) => ({ kind: 'replace', expected, doc: stamped(doc), resolve, reject }));
    },
  };
}
