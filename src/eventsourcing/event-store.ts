/**
 * The event store of one aggregate type on the DocumentStore (fast-data.md §8): collection `<name>-events`,
 * one document per event `{ _id: "<id>:<version>", aggregateId, version, type, schemaVersion, data,
 * metadata, committedAt }`, unique on (aggregateId, version). An append reads the current version and
 * inserts the next ones in ONE transaction together with the outbox records, so a stored event and its
 * publication cannot diverge; two writers from the same version collide on the unique index and the loser
 * gets 409 `MR_ES_VERSION_CONFLICT`.
 */
import { isMiaRunError, MiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Collection, Document, DocumentStore, TransactionScope } from '../ports/document-store.js';
import type { Outbox, OutboxEvent } from '../outbox/index.js';
import type { FoldEvent } from './fold.js';

/** Header of every published event (fast-data.md §8). */
export const ES_MESSAGE_SCHEMA = JSON.stringify({ type: 'es-event', version: 'v1.0.0' });

export interface NewEvent {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface EventMetadata {
  readonly commandId?: string;
  readonly correlationId?: string;
}

export interface StoredEvent extends FoldEvent {
  readonly metadata: EventMetadata;
}

export interface EventStoreOptions {
  readonly aggregate: string;
  readonly store: DocumentStore;
  readonly clock: Clock;
  /** With a topic: events are staged in the outbox in the append transaction. */
  readonly outbox?: Outbox;
  readonly topic?: string;
}

export interface EventStore {
  readonly collection: Collection;
  ensureIndexes(): Promise<void>;
  /** Current version (0: no events). */
  version(aggregateId: string): Promise<number>;
  /**
   * Appends after `expectedVersion` (undefined: after whatever is current, retried 3 times on a race).
   * Throws 409 `MR_ES_VERSION_CONFLICT` (details `currentVersion`) when another version is current.
   */
  append(aggregateId: string, events: readonly NewEvent[], expectedVersion: number | undefined, metadata?: EventMetadata): Promise<readonly StoredEvent[]>;
  /** Events with `from <= version <= to` in version order (stored data, not upcast). */
  read(aggregateId: string, from: number, to?: number, limit?: number): AsyncIterable<StoredEvent>;
  /** Every event of every aggregate, by aggregate then version (rebuilds). */
  readAll(): AsyncIterable<StoredEvent>;
}

export function toStoredEvent(doc: Document): StoredEvent {
  const committedAt = doc.committedAt;
  return {
    aggregateId: String(doc.aggregateId),
    version: Number(doc.version),
    type: String(doc.type),
    schemaVersion: Number(doc.schemaVersion ?? 1),
    data: (doc.data ?? {}) as Record<string, unknown>,
    occurredAt: committedAt instanceof Date ? committedAt.toISOString() : String(committedAt),
    metadata: (doc.metadata ?? {}) as EventMetadata,
  };
}

/** The published record of one event (fast-data.md §8). */
export function toOutboxEvent(aggregate: string, topic: string, event: StoredEvent): OutboxEvent {
  return {
    topic,
    key: event.aggregateId,
    headers: { messageSchema: ES_MESSAGE_SCHEMA },
    value: {
      aggregateType: aggregate,
      aggregateId: event.aggregateId,
      version: event.version,
      type: event.type,
      schemaVersion: event.schemaVersion,
      data: event.data,
      metadata: { eventId: `${event.aggregateId}:${event.version}`, ...event.metadata, occurredAt: event.occurredAt },
    },
  };
}

export function conflict(expected: number, current: number): MiaRunError {
  return new MiaRunError('MR_ES_VERSION_CONFLICT', `expected version ${expected}, current ${current}`, { details: { expectedVersion: expected, currentVersion: current }, hint: 'reload the aggregate and retry with its current version' });
}

const isDuplicate = (err: unknown): boolean => isMiaRunError(err) && (err.code === 'MR_STORE_DUPLICATE_KEY' || err.code === 'MR_STORE_WRITE_CONFLICT');

export function createEventStore(options: EventStoreOptions): EventStore {
  const { aggregate, store, clock, outbox, topic } = options;
  const name = `${aggregate}-events`;
  const collection = store.collection(name);
  const transactional = store.features.has('transactions');

  const head = async (col: Pick<Collection, 'findOne'>, aggregateId: string): Promise<number> => {
    const doc = await col.findOne({ aggregateId }, { sort: { aggregateId: 1, version: -1 }, projection: { version: 1 } });
    return doc === null ? 0 : Number(doc.version);
  };

  const attempt = async (tx: TransactionScope, aggregateId: string, events: readonly NewEvent[], expected: number | undefined, metadata: EventMetadata): Promise<StoredEvent[]> => {
    const col = tx.collection(name);
    const current = await head(col, aggregateId);
    if (expected !== undefined && expected !== current) throw conflict(expected, current);
    const committedAt = new Date(clock.now());
    const docs = events.map((e, i) => ({
      _id: `${aggregateId}:${current + i + 1}`,
      aggregateId,
      version: current + i + 1,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata,
      committedAt,
    }));
    await col.insertMany(docs);
    return docs.map(toStoredEvent);
  };

  const write = async (aggregateId: string, events: readonly NewEvent[], expected: number | undefined, metadata: EventMetadata): Promise<StoredEvent[]> => {
    let stored: StoredEvent[] = [];
    if (outbox !== undefined && topic !== undefined) {
      await outbox.write(async (tx) => {
        stored = await attempt(tx, aggregateId, events, expected, metadata);
        return stored.map((e) => toOutboxEvent(aggregate, topic, e));
      });
      return stored;
    }
    if (transactional) return store.withTransaction((tx) => attempt(tx, aggregateId, events, expected, metadata));
    return attempt({ collection: (n) => store.collection(n) }, aggregateId, events, expected, metadata);
  };

  return {
    collection,
    async ensureIndexes() {
      await collection.ensureIndexes([{ name: 'aggregate_version', key: { aggregateId: 1, version: 1 }, unique: true }]);
    },
    version: (aggregateId) => head(collection, aggregateId),
    async append(aggregateId, events, expectedVersion, metadata = {}) {
      for (let tries = 1; ; tries++) {
        try {
          return await write(aggregateId, events, expectedVersion, metadata);
        } catch (err) {
          if (!isDuplicate(err)) throw err;
          // Another writer took the version between our read and our insert.
          if (expectedVersion !== undefined) throw conflict(expectedVersion, await head(collection, aggregateId));
          if (tries >= 3) throw conflict(await head(collection, aggregateId) - 1, await head(collection, aggregateId));
        }
      }
    },
    async *read(aggregateId, from, to, limit) {
      const version: Record<string, number> = { $gte: from };
      if (to !== undefined) version.$lte = to;
      const cursor = collection.find({ aggregateId, version }, { sort: { aggregateId: 1, version: 1 }, ...(limit === undefined ? {} : { limit }) });
      for await (const doc of cursor) yield toStoredEvent(doc);
    },
    async *readAll() {
      for await (const doc of collection.find({}, { sort: { aggregateId: 1, version: 1 } })) yield toStoredEvent(doc);
    },
  };
}
