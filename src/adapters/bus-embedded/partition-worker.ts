/**
 * Consumes one partition for one group member: reads batches from the position, hands them to the
 * retry/dead-letter processor, commits the returned offset (only while this member still owns the
 * partition), and waits for new messages (in-process notification, or polling on the Clock for writes of
 * other processes).
 */
import type { BatchProcessor } from '../../bus/dead-letter.js';
import { createConsumedMessage } from '../../bus/message.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { ConsumedMessage, SeekPosition } from '../../ports/event-bus.js';
import type { Logger } from '../../ports/logger.js';
import { createMetricEmitter } from '../../ports/telemetry.js';
import type { LogStore } from './log-store.js';
import { readMeta } from './log-store.js';
import { decodeRecord, recordTimestamp } from './record-codec.js';

const metrics = createMetricEmitter('bus');

/** Safety net: an idle consumer looks at its partition this often even without a notification. */
const IDLE_RECHECK_MS = 1000;

export interface PartitionWorkerDeps {
  readonly store: LogStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly group: string;
  readonly memberId: string;
  readonly topic: string;
  readonly partition: number;
  readonly fromBeginning: boolean;
  readonly maxBatchSize: number;
  readonly processor: BatchProcessor;
  /** Aborted when the member stops (ends back-off waits of retries). */
  readonly signal: AbortSignal;
  /** Called when a commit finds the partition claimed by another member. */
  readonly onLost: () => void;
}

/** Offset of `position` in a partition: the first message at or after a timestamp, clamped to the kept range. */
export function resolvePosition(store: LogStore, topic: string, partition: number, position: SeekPosition): number {
  store.root.resetReadTxn();
  const meta = readMeta(store, topic, partition);
  if (position === 'beginning') return meta.start;
  if (position === 'end') return meta.next;
  if ('offset' in position) return Math.min(Math.max(position.offset, meta.start), meta.next);
  for (const { key, value } of store.log.getRange({ start: [topic, partition, meta.start], end: [topic, partition, meta.next] })) {
    if (recordTimestamp(value) >= position.timestamp) return key[2];
  }
  return meta.next;
}

/** Writes a group's offset if `memberId` owns the partition (or `memberId` is null: admin reset). */
export async function commitOffset(store: LogStore, group: string, topic: string, partition: number, memberId: string | null, offset: number): Promise<boolean> {
  return store.root.transaction(() => {
    if (memberId !== null && store.claims.get([group, topic, partition]) !== memberId) return false;
    store.offsets.putSync([group, topic, partition], offset);
    return true;
  });
}

export class PartitionWorker {
  private position: number | null = null;
  private stopping = false;
  private pendingSeek: { position: SeekPosition; done: () => void } | null = null;
  private wakeUp: (() => void) | null = null;
  private inFlightCommit: { readonly promise: Promise<boolean>; settled: boolean } | null = null;
  private paused_ = false;
  private readonly done: Promise<void>;

  constructor(private readonly deps: PartitionWorkerDeps) {
    this.done = this.run()
      .catch((error: unknown) => {
        deps.logger.error({ err: error, topic: deps.topic, partition: deps.partition, group: deps.group }, 'partition consumer failed');
      })
      .finally(() => this.pendingSeek?.done());
  }

  /** Finishes the in-flight batch (committing it) and ends the loop. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.done;
  }

  pause(): void {
    this.paused_ = true;
  }

  resume(): void {
    this.paused_ = false;
    this.wake();
  }

  /** Applied after the in-flight batch; resolves once committed. */
  seek(position: SeekPosition): Promise<void> {
    return new Promise((resolve) => {
      this.pendingSeek?.done();
      this.pendingSeek = { position, done: resolve };
      this.wake();
    });
  }

  /** Re-reads the committed offset before the next batch (after an admin reset). */
  reload(): void {
    this.position = null;
    this.wake();
  }

  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (error) {
        // A storage error: keep the partition and try again shortly rather than stall it silently.
        this.deps.logger.error({ err: error, topic: this.deps.topic, partition: this.deps.partition, group: this.deps.group }, 'partition consumer failed; retrying');
        this.position = null;
        await this.waitForWake(false, 1000);
      }
    }
    await this.settleCommit().catch((error: unknown) => {
      this.deps.logger.warn({ err: error, topic: this.deps.topic, partition: this.deps.partition, group: this.deps.group }, 'last commit failed; the batch will be redelivered');
    });
  }

  /** One turn: apply a seek, fix the position, then handle one batch or wait for messages. */
  private async step(): Promise<void> {
    const { store, topic, partition, group, memberId } = this.deps;
    const seek = this.pendingSeek;
    if (seek !== null) {
      this.pendingSeek = null;
      const committed = await this.commit(resolvePosition(store, topic, partition, seek.position));
      seek.done();
      if (!committed) return;
    }
    if (this.paused_) return this.waitForWake(false);
    if (this.position === null) {
      const committed = store.offsets.get([group, topic, partition]);
      if (committed === undefined) {
        // Fix where a new group starts now, so a rebalance before the first commit cannot skip messages.
        const initial = resolvePosition(store, topic, partition, this.deps.fromBeginning ? 'beginning' : 'end');
        if (!(await this.commit(initial))) return;
      } else {
        this.position = committed;
      }
    }
    // Checked again right before reading: the awaits above may have let pause() or seek() in.
    if (this.paused_ || this.pendingSeek !== null || this.stopping) return;
    // A background commit that finished meanwhile: learn whether it was refused (partition lost) or failed.
    if (this.inFlightCommit?.settled === true && !(await this.settleCommit())) return;
    // Reading and starting to listen for appends happen without an await in between, or an append notified
    // in the gap would be missed. An idle consumer does not wait for its commit in flight.
    const batch = this.read();
    if (batch.length === 0) return this.waitForWake(true, IDLE_RECHECK_MS);
    const outcome = await this.deps.processor({ topic, partition, messages: batch }, this.deps.signal);
    metrics.count('messages_consumed', 'Messages handed to consumer handlers', { topic, group }, batch.length);
    if (outcome.next !== null && !(await this.commitInBackground(outcome.next))) return;
    if (outcome.error !== undefined) {
      this.deps.logger.warn({ err: outcome.error, topic, partition, group, memberId }, 'batch not finished; retrying');
      await this.waitForWake(false, 1000);
    }
  }

  /**
   * Commits in the background: the next batch is read and handled while this offset is written (one commit
   * in flight; the next commit and the end of the loop wait for it, an idle consumer does not). A commit
   * refused because the partition moved to another member stops the worker.
   */
  private async commitInBackground(offset: number): Promise<boolean> {
    if (!(await this.settleCommit())) return false;
    const { store, group, topic, partition, memberId } = this.deps;
    this.position = offset;
    const commit = { promise: commitOffset(store, group, topic, partition, memberId, offset), settled: false };
    commit.promise.then(
      () => (commit.settled = true),
      () => (commit.settled = true),
    );
    this.inFlightCommit = commit;
    return true;
  }

  /** Waits for the commit in flight; false (and the worker stops) when it was refused. Rethrows a storage error. */
  private async settleCommit(): Promise<boolean> {
    const pending = this.inFlightCommit;
    if (pending === null) return true;
    this.inFlightCommit = null;
    if (await pending.promise) return true;
    this.stopping = true;
    this.deps.onLost();
    return false;
  }

  private async commit(offset: number): Promise<boolean> {
    if (!(await this.settleCommit())) return false;
    const { store, group, topic, partition, memberId } = this.deps;
    const ok = await commitOffset(store, group, topic, partition, memberId, offset);
    if (!ok) {
      this.stopping = true;
      this.deps.onLost();
      return false;
    }
    this.position = offset;
    return true;
  }

  private read(): ConsumedMessage[] {
    const { store, topic, partition } = this.deps;
    store.root.resetReadTxn();
    const meta = readMeta(store, topic, partition);
    const from = Math.max(this.position ?? meta.start, meta.start);
    if (from >= meta.next) return [];
    const batch: ConsumedMessage[] = [];
    const range = store.log.getRange({ start: [topic, partition, from], end: [topic, partition, meta.next], limit: this.deps.maxBatchSize });
    for (const { key, value } of range) {
      const record = decodeRecord(value);
      batch.push(createConsumedMessage({ topic, partition, offset: key[2], key: record.k, value: record.v, headers: record.h ?? {}, timestamp: record.t }));
    }
    return batch;
  }

  /**
   * Waits for a wake-up (`wake()`: stop, resume, seek, reload), for an append to the topic when `onAppend`
   * (published in this process, or noticed by the `AppendPoller` for other processes), or for `ms` when given.
   */
  private waitForWake(onAppend: boolean, ms?: number): Promise<void> {
    const { store, clock, topic } = this.deps;
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      const finish = (): void => {
        // Read the newest snapshot: the wake-up may come from a write committed after our read transaction began.
        store.root.resetReadTxn();
        store.events.off(`append:${topic}`, finish);
        if (timer !== null) clock.clearTimeout(timer);
        if (this.wakeUp === finish) this.wakeUp = null;
        resolve();
      };
      if (this.stopping) return resolve();
      this.wakeUp = finish;
      if (onAppend) store.events.on(`append:${topic}`, finish);
      if (ms !== undefined) timer = clock.setTimeout(finish, ms);
    });
  }
}
