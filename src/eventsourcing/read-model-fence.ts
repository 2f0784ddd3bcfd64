/**
 * The fence between `mia-run aggregates rebuild` and the live read-model consumers (fast-data.md §8
 * "Rebuild: pause its consumer"), across processes: a pause document `{ _id: <read model>, pausedBy,
 * pausedUntil }` in `_es_read_models`, on the read model's database. While it is there (and its lease has
 * not run out: a crashed rebuild does not pause forever), live consumers write nothing to that read model:
 * they wait before their next write, without committing the batch, and go on from where they were once the
 * rebuild resumes them (their events then apply by version). On a store with transactions the consumer
 * reads the pause document in the same transaction as its write: on the embedded store, whose transactions
 * re-check their reads at commit, a write cannot land after the pause is set. Elsewhere (no transactions,
 * or MongoDB's snapshot isolation, which does not re-check reads) the rebuild also waits `settleMs` after
 * pausing for writes already under way.
 */
import { randomUUID } from 'node:crypto';
import { MiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DocumentStore, TransactionScope } from '../ports/document-store.js';

export const READ_MODEL_META = '_es_read_models';

export interface Fence {
  /** True while a rebuild pauses this read model (read through `tx` inside a transaction). */
  paused(tx?: Pick<TransactionScope, 'collection'>): Promise<boolean>;
  /** Resolves once the read model is not paused; rejects when `signal` aborts (the consumer stops). */
  waitWhilePaused(signal?: AbortSignal): Promise<void>;
  /** Pauses live consumers for `leaseMs` (renew by calling again); returns the pause id. */
  pause(leaseMs: number, id?: string): Promise<string>;
  /** Lifts the pause `id`. */
  resume(id: string): Promise<void>;
}

export interface FenceOptions {
  readonly store: DocumentStore;
  readonly readModel: string;
  readonly clock: Clock;
  /** How often a paused consumer looks again, ms; default 200. */
  readonly pollMs?: number;
}

export function createFence(options: FenceOptions): Fence {
  const { store, readModel, clock } = options;
  const pollMs = options.pollMs ?? 200;
  const paused = async (tx: Pick<TransactionScope, 'collection'> = store): Promise<boolean> => {
    const doc = await tx.collection(READ_MODEL_META).findOne({ _id: readModel });
    return doc !== null && typeof doc.pausedUntil === 'number' && doc.pausedUntil > clock.now();
  };
  return {
    paused,
    async waitWhilePaused(signal) {
      while (await paused()) {
        if (signal?.aborted === true) throw new MiaRunError('MR_RUNTIME_NOT_READY', `read model ${readModel} is paused by a rebuild; the consumer stopped while waiting`, { retriable: true });
        await clock.sleep(pollMs, signal).catch(() => undefined); // an abort is reported by the check above
      }
    },
    async pause(leaseMs, id = randomUUID()) {
      await store.collection(READ_MODEL_META).updateOne({ _id: readModel }, { $set: { pausedBy: id, pausedUntil: clock.now() + leaseMs } }, { upsert: true });
      return id;
    },
    async resume(id) {
      await store.collection(READ_MODEL_META).deleteOne({ _id: readModel, pausedBy: id });
    },
  };
}
