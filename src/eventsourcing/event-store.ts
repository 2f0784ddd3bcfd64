/**
 * The event store of one aggregate type on the DocumentStore (fast-data.md §8): collection `<name>-events`,
 * one document per event `{ _id: "<id>:<version>", aggregateId, version, type, schemaVersion, data,
 * metadata, committedAt }`, unique on (aggregateId, version). An append reads the current version and
 * inserts the next ones in ONE transaction together with the outbox records, so a stored event and its
 * publication cannot diverge; two writers from the same version collide on the unique index and the loser
 * gets 409 `MR_ES_VERSION_CONFLICT`. Concurrent appends in one process are group-committed: those that
 * arrive while a transaction commits share the next one (each still checks its own expected version).
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
   * Throws 409 `MR_ES_VERSION_CONFLICT` (details `currentVersion`) when another version is current. With
   * `metadata.commandId` already stored for this aggregate, resolves with that command's events instead.
   */
  append(aggregateId: string, events: readonly NewEvent[], expectedVersion: number | undefined, metadata?: EventMetadata): Promise<readonly StoredEvent[]>;
  /** The events stored by the command `commandId` on this aggregate, if any. */
  findCommand(aggregateId: string, commandId: string): Promise<StoredEvent[] | undefined>;
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

/** Event-loop turns a group commit waits at most for more appends to join. */
const SETTLE_TURNS = 4;
/** Most appends committed in one transaction. */
const MAX_BATCH = 256;
/** Aggregates whose last version is remembered (the map is cleared when full). */
const MAX_HINTS = 100_000;

export function createEventStore(options: EventStoreOptions): EventStore {
  const { aggregate, store, clock, outbox, topic } = options;
  const name = `${aggregate}-events`;
  const collection = store.collection(name);
  // Read per call: a MongoDB store narrows its features to what the server offers only once it has started.
  const transactional = (): boolean => store.features.has('transactions');

  const scan = async (col: Pick<Collection, 'findOne'>, aggregateId: string): Promise<number> => {
    const doc = await col.findOne({ aggregateId }, { sort: { aggregateId: 1, version: -1 }, projection: { version: 1 } });
    return doc === null ? 0 : Number(doc.version);
  };
  // Last version this process saw committed per aggregate: the current version is then confirmed with one
  // point read of `<id>:<hint + 1>` (absent ⇒ hint is current, since versions are contiguous and never
  // removed) instead of an index scan. A stale hint (another process appended) falls back to the scan.
  const hints = new Map<string, number>();
  const remember = (aggregateId: string, version: number): void => {
    if (hints.size >= MAX_HINTS) hints.clear();
    if ((hints.get(aggregateId) ?? 0) < version) hints.set(aggregateId, version);
  };
  const head = async (col: Pick<Collection, 'findOne'>, aggregateId: string): Promise<number> => {
    const hint = hints.get(aggregateId) ?? 0;
    const next = await col.findOne({ _id: `${aggregateId}:${hint + 1}` }, { projection: { _id: 1 } });
    return next === null ? hint : scan(col, aggregateId);
  };

  const previousCommand = async (col: Pick<Collection, 'find'>, aggregateId: string, commandId: string): Promise<StoredEvent[] | undefined> => {
    const docs = await col.find({ aggregateId, 'metadata.commandId': commandId }, { sort: { aggregateId: 1, version: 1 } }).toArray();
    return docs.length === 0 ? undefined : docs.map(toStoredEvent);
  };

  interface Request {
    readonly aggregateId: string;
    readonly events: readonly NewEvent[];
    readonly expected: number | undefined;
    readonly metadata: EventMetadata;
  }
  type Outcome = StoredEvent[] | MiaRunError;

  // Appends of one batch, in order, inside one transaction: a request whose expected version does not match
  // gets its conflict as an outcome and the others still commit (later requests see earlier ones' writes).
  const attempt = async (tx: TransactionScope, batch: readonly Request[]): Promise<Outcome[]> => {
    const col = tx.collection(name);
    const committedAt = new Date(clock.now());
    const outcomes: Outcome[] = [];
    const heads = new Map<string, number>();
    const docs: Document[] = [];
    const commands = new Map<string, StoredEvent[]>();
    for (const r of batch) {
      // A repeated command id (Idempotency-Key) answers the first result instead of appending again.
      const commandKey = r.metadata.commandId === undefined ? undefined : `${r.aggregateId}\u0000${r.metadata.commandId}`;
      if (commandKey !== undefined) {
        const earlier = commands.get(commandKey) ?? (await previousCommand(col, r.aggregateId, r.metadata.commandId ?? ''));
        if (earlier !== undefined) {
          outcomes.push(earlier);
          continue;
        }
      }
      // An expected version equal to the last one this process saw committed (0 for an aggregate it never saw)
      // needs no read: if another writer got in between, inserting `<id>:<expected + 1>` fails on the unique
      // `_id`, and the request is retried on its own (409 with the version read then).
      const known = hints.get(r.aggregateId) ?? 0;
      const current = heads.get(r.aggregateId) ?? (r.expected !== undefined && r.expected === known ? known : await head(col, r.aggregateId));
      if (r.expected !== undefined && r.expected !== current) {
        outcomes.push(conflict(r.expected, current));
        heads.set(r.aggregateId, current);
        continue;
      }
      const mine = r.events.map((e, i) => ({
        _id: `${r.aggregateId}:${current + i + 1}`,
        aggregateId: r.aggregateId,
        version: current + i + 1,
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: e.data,
        metadata: r.metadata,
        committedAt,
      }));
      heads.set(r.aggregateId, current + mine.length);
      docs.push(...mine);
      const stored = mine.map(toStoredEvent);
      if (commandKey !== undefined) commands.set(commandKey, stored);
      outcomes.push(stored);
    }
    if (docs.length > 0) await col.insertMany(docs);
    return outcomes;
  };

  const commit = async (batch: readonly Request[]): Promise<Outcome[]> => {
    let outcomes: Outcome[] = [];
    if (outbox !== undefined && topic !== undefined) {
      await outbox.write(async (tx) => {
        outcomes = await attempt(tx, batch);
        return outcomes.flatMap((o) => (o instanceof MiaRunError ? [] : o.map((e) => toOutboxEvent(aggregate, topic, e))));
      });
      return outcomes;
    }
    outcomes = transactional() ? await store.withTransaction((tx) => attempt(tx, batch)) : await attempt({ collection: (n) => store.collection(n) }, batch);
    return outcomes;
  };
  const write = async (batch: readonly Request[]): Promise<Outcome[]> => {
    const outcomes = await commit(batch);
    for (const o of outcomes) {
      const last = o instanceof MiaRunError ? undefined : o[o.length - 1];
      if (last !== undefined) remember(last.aggregateId, last.version);
    }
    return outcomes;
  };

  /** One request on its own, retried when another writer (or process) got in between. */
  const appendOne = async (request: Request): Promise<StoredEvent[]> => {
    for (let tries = 1; ; tries++) {
      try {
        const [outcome] = await write([request]);
        if (outcome instanceof MiaRunError) throw outcome;
        return outcome ?? [];
      } catch (err) {
        if (!isMiaRunError(err) || tries >= 5) throw err;
        if (err.code === 'MR_STORE_WRITE_CONFLICT') continue;
        if (err.code !== 'MR_STORE_DUPLICATE_KEY') throw err;
        // Another writer took the version between our read and our insert.
        const current = await head(collection, request.aggregateId);
        if (request.expected !== undefined) throw conflict(request.expected, current);
        if (tries >= 3) throw conflict(current - 1, current);
      }
    }
  };

  // Group commit: appends arriving while a transaction commits wait and go together in the next one, so
  // concurrent writers share one transaction (and one outbox sequence reservation) instead of conflicting.
  const queue: { request: Request; resolve: (e: StoredEvent[]) => void; reject: (e: unknown) => void }[] = [];
  let draining = false;
  const drain = async (): Promise<void> => {
    draining = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      let outcomes: Outcome[] | undefined;
      try {
        outcomes = batch.length === 1 ? undefined : await write(batch.map((b) => b.request));
      } catch {
        outcomes = undefined; // the batch failed as a whole: each request is retried on its own
      }
      if (outcomes === undefined) {
        await Promise.all(batch.map((b) => appendOne(b.request).then(b.resolve, b.reject)));
        continue;
      }
      batch.forEach((b, i) => {
        const outcome = outcomes?.[i];
        if (outcome instanceof MiaRunError) b.reject(outcome);
        else b.resolve(outcome ?? []);
      });
    }
    draining = false;
  };

  // Start on a later turn, not now: writers released by the previous batch come back over a few turns (an
  // HTTP request takes several to reach here), and should share the next transaction instead of the first
  // of them committing alone. Waits while the queue still grows, at most SETTLE_TURNS turns.
  const settle = (seen: number, turns: number): void => {
    setImmediate(() => {
      if (queue.length > seen && turns < SETTLE_TURNS) settle(queue.length, turns + 1);
      else void drain();
    });
  };

  return {
    collection,
    async ensureIndexes() {
      await collection.ensureIndexes([
        { name: 'aggregate_version', key: { aggregateId: 1, version: 1 }, unique: true },
        // Not partial: FerretDB has no partial indexes; events without a command id index as null.
        { name: 'aggregate_command', key: { aggregateId: 1, 'metadata.commandId': 1 } },
      ]);
    },
    version: (aggregateId) => head(collection, aggregateId),
    findCommand: (aggregateId, commandId) => previousCommand(collection, aggregateId, commandId),
    append(aggregateId, events, expectedVersion, metadata = {}) {
      const request: Request = { aggregateId, events, expected: expectedVersion, metadata };
      if (!transactional()) return appendOne(request);
      return new Promise<StoredEvent[]>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        if (draining) return;
        draining = true;
        settle(queue.length, 0);
      });
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
