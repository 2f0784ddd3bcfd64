/**
 * How outbox records are stored in the DocumentStore: one document in `_outbox` per staged batch of up to 32
 * events (one event: `{ seq, topic, key, value, headers }`; several: `{ seq, count, messages: [{ topic, key,
 * value, headers }] }`, the events numbered `seq .. seq + count - 1`), numbered by a counter in `_outbox_meta` that is incremented
 * in the same transaction as the business write. Transactions that stage events therefore serialise on the
 * counter, so sequence numbers follow commit order and the relay can publish strictly by `seq` (a record with
 * a higher number is never visible before a lower one). That is also why, on a store with transactions, the
 * relay only keeps a checkpoint (`_outbox_meta` `sent`: the last published number) instead of marking every
 * record: whatever is at or below it has been published.
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

/** One message of a stored record. */
export interface OutboxMessage {
  readonly topic: string;
  readonly key: string | null;
  readonly value: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

/** A stored outbox record: one message (fields inline) or `count` messages in `messages`. */
export interface OutboxRecord extends Partial<OutboxMessage> {
  readonly _id: unknown;
  /** Sequence number of the (first) message. */
  readonly seq: number;
  readonly count?: number;
  readonly messages?: readonly OutboxMessage[];
  readonly createdAt: Date;
  /** Null until published, on stores without transactions (with transactions the `sent` checkpoint says it). */
  readonly sentAt: Date | null;
}

/** Id of the checkpoint document in `_outbox_meta`: `{ _id: 'sent', seq }`, the last published number. */
export const SENT_CHECKPOINT = 'sent';

/** The messages of a record with their sequence numbers. */
export function messagesOf(record: OutboxRecord): (OutboxMessage & { readonly seq: number })[] {
  if (record.messages !== undefined) return record.messages.map((m, i) => ({ ...m, seq: record.seq + i }));
  return [{ seq: record.seq, topic: record.topic ?? '', key: record.key ?? null, value: record.value, headers: record.headers ?? {} }];
}

/** Last sequence number of a record. */
export const lastSeq = (record: Pick<OutboxRecord, 'seq' | 'count'>): number => record.seq + (record.count ?? 1) - 1;

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

const toMessage = (event: OutboxEvent): OutboxMessage => ({ topic: event.topic, key: event.key ?? null, value: event.value, headers: { ...(event.headers ?? {}) } });

/** Most events in one record (keeps a record far below MongoDB's 16 MB document limit). */
export const MAX_MESSAGES_PER_RECORD = 32;

/** The documents of `events` (one per MAX_MESSAGES_PER_RECORD events of a staged batch), numbered from `first`. */
export function toRecords(events: readonly OutboxEvent[], first: number, now: Date): Document[] {
  const records: Document[] = [];
  for (let i = 0; i < events.length; i += MAX_MESSAGES_PER_RECORD) {
    const chunk = events.slice(i, i + MAX_MESSAGES_PER_RECORD);
    records.push(chunk.length === 1
      ? { seq: first + i, ...toMessage(chunk[0]!), createdAt: now, sentAt: null }
      : { seq: first + i, count: chunk.length, messages: chunk.map(toMessage), createdAt: now, sentAt: null });
  }
  return records;
}

/** Last published sequence number (0: none) per the checkpoint; used on stores with transactions. */
export async function sentCheckpoint(store: Pick<DocumentStore, 'collection'>): Promise<number> {
  const doc = await store.collection(OUTBOX_META_COLLECTION).findOne({ _id: SENT_CHECKPOINT });
  return typeof doc?.seq === 'number' ? doc.seq : 0;
}

/** The filter of records not published yet. */
export function pendingFilter(transactional: boolean, checkpoint: number): Record<string, unknown> {
  return transactional ? { sentAt: null, seq: { $gt: checkpoint } } : { sentAt: null };
}
