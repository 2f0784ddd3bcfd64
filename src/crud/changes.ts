/**
 * How CRUD writes run (crud-api.md §1 "events"): directly on the store collection, or, for a collection with
 * `events: { topic }`, inside one store transaction with the outbox so that a change and its event cannot
 * diverge. Each event: key `_id`, value `{ operation, document }` (the document after the change in wire
 * form; the removed document for deletes).
 */
import type { Outbox, OutboxEvent } from '../outbox/index.js';
import type { BulkWriteOperation, Collection, Document, TransactionScope } from '../ports/document-store.js';
import type { JsonValue } from '../ports/event-bus.js';

export type ChangeOperation = 'insert' | 'update' | 'delete' | 'state';

/** The collection operations a write may use (those a transaction offers). */
export type WriteCollection = ReturnType<TransactionScope['collection']>;

export interface Change {
  readonly operation: ChangeOperation;
  readonly documents: readonly Document[];
}

export interface WriteOutcome<T> {
  readonly result: T;
  /** Changes to publish; only computed when `Writer.events` is true. */
  readonly changes?: readonly Change[];
}

export interface Writer {
  /** True when changes are published (routes then gather the changed documents). */
  readonly events: boolean;
  run<T>(fn: (collection: WriteCollection) => Promise<WriteOutcome<T>>): Promise<T>;
}

/** Writes straight to the collection; no events. */
export function directWriter(collection: () => Collection): Writer {
  return {
    events: false,
    run: async (fn) => (await fn(collection())).result,
  };
}

/** Writes in an outbox transaction and stages one event per changed document. */
export function outboxWriter(outbox: Outbox, collectionName: string, topic: string, toWire: (doc: Document) => Record<string, unknown>): Writer {
  const events = (changes: readonly Change[] | undefined): OutboxEvent[] =>
    (changes ?? []).flatMap((change) =>
      change.documents.map((doc) => ({
        topic,
        key: String(doc._id),
        // Wire form through JSON: ObjectIds and Dates become strings, as clients read them.
        value: { operation: change.operation, document: JSON.parse(JSON.stringify(toWire(doc))) as JsonValue },
      })),
    );
  return {
    events: true,
    async run(fn) {
      let result: unknown;
      await outbox.write(async (tx) => {
        const outcome = await fn(tx.collection(collectionName));
        result = outcome.result;
        return events(outcome.changes);
      });
      return result as Awaited<ReturnType<typeof fn>>['result'];
    },
  };
}

/** Runs update operations one by one (a transaction scope has no bulkWrite); answers the modified count. */
export async function runUpdates(collection: WriteCollection | Collection, operations: readonly BulkWriteOperation[]): Promise<number> {
  if ('bulkWrite' in collection) return (await collection.bulkWrite(operations)).modifiedCount;
  let modified = 0;
  for (const op of operations) {
    if ('updateOne' in op) modified += (await collection.updateOne(op.updateOne.filter, op.updateOne.update)).modifiedCount;
    else if ('updateMany' in op) modified += (await collection.updateMany(op.updateMany.filter, op.updateMany.update)).modifiedCount;
  }
  return modified;
}
