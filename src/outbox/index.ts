/**
 * The transactional outbox, shared by CRUD change events and event sourcing: a business write and the events
 * it produces are stored in ONE DocumentStore transaction, and a relay publishes the events to the EventBus in
 * commit order, then marks them sent. A crash between the write and the publish loses nothing (the relay
 * publishes after restart); a crash between the publish and the mark republishes (at-least-once; the
 * `mia-outbox-seq` header identifies duplicates).
 *
 * Stores without the `transactions` feature: `write` then runs the business write and the outbox insert as
 * two separate writes (the events right after the write). A crash between the two loses those events, so
 * descriptors that need change events should use a store with transactions (both built-in stores have it).
 *
 * @example
 * const outbox = createOutbox({ store, bus, clock, logger });
 * await outbox.start();
 * await outbox.write(async (tx) => {
 *   await tx.collection('orders').insertOne(order);
 *   return [{ topic: 'orders', key: order.id, value: { type: 'created', order } }];
 * });
 * // or, inside a transaction you run yourself:
 * await store.withTransaction(async (tx) => { ...; await outbox.stage(tx, events); });
 * outbox.notify();
 */
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { DocumentStore, TransactionScope } from '../ports/document-store.js';
import type { EventBus } from '../ports/event-bus.js';
import type { HealthCheck } from '../ports/lifecycle.js';
import type { Logger } from '../ports/logger.js';
import { createSeqCounter, OUTBOX_COLLECTION, pendingFilter, reserveSeq, sentCheckpoint, toRecords, type OutboxEvent } from './outbox-records.js';
import { OutboxRelay } from './relay.js';

export { OUTBOX_COLLECTION, OUTBOX_META_COLLECTION, OUTBOX_SEQ_HEADER, type OutboxEvent, type OutboxMessage, type OutboxRecord } from './outbox-records.js';

export interface OutboxOptions {
  readonly store: DocumentStore;
  readonly bus: Pick<EventBus, 'publish'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the relay looks for records staged by other processes, ms; default 500. */
  readonly pollMs?: number;
  /** Records published per pass; default 500. */
  readonly batchSize?: number;
  /** Relay lease, ms; default 10000. */
  readonly leaseMs?: number;
  /** How long sent records are kept, ms; default 1 day. */
  readonly keepSentMs?: number;
}

export interface Outbox {
  /** Stores `events` inside the caller's transaction; they are published after it commits. */
  stage(tx: TransactionScope, events: readonly OutboxEvent[]): Promise<void>;
  /**
   * Runs `fn` in a store transaction and stages the events it returns in the same transaction, then wakes
   * the relay. `fn` may run more than once on a write conflict, so it must only write through `tx`.
   */
  write(fn: (tx: TransactionScope) => Promise<readonly OutboxEvent[]>): Promise<void>;
  /** Wakes the relay (after a transaction that staged events commits). */
  notify(): void;
  /** Publishes everything pending now; resolves with how many events were published. */
  flush(): Promise<number>;
  /** Events staged and not published yet. */
  pending(): Promise<number>;
  /** Publishes what a previous run left pending, then relays continuously. */
  start(): Promise<void>;
  /** Finishes the pass in flight and gives the relay role up. Idempotent. */
  stop(): Promise<void>;
  health(): Promise<HealthCheck>;
}

/** Events staged in `store`'s outbox and not published yet (any process; for tests and health checks). */
export async function countPending(store: DocumentStore): Promise<number> {
  const transactional = store.features.has('transactions');
  const records = await store.collection(OUTBOX_COLLECTION).find(pendingFilter(transactional, transactional ? await sentCheckpoint(store) : 0), { projection: { count: 1 } }).toArray();
  return records.reduce((n, r) => n + (typeof r.count === 'number' ? r.count : 1), 0);
}

/** Creates the outbox of one store; no I/O until `start()` (or a first `write`). */
export function createOutbox(options: OutboxOptions): Outbox {
  const { store, clock, logger } = options;
  const pollMs = options.pollMs ?? 500;
  const relay = new OutboxRelay({
    store,
    bus: options.bus,
    clock,
    logger,
    batchSize: options.batchSize ?? 500,
    leaseMs: options.leaseMs ?? 10_000,
    keepSentMs: options.keepSentMs ?? 86_400_000,
  });
  // Read per call: a MongoDB store narrows its features to what the server offers only once it has started.
  const transactional = (): boolean => store.features.has('transactions');
  let running = false;
  let timer: TimerHandle | null = null;
  let inFlight: Promise<number> | null = null;
  let again = false;
  let lastError: unknown;
  let passes = 0;

  const flush = (): Promise<number> => {
    if (inFlight !== null) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      let total = 0;
      do {
        again = false;
        total += await relay.relay();
        if (++passes % 100 === 0) await relay.prune();
      } while (again);
      return total;
    })().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const tick = (): void => {
    if (!running) return;
    void flush()
      .then(() => (lastError = undefined))
      .catch((error: unknown) => {
        lastError = error;
        logger.warn({ err: error }, 'outbox relay failed; retrying');
      })
      .finally(schedule);
  };

  function schedule(): void {
    if (!running) return;
    if (timer !== null) clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      timer = null;
      tick();
    }, pollMs);
  }

  const stage = async (tx: TransactionScope, events: readonly OutboxEvent[]): Promise<void> => {
    if (events.length === 0) return;
    const first = await reserveSeq(tx, events.length);
    const records = toRecords(events, first, new Date(clock.now()));
    if (records.length === 1) await tx.collection(OUTBOX_COLLECTION).insertOne(records[0]!);
    else await tx.collection(OUTBOX_COLLECTION).insertMany(records);
  };

  return {
    stage,
    async write(fn) {
      if (transactional()) {
        await store.withTransaction(async (tx) => stage(tx, await fn(tx)));
      } else {
        // Two writes: see the module comment for what a crash in between means.
        const direct: TransactionScope = { collection: (name) => store.collection(name) };
        const events = await fn(direct);
        await stage(direct, events);
      }
      this.notify();
    },
    notify() {
      if (running) queueMicrotask(tick);
    },
    flush,
    pending: () => countPending(store),
    async start() {
      if (running) return;
      running = true;
      if (!transactional()) logger.warn({ store: store.name }, 'store without transactions: outbox events are written after the business write, not atomically');
      await store.collection(OUTBOX_COLLECTION).ensureIndexes([{ name: 'pending_by_seq', key: { sentAt: 1, seq: 1 } }]);
      await createSeqCounter(store);
      await flush();
      schedule();
    },
    async stop() {
      if (!running) return;
      running = false;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      await inFlight?.catch(() => undefined);
      await relay.release().catch(() => undefined);
    },
    async health() {
      return lastError === undefined
        ? { name: 'outbox', status: 'OK' }
        : { name: 'outbox', status: 'KO', message: lastError instanceof Error ? lastError.message : String(lastError) };
    },
  };
}
