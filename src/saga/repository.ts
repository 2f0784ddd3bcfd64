/**
 * Saga documents on the DocumentStore, with per-saga serialization: updates of one saga run one after the
 * other in this process (a keyed queue), and every write is a compare-and-set on `sagaVersion`, retried on
 * a conflict with another process. A cache of the last written documents saves the read on the hot path; a
 * stale entry only costs one failed compare-and-set and a re-read.
 *
 * Group commit: the writes of every saga updated in the same turn of the event loop (a consumed batch, or
 * concurrent requests) go to the store together (`write-batcher.ts`), so many transitions share one store
 * round trip and one durable commit. Each caller still resolves only once its own write is durable.
 */
import { MiaRunError } from '../errors.js';
import type { Collection } from '../ports/document-store.js';
import type { SagaDocument } from './document.js';
import { createWriteBatcher } from './write-batcher.js';

export type UpdateFn<T> = (doc: SagaDocument) => Promise<{ doc?: SagaDocument; result: T }> | { doc?: SagaDocument; result: T };

export interface SagaRepository {
  insert(doc: SagaDocument): Promise<void>;
  get(sagaId: string): Promise<SagaDocument | null>;
  /**
   * Reads the saga, lets `fn` decide, writes what it returns (`doc` undefined: no write) with a version check,
   * and retries from a fresh read on conflict. Calls for one saga are serialized. Throws `MR_SAGA_NOT_FOUND`.
   */
  update<T>(sagaId: string, fn: UpdateFn<T>): Promise<T>;
  ensureIndexes(): Promise<void>;
  readonly collection: Collection;
}

export interface RepositoryOptions {
  /** Compare-and-set attempts before `MR_SAGA_CONCURRENT_UPDATE`; default 20. */
  readonly maxAttempts?: number;
  /** Cached documents; default 10 000. */
  readonly cacheSize?: number;
  /** Most writes sent to the store together; default 500. */
  readonly maxBatch?: number;
}

export function createSagaRepository(collection: Collection, options: RepositoryOptions = {}): SagaRepository {
  const maxAttempts = options.maxAttempts ?? 20;
  const cacheSize = options.cacheSize ?? 10_000;
  const cache = new Map<string, SagaDocument>();
  const queues = new Map<string, Promise<unknown>>();
  const writes = createWriteBatcher(collection, { maxBatch: options.maxBatch ?? 500 });

  const remember = (doc: SagaDocument): void => {
    cache.delete(doc.sagaId);
    cache.set(doc.sagaId, doc);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
  };
  const read = async (sagaId: string): Promise<SagaDocument | null> => {
    const doc = (await collection.findOne({ _id: sagaId })) as SagaDocument | null;
    if (doc) remember(doc);
    else cache.delete(sagaId);
    return doc;
  };

  const serialized = <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const previous = queues.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  };

  return {
    collection,
    async ensureIndexes() {
      await collection.ensureIndexes([
        { name: 'sagaId', key: { sagaId: 1 }, unique: true },
        { name: 'currentState', key: { currentState: 1 } },
        { name: 'associatedEntityId', key: { associatedEntityId: 1 } },
        { name: 'timerDueAt', key: { timerDueAt: 1 } },
        { name: 'commandsDueAt', key: { commandsDueAt: 1 } },
      ]);
    },
    async insert(doc) {
      await writes.insert(doc);
      remember(doc);
    },
    get: read,
    update(sagaId, fn) {
      return serialized(sagaId, async () => {
        let doc = cache.get(sagaId) ?? (await read(sagaId));
        for (let attempt = 1; ; attempt++) {
          if (doc === null) throw new MiaRunError('MR_SAGA_NOT_FOUND', `No saga with id "${sagaId}"`, { details: { sagaId } });
          const { doc: next, result } = await fn(doc);
          if (next === undefined) return result;
          if (await writes.replace(doc.sagaVersion, next)) {
            remember(next);
            return result;
          }
          if (attempt >= maxAttempts) {
            throw new MiaRunError('MR_SAGA_CONCURRENT_UPDATE', `Saga "${sagaId}" kept changing under ${attempt} attempts`, { details: { sagaId } });
          }
          doc = await read(sagaId);
        }
      });
    },
  };
}
