/**
 * The outbox relay: publishes pending records in `seq` order, then records them as sent: on a store with
 * transactions by moving the `sent` checkpoint forward (one small write per publish, whatever the number of
 * records; see outbox-records.ts for why that is safe), otherwise by setting `sentAt` on each record. One
 * relay at a time works on a store (a lease in `_outbox_meta`, renewed each pass), so several processes on
 * one database keep the order. A crash after publishing and before recording republishes those records:
 * at-least-once, with the `mia-outbox-seq` header to de-duplicate.
 */
import { randomUUID } from 'node:crypto';
import { isMiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DocumentStore } from '../ports/document-store.js';
import type { EventBus, OutgoingMessage } from '../ports/event-bus.js';
import type { Logger } from '../ports/logger.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import { lastSeq, messagesOf, OUTBOX_COLLECTION, OUTBOX_META_COLLECTION, OUTBOX_SEQ_HEADER, pendingFilter, SENT_CHECKPOINT, sentCheckpoint, type OutboxRecord } from './outbox-records.js';

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
/** How often the sent checkpoint is stored while records keep coming, ms. */
const SAVE_EVERY_MS = 100;

export class OutboxRelay {
  private readonly owner = randomUUID();
  /** Until when this relay surely holds the lease (0: not held); renewed once half of it has run out. */
  private heldUntil = 0;
  /** Last published sequence number (stores with transactions), known while the lease is held. */
  private checkpoint: number | undefined;
  /** Checkpoint last stored, and when. */
  private saved = 0;
  private savedAt = 0;

  constructor(private readonly options: RelayOptions) {}

  // Read per call: a MongoDB store narrows its features to what the server offers only once it has started.
  private transactional(): boolean {
    return this.options.store.features.has('transactions');
  }

  /** Publishes what is pending (in passes of `batchSize` records); returns how many events were published. */
  async relay(): Promise<number> {
    if (!(await this.acquireLease())) return 0;
    const transactional = this.transactional();
    // While the lease is held without a break, no other relay published: the checkpoint in memory is current.
    if (transactional && this.checkpoint === undefined) this.saved = this.checkpoint = await sentCheckpoint(this.options.store);
    let total = 0;
    for (;;) {
      const pass = await this.pass(this.checkpoint ?? 0);
      total += pass.messages;
      if (transactional) this.checkpoint = pass.checkpoint;
      if (pass.records < this.options.batchSize || !(await this.acquireLease())) break;
    }
    if (transactional) await this.saveCheckpoint(total === 0);
    return total;
  }

  /**
   * Stores the checkpoint: at most every SAVE_EVERY_MS while records keep coming (a write per pass would add
   * a commit to every append batch), at once when idle or released. A crash loses at most that much: those
   * records are published again (at-least-once).
   */
  private async saveCheckpoint(now: boolean): Promise<void> {
    const checkpoint = this.checkpoint;
    if (checkpoint === undefined || checkpoint <= this.saved) return;
    const at = this.options.clock.now();
    if (!now && at - this.savedAt < SAVE_EVERY_MS) return;
    await this.options.store.collection(OUTBOX_META_COLLECTION).updateOne({ _id: SENT_CHECKPOINT }, { $max: { seq: checkpoint } }, { upsert: true });
    this.saved = checkpoint;
    this.savedAt = at;
  }

  /** Deletes sent records older than `keepSentMs`. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.options.clock.now() - this.options.keepSentMs);
    const outbox = this.options.store.collection(OUTBOX_COLLECTION);
    let { deletedCount } = await outbox.deleteMany({ sentAt: { $ne: null, $lt: cutoff } });
    if (this.transactional()) {
      const checkpoint = await sentCheckpoint(this.options.store);
      deletedCount += (await outbox.deleteMany({ sentAt: null, seq: { $lte: checkpoint }, createdAt: { $lt: cutoff } })).deletedCount;
    }
    return deletedCount;
  }

  /** Gives the relay role up (on stop), so another process takes over at once. */
  async release(): Promise<void> {
    if (this.transactional()) await this.saveCheckpoint(true);
    this.heldUntil = 0;
    this.checkpoint = undefined;
    await this.options.store.collection(OUTBOX_META_COLLECTION).deleteOne({ _id: 'relay', owner: this.owner });
  }

  private async pass(checkpoint: number): Promise<{ records: number; messages: number; checkpoint: number }> {
    const { store, bus, clock } = this.options;
    const transactional = this.transactional();
    const outbox = store.collection(OUTBOX_COLLECTION);
    const pending = (await outbox.find(pendingFilter(transactional, checkpoint), { sort: { seq: 1 }, limit: this.options.batchSize }).toArray()) as unknown as OutboxRecord[];
    if (pending.length === 0) return { records: 0, messages: 0, checkpoint };
    const all = pending.flatMap((record) => messagesOf(record).map((m) => ({ ...m, record, createdAt: record.createdAt })));
    // Consecutive messages of one topic go in one publish; runs are published one after the other to keep order.
    let start = 0;
    let sent = checkpoint;
    while (start < all.length) {
      let end = start + 1;
      while (end < all.length && all[end]!.topic === all[start]!.topic) end += 1;
      const run = all.slice(start, end);
      const messages: OutgoingMessage[] = run.map((m) => ({
        key: m.key,
        value: m.value as OutgoingMessage['value'],
        headers: { ...m.headers, [OUTBOX_SEQ_HEADER]: String(m.seq) },
        timestamp: m.createdAt instanceof Date ? m.createdAt.getTime() : clock.now(),
      }));
      await bus.publish(run[0]!.topic, messages);
      // A record is recorded as sent once all its messages are (a run may end inside a record).
      if (transactional) {
        const last = run[run.length - 1]!;
        sent = Math.max(sent, last.seq === lastSeq(last.record) ? last.seq : last.record.seq - 1);
      } else {
        const done = run.filter((m) => m.seq === lastSeq(m.record)).map((m) => m.record._id);
        if (done.length > 0) await outbox.updateMany({ _id: { $in: done } }, { $set: { sentAt: new Date(clock.now()) } });
      }
      metrics.count('events_relayed', 'Outbox records published to the bus', { topic: run[0]!.topic }, run.length);
      start = end;
    }
    return { records: pending.length, messages: all.length, checkpoint: sent };
  }

  /** Takes or renews the relay lease; false while another live relay holds it. */
  private async acquireLease(): Promise<boolean> {
    const now = this.options.clock.now();
    // Held for more than half the lease still: no write (a pass per commit would otherwise add a commit each).
    if (now < this.heldUntil - this.options.leaseMs / 2) return true;
    this.heldUntil = 0;
    this.checkpoint = undefined;
    const meta = this.options.store.collection(OUTBOX_META_COLLECTION);
    const lease = { owner: this.owner, leaseUntil: now + this.options.leaseMs };
    const renewed = await meta.updateOne({ _id: 'relay', $or: [{ owner: this.owner }, { leaseUntil: { $lt: now } }] }, { $set: lease });
    if (renewed.matchedCount === 1) {
      this.heldUntil = lease.leaseUntil;
      return true;
    }
    if ((await meta.findOne({ _id: 'relay' })) !== null) return false;
    try {
      await meta.insertOne({ _id: 'relay', ...lease });
      this.heldUntil = lease.leaseUntil;
      return true;
    } catch (error) {
      // Another relay created the lease first.
      if (isMiaRunError(error) && error.code === 'MR_STORE_DUPLICATE_KEY') return false;
      throw error;
    }
  }
}
