/**
 * How outbox records are stored in the DocumentStore: one document per event in `_outbox`, numbered by a
 * counter in `_outbox_meta` that is incremented in the same transaction as the business write. Transactions
 * that stage events therefore serialise on the counter, so sequence numbers follow commit order and the relay
 * can publish strictly by `seq` (a record with a higher number is never visible before a lower one).
 */
import { isMiaRunError } from '../errors.js';
import type { Document, DocumentStore, TransactionScope } from '../ports/document-store.js';
import type { OutgoingMessage } from '../ports/event-bus.js';

export const OUTBOX_COLLECTION = '_outbox';
export const OUTBOX_META_COLLECTION = '_outbox_meta';
/** Header carrying the record's sequence number: consumers may use it to drop duplicates. */
export const OUTBOX_SEQ_HEADER = 'mia-outbox-seq';

/** An event to publish once the surrounding write commits. */
export interface OutboxEvent {
  readonly topic: string;
  readonly key?: string | null;
  /** JSON-serialisable value (stored in the document store, published as JSON), a string, or null (tombstone). */
  readonly value: OutgoingMessage['value'];
  readonly headers?: Readonly<Record<string, string>>;
}

/** A stored outbox record. */
export interface OutboxRecord {
  readonly _id: unknown;
  readonly seq: number;
  readonly topic: string;
  readonly key: string | null;
  readonly value: unknown;
  readonly headers: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  /** Null until the relay published it. */
  readonly sentAt: Date | null;
}

/** Reserves `count` sequence numbers inside `tx`; returns the first. */
export async function reserveSeq(tx: Pick<TransactionScope, 'collection'>, count: number): Promise<number> {
  const meta = tx.collection(OUTBOX_META_COLLECTION);
  // No upsert: the counter is created by `createSeqCounter` at start (or here, by the first transaction).
  const counter = await meta.findOneAndUpdate({ _id: 'seq' }, { $inc: { value: count } }, { returnDocument: 'after' });
  if (counter !== null) return (counter.value as number) - count + 1;
  await meta.insertOne({ _id: 'seq', value: count });
  return 1;
}

/** Creates the sequence counter if missing (a duplicate means another process did). */
export async function createSeqCounter(store: Pick<DocumentStore, 'collection'>): Promise<void> {
  const meta = store.collection(OUTBOX_META_COLLECTION);
  if ((await meta.findOne({ _id: 'seq' })) !== null) return;
  try {
    await meta.insertOne({ _id: 'seq', value: 0 });
  } catch (error) {
    if (!(isMiaRunError(error) && error.code === 'MR_STORE_DUPLICATE_KEY')) throw error;
  }
}

/** The documents of `events`, numbered from `first`. */
export function toRecords(events: readonly OutboxEvent[], first: number, now: Date): Document[] {
  return events.map((event, i) => ({
    seq: first + i,
    topic: event.topic,
    key: event.key ?? null,
    value: event.value,
    headers: { ...(event.headers ?? {}) },
    createdAt: now,
    sentAt: null,
  }));
}
