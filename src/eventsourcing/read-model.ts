/**
 * Read models (fast-data.md §8): one document per aggregate id, folded from the aggregate's events, with
 * `__internal__counter` = the last applied version and `__internal__counterType: "version"`. An event
 * applies iff its version is greater than the counter (duplicates and redeliveries are skipped), and a gap
 * (version > counter + 1) is filled from the event store first, so the document always equals the fold of
 * versions 1..counter. Writes are guarded by the counter read (compare-and-set), so two consumers of one id
 * cannot interleave. A fold returning null deletes the document. A rebuild pauses the live consumers first
 * (read-model-fence.ts: they write nothing until it is done, in this or any other process), drops the
 * collection, writes the fold of every aggregate, then resumes them; they go on from their committed offsets.
 */
import { isMiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Collection, Document, DocumentStore, TransactionScope } from '../ports/document-store.js';
import type { HandlerContext, MessageBatch } from '../ports/event-bus.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import type { EventStore } from './event-store.js';
import type { Fold, FoldEvent, State } from './fold.js';
import { createFence, type Fence } from './read-model-fence.js';

const metrics = createMetricEmitter('eventsourcing');

export const COUNTER = '__internal__counter';
export const COUNTER_TYPE = '__internal__counterType';

export interface ReadModelOptions {
  readonly name: string;
  readonly aggregate: string;
  /** The read model's database; its collection is `collection`. */
  readonly store: DocumentStore;
  readonly collection: string;
  readonly events: EventStore;
  readonly fold: Fold;
  readonly upcast: (event: FoldEvent) => FoldEvent;
  readonly clock: Clock;
  /** Lease of a rebuild's pause, ms (renewed while it runs); default 60000. */
  readonly pauseLeaseMs?: number;
  /** How long a rebuild waits after pausing for writes already under way, ms; default 1000. */
  readonly settleMs?: number;
}

export interface ReadModel {
  readonly name: string;
  readonly collection: Collection;
  readonly fence: Fence;
  /** Applies one event (idempotent by version; waits while a rebuild pauses the model); whether it changed the document. */
  apply(event: FoldEvent, signal?: AbortSignal): Promise<boolean>;
  /** Bus handler: the aggregate's records of a batch, in order. */
  handle(batch: MessageBatch, ctx?: Pick<HandlerContext, 'signal'>): Promise<void>;
  /**
   * Pauses the live consumers, drops the collection and folds every stored event into it, then resumes them;
   * resolves with the number of documents.
   */
  rebuild(): Promise<number>;
}

function stateOf(doc: Document | null): State | null {
  if (doc === null) return null;
  const { _id: _ignored, [COUNTER]: _c, [COUNTER_TYPE]: _t, updatedAt: _u, ...state } = doc;
  return state;
}

interface PublishedEvent {
  readonly aggregateType?: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly type: string;
  readonly schemaVersion?: number;
  readonly data?: Record<string, unknown>;
  readonly metadata?: { readonly occurredAt?: string };
}

const PAUSED = Symbol('paused');

export function createReadModel(options: ReadModelOptions): ReadModel {
  const { name, aggregate, store, events, fold, upcast, clock } = options;
  const collection = store.collection(options.collection);
  const fence = createFence({ store, readModel: name, clock });
  const leaseMs = options.pauseLeaseMs ?? 60_000;
  const transactional = (): boolean => store.features.has('transactions');
  const toDoc = (id: string, state: State, version: number): Document => ({ ...state, _id: id, [COUNTER]: version, [COUNTER_TYPE]: 'version', updatedAt: new Date(clock.now()) });

  // Rebuild writes: a live consumer may write the same document meanwhile; the higher version wins.
  const put = async (id: string, state: State, version: number): Promise<void> => {
    for (;;) {
      const doc = await collection.findOne({ _id: id }, { projection: { [COUNTER]: 1 } });
      const counter = doc === null ? 0 : Number(doc[COUNTER] ?? 0);
      if (counter >= version) return;
      try {
        if (doc === null) await collection.insertOne(toDoc(id, state, version));
        else if ((await collection.replaceOne({ _id: id, [COUNTER]: counter }, toDoc(id, state, version))).matchedCount === 0) continue;
        return;
      } catch (err) {
        if (!isMiaRunError(err) || err.code !== 'MR_STORE_DUPLICATE_KEY') throw err;
      }
    }
  };

  // One compare-and-set write of the document; PAUSED when a rebuild paused the model (checked in the same
  // transaction as the write when the store has transactions, so no write lands after the pause is set).
  const write = async (id: string, counter: number, exists: boolean, next: Document | null): Promise<boolean | typeof PAUSED> => {
    const run = async (tx: Pick<TransactionScope, 'collection'>): Promise<boolean | typeof PAUSED> => {
      if (await fence.paused(tx)) return PAUSED;
      const col = tx.collection(options.collection);
      if (!exists) {
        if (next === null) return true;
        await col.insertOne(next);
        return true;
      }
      const guard = { _id: id, [COUNTER]: counter };
      const result = next === null ? await col.deleteOne(guard) : await col.replaceOne(guard, next);
      return ('matchedCount' in result ? result.matchedCount : result.deletedCount) === 1;
    };
    return transactional() ? store.withTransaction(run) : run(store);
  };

  const apply = async (event: FoldEvent, signal?: AbortSignal): Promise<boolean> => {
    for (;;) {
      const doc = await collection.findOne({ _id: event.aggregateId });
      const counter = doc === null ? 0 : Number(doc[COUNTER] ?? 0);
      if (event.version <= counter) return false;
      let state = stateOf(doc);
      if (event.version > counter + 1) {
        for await (const missing of events.read(event.aggregateId, counter + 1, event.version - 1)) state = fold(state, upcast(missing));
      }
      state = fold(state, upcast(event));
      if (doc === null && state === null) return false;
      let written: boolean | typeof PAUSED;
      try {
        written = await write(event.aggregateId, counter, doc !== null, state === null ? null : toDoc(event.aggregateId, state, event.version));
      } catch (err) {
        if (!isMiaRunError(err) || err.code !== 'MR_STORE_DUPLICATE_KEY') throw err;
        written = false;
      }
      if (written === PAUSED) {
        metrics.count('read_model_paused', 'Read-model writes held back while a rebuild runs', { readModel: name });
        await fence.waitWhilePaused(signal);
        continue; // the rebuild rewrote the collection: read the document again
      }
      if (written) return true;
      // Someone else wrote this document meanwhile: read it again.
    }
  };

  return {
    name,
    collection,
    fence,
    apply,
    async handle(batch, ctx) {
      for (const message of batch.messages) {
        const value = message.json<PublishedEvent | null>();
        if (value === null || value.aggregateType !== aggregate) continue;
        const applied = await apply({
          aggregateId: value.aggregateId,
          version: value.version,
          type: value.type,
          schemaVersion: value.schemaVersion ?? 1,
          data: value.data ?? {},
          occurredAt: value.metadata?.occurredAt ?? new Date(message.timestamp).toISOString(),
        }, ctx?.signal);
        metrics.count(applied ? 'read_model_applied' : 'read_model_skipped', applied ? 'Events applied to a read model' : 'Redelivered or old events a read model skipped', { readModel: name });
      }
    },
    async rebuild() {
      const pause = await fence.pause(leaseMs);
      let renewedAt = clock.now();
      try {
        // A consumer may be between its pause check and its write: without transactions, or on a store whose
        // transactions do not re-check what they read (MongoDB's snapshot isolation), let such writes land.
        await clock.sleep(options.settleMs ?? 1000);
        await collection.drop();
        let count = 0;
        let id: string | null = null;
        let state: State | null = null;
        let version = 0;
        const close = async (): Promise<void> => {
          if (id !== null && state !== null) {
            await put(id, state, version);
            count++;
          }
          if (clock.now() - renewedAt > leaseMs / 3) {
            await fence.pause(leaseMs, pause);
            renewedAt = clock.now();
          }
        };
        for await (const event of events.readAll()) {
          if (event.aggregateId !== id) {
            await close();
            id = event.aggregateId;
            state = null;
          }
          state = fold(state, upcast(event));
          version = event.version;
        }
        await close();
        return count;
      } finally {
        await fence.resume(pause);
      }
    },
  };
}
