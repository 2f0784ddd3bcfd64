/**
 * Read models (fast-data.md §8): one document per aggregate id, folded from the aggregate's events, with
 * `__internal__counter` = the last applied version and `__internal__counterType: "version"`. An event
 * applies iff its version is greater than the counter (duplicates and redeliveries are skipped), and a gap
 * (version > counter + 1) is filled from the event store first, so the document always equals the fold of
 * versions 1..counter. Writes are guarded by the counter read (compare-and-set), so two consumers of one id
 * cannot interleave. A fold returning null deletes the document. A rebuild drops the collection and writes
 * the fold of every aggregate with the same guard, so a live consumer writing meanwhile is harmless.
 */
import { isMiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Collection, Document } from '../ports/document-store.js';
import type { MessageBatch } from '../ports/event-bus.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import type { EventStore } from './event-store.js';
import type { Fold, FoldEvent, State } from './fold.js';

const metrics = createMetricEmitter('eventsourcing');

export const COUNTER = '__internal__counter';
export const COUNTER_TYPE = '__internal__counterType';

export interface ReadModelOptions {
  readonly name: string;
  readonly aggregate: string;
  readonly collection: Collection;
  readonly events: EventStore;
  readonly fold: Fold;
  readonly upcast: (event: FoldEvent) => FoldEvent;
  readonly clock: Clock;
}

export interface ReadModel {
  readonly name: string;
  readonly collection: Collection;
  /** Applies one event (idempotent by version); resolves with whether the document changed. */
  apply(event: FoldEvent): Promise<boolean>;
  /** Bus handler: the aggregate's records of a batch, in order. */
  handle(batch: MessageBatch): Promise<void>;
  /** Drops the collection and folds every stored event into it; resolves with the number of documents. */
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

export function createReadModel(options: ReadModelOptions): ReadModel {
  const { name, aggregate, collection, events, fold, upcast, clock } = options;
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

  const apply = async (event: FoldEvent): Promise<boolean> => {
    for (;;) {
      const doc = await collection.findOne({ _id: event.aggregateId });
      const counter = doc === null ? 0 : Number(doc[COUNTER] ?? 0);
      if (event.version <= counter) return false;
      let state = stateOf(doc);
      if (event.version > counter + 1) {
        for await (const missing of events.read(event.aggregateId, counter + 1, event.version - 1)) state = fold(state, upcast(missing));
      }
      state = fold(state, upcast(event));
      try {
        if (doc === null) {
          if (state === null) return false;
          await collection.insertOne(toDoc(event.aggregateId, state, event.version));
          return true;
        }
        const guard = { _id: event.aggregateId, [COUNTER]: counter };
        const result = state === null ? await collection.deleteOne(guard) : await collection.replaceOne(guard, toDoc(event.aggregateId, state, event.version));
        if (('matchedCount' in result ? result.matchedCount : result.deletedCount) === 1) return true;
      } catch (err) {
        if (!isMiaRunError(err) || err.code !== 'MR_STORE_DUPLICATE_KEY') throw err;
      }
      // Someone else wrote this document meanwhile: read it again.
    }
  };

  return {
    name,
    collection,
    apply,
    async handle(batch) {
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
        });
        metrics.count(applied ? 'read_model_applied' : 'read_model_skipped', applied ? 'Events applied to a read model' : 'Redelivered or old events a read model skipped', { readModel: name });
      }
    },
    async rebuild() {
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
    },
  };
}
