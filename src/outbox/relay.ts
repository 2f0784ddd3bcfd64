/**
 * The outbox relay: publishes pending records in `seq` order, then marks them sent. One relay at a time
 * works on a store (a lease in `_outbox_meta`, renewed each pass), so several processes on one database keep
 * the order. A crash after publishing and before marking republishes those records: at-least-once, with the
 * `mia-outbox-seq` header to de-duplicate.
 */
import { randomUUID } from 'node:crypto';
import { isMiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DocumentStore } from '../ports/document-store.js';
import type { EventBus, OutgoingMessage } from '../ports/event-bus.js';
import type { Logger } from '../ports/logger.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import { OUTBOX_COLLECTION, OUTBOX_META_COLLECTION, OUTBOX_SEQ_HEADER, type OutboxRecord } from './outbox-records.js';

export interface RelayOptions {
  readonly store: DocumentStore;
  readonly bus: Pick<EventBus, 'publish'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Records per pass; default 500. */
  readonly batchSize: number;
  /** Lease of the relay role, ms; default 10000. */
  readonly leaseMs: number;
  /** Sent records older than this are deleted, ms; default 1 day. */
  readonly keepSentMs: number;
}

const metrics = createMetricEmitter('outbox');

export class OutboxRelay {
  private readonly owner = randomUUID();

  constructor(private readonly options: RelayOptions) {}

  /** Publishes what is pending (in passes of `batchSize`); returns how many records were published. */
  async relay(): Promise<number> {
    if (!(await this.acquireLease())) return 0;
    let total = 0;
    for (;;) {
      const published = await this.pass();
      total += published;
      if (published < this.options.batchSize) break;
      await this.acquireLease();
    }
    return total;
  }

  /** Deletes sent records older than `keepSentMs`. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.options.clock.now() - this.options.keepSentMs);
    const { deletedCount } = await this.options.store.collection(OUTBOX_COLLECTION).deleteMany({ sentAt: { $ne: null, $lt: cutoff } });
    return deletedCount;
  }

  /** Gives the relay role up (on stop), so another process takes over at once. */
  async release(): Promise<void> {
    await this.options.store.collection(OUTBOX_META_COLLECTION).deleteOne({ _id: 'relay', owner: this.owner });
  }

  private async pass(): Promise<number> {
    const { store, bus, clock } = this.options;
    const outbox = store.collection(OUTBOX_COLLECTION);
    const pending = (await outbox.find({ sentAt: null }, { sort: { seq: 1 }, limit: this.options.batchSize }).toArray()) as unknown as OutboxRecord[];
    if (pending.length === 0) return 0;
    // Consecutive records of one topic go in one publish; runs are published one after the other to keep order.
    let start = 0;
    while (start < pending.length) {
      let end = start + 1;
      while (end < pending.length && pending[end]!.topic === pending[start]!.topic) end += 1;
      const run = pending.slice(start, end);
      const messages: OutgoingMessage[] = run.map((r) => ({
        key: r.key,
        value: r.value as OutgoingMessage['value'],
        headers: { ...r.headers, [OUTBOX_SEQ_HEADER]: String(r.seq) },
        timestamp: r.createdAt instanceof Date ? r.createdAt.getTime() : clock.now(),
      }));
      await bus.publish(run[0]!.topic, messages);
      await outbox.updateMany({ _id: { $in: run.map((r) => r._id) } }, { $set: { sentAt: new Date(clock.now()) } });
      metrics.count('events_relayed', 'Outbox records published to the bus', { topic: run[0]!.topic }, run.length);
      start = end;
    }
    return pending.length;
  }

  /** Takes or renews the relay lease; false while another live relay holds it. */
  private async acquireLease(): Promise<boolean> {
    const now = this.options.clock.now();
    const meta = this.options.store.collection(OUTBOX_META_COLLECTION);
    const lease = { owner: this.owner, leaseUntil: now + this.options.leaseMs };
    const renewed = await meta.updateOne({ _id: 'relay', $or: [{ owner: this.owner }, { leaseUntil: { $lt: now } }] }, { $set: lease });
    if (renewed.matchedCount === 1) return true;
    if ((await meta.findOne({ _id: 'relay' })) !== null) return false;
    try {
      await meta.insertOne({ _id: 'relay', ...lease });
      return true;
    } catch (error) {
      // Another relay created the lease first.
      if (isMiaRunError(error) && error.code === 'MR_STORE_DUPLICATE_KEY') return false;
      throw error;
    }
  }
}
