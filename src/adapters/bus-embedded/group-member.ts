/**
 * One member of a consumer group on the embedded bus (a `Subscription`). Membership lives in the store, so
 * members in other processes on the same directory take part:
 * - every `heartbeatMs` the member renews its lease (`sessionTimeoutMs`) and rebalances;
 * - a rebalance computes the member's share (`assignment.ts`), releases partitions it should no longer own
 *   (after their in-flight batch is committed) and claims free ones, or ones whose owner's lease expired;
 * - commits check the claim, so a member that lost a partition (lease expired) cannot overwrite offsets.
 * In-process members are told of joins, leaves and releases at once through the store's event emitter.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { BatchProcessor } from '../../bus/dead-letter.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { SeekPosition, Subscription, TopicPartition } from '../../ports/event-bus.js';
import type { Logger } from '../../ports/logger.js';
import { desiredAssignment } from './assignment.js';
import type { LogStore } from './log-store.js';
import { PartitionWorker } from './partition-worker.js';

export interface GroupMemberDeps {
  readonly store: LogStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly group: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly maxBatchSize: number;
  readonly heartbeatMs: number;
  readonly sessionTimeoutMs: number;
  readonly processor: BatchProcessor;
  /** Called once the member has left the group. */
  readonly onStopped: (member: GroupMember) => void;
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class GroupMember implements Subscription {
  readonly id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly group: string;
  private readonly workers = new Map<string, { tp: TopicPartition; worker: PartitionWorker }>();
  private readonly abort = new AbortController();
  private timer: TimerHandle | null = null;
  private rebalancing: Promise<void> | null = null;
  private again = false;
  private stopped: Promise<void> | null = null;
  private paused_ = false;
  private readonly onGroupChange = (): void => void this.rebalance();
  private readonly onReset = (): void => {
    for (const { worker } of this.workers.values()) worker.reload();
  };

  constructor(private readonly deps: GroupMemberDeps) {
    this.group = deps.group;
  }

  get paused(): boolean {
    return this.paused_;
  }

  /** Registers the member, takes its first share and starts heartbeats. */
  async join(): Promise<void> {
    const { store, group } = this.deps;
    store.events.on(`group:${group}`, this.onGroupChange);
    store.events.on(`reset:${group}`, this.onReset);
    await this.rebalance();
    store.events.emit(`group:${group}`);
    this.scheduleHeartbeat();
  }

  assignment(): readonly TopicPartition[] {
    return [...this.workers.values()].map((w) => w.tp);
  }

  pause(): void {
    this.paused_ = true;
    for (const { worker } of this.workers.values()) worker.pause();
  }

  resume(): void {
    this.paused_ = false;
    for (const { worker } of this.workers.values()) worker.resume();
  }

  async seek(topic: string, position: SeekPosition): Promise<void> {
    await Promise.all([...this.workers.values()].filter((w) => w.tp.topic === topic).map((w) => w.worker.seek(position)));
  }

  stop(): Promise<void> {
    this.stopped ??= this.leave();
    return this.stopped;
  }

  private scheduleHeartbeat(): void {
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      if (this.stopped !== null) return;
      // The lease is renewed on its own first: a rebalance may wait for a long batch to finish.
      void this.renewLease()
        .then(() => this.rebalance())
        .catch((error: unknown) => this.deps.logger.warn({ err: error, group: this.group, member: this.id }, 'heartbeat failed'))
        .finally(() => {
          if (this.stopped === null) this.scheduleHeartbeat();
        });
    }, this.deps.heartbeatMs);
  }

  private async renewLease(): Promise<void> {
    const { store, clock, group, topics, sessionTimeoutMs } = this.deps;
    const leaseUntil = clock.now() + sessionTimeoutMs;
    await store.root.transaction(() => {
      // Only while still a member: a member that left (or was removed as dead) must rejoin through a rebalance.
      if (store.members.get([group, this.id]) !== undefined) store.members.putSync([group, this.id], { topics, leaseUntil });
    });
  }

  /** Runs one rebalance at a time; a request during one runs another right after. */
  private rebalance(): Promise<void> {
    if (this.stopped !== null) return Promise.resolve();
    if (this.rebalancing !== null) {
      this.again = true;
      return this.rebalancing;
    }
    this.rebalancing = (async () => {
      do {
        this.again = false;
        try {
          await this.rebalanceOnce();
        } catch (error) {
          this.deps.logger.error({ err: error, group: this.group, member: this.id }, 'rebalance failed');
        }
      } while (this.again && this.stopped === null);
    })().finally(() => {
      this.rebalancing = null;
    });
    return this.rebalancing;
  }

  private async rebalanceOnce(): Promise<void> {
    const { store, clock, group, topics, sessionTimeoutMs } = this.deps;
    store.root.resetReadTxn();
    const now = clock.now();
    const running = [...this.workers.keys()];
    const result = await store.root.transaction(() => {
      store.members.putSync([group, this.id], { topics, leaseUntil: now + sessionTimeoutMs });
      const live = new Map<string, readonly string[]>();
      for (const { key, value } of store.members.getRange({ start: [group] })) {
        if (key[0] !== group) break;
        if (value.leaseUntil > now) live.set(key[1], value.topics);
        else store.members.removeSync(key);
      }
      const desired = desiredAssignment(this.id, live, (t) => store.topics.get(t)?.partitions ?? 0, topics);
      const claimed: TopicPartition[] = [];
      for (const tp of desired) {
        const owner = store.claims.get([group, tp.topic, tp.partition]);
        if (owner === undefined || owner === this.id || !live.has(owner)) {
          if (owner !== this.id) store.claims.putSync([group, tp.topic, tp.partition], this.id);
          claimed.push(tp);
        }
      }
      const lost = running.filter((k) => {
        const running = this.workers.get(k);
        return running !== undefined && store.claims.get([group, running.tp.topic, running.tp.partition]) !== this.id;
      });
      return { desired: new Set(desired.map((tp) => tpKey(tp.topic, tp.partition))), claimed, lost: new Set(lost) };
    });
    if (this.stopped !== null) return;

    const released: TopicPartition[] = [];
    await Promise.all(
      [...this.workers].map(async ([key, { tp, worker }]) => {
        if (result.desired.has(key) && !result.lost.has(key)) return;
        this.workers.delete(key);
        await worker.stop();
        if (!result.lost.has(key)) released.push(tp);
      }),
    );
    if (released.length > 0) {
      await store.root.transaction(() => {
        for (const tp of released) {
          if (store.claims.get([group, tp.topic, tp.partition]) === this.id) store.claims.removeSync([group, tp.topic, tp.partition]);
        }
      });
      store.events.emit(`group:${group}`);
    }
    for (const tp of result.claimed) {
      const key = tpKey(tp.topic, tp.partition);
      if (!this.workers.has(key) && !result.lost.has(key)) this.startWorker(tp);
    }
  }

  private startWorker(tp: TopicPartition): void {
    const d = this.deps;
    const key = tpKey(tp.topic, tp.partition);
    const worker = new PartitionWorker({
      store: d.store,
      clock: d.clock,
      logger: d.logger,
      group: d.group,
      memberId: this.id,
      topic: tp.topic,
      partition: tp.partition,
      fromBeginning: d.fromBeginning,
      maxBatchSize: d.maxBatchSize,
      processor: d.processor,
      signal: this.abort.signal,
      onLost: () => {
        if (this.workers.get(key)?.worker === worker) this.workers.delete(key);
        void this.rebalance();
      },
    });
    if (this.paused_) worker.pause();
    this.workers.set(key, { tp, worker });
  }

  private async leave(): Promise<void> {
    const { store, clock, group } = this.deps;
    if (this.timer !== null) clock.clearTimeout(this.timer);
    store.events.off(`group:${group}`, this.onGroupChange);
    store.events.off(`reset:${group}`, this.onReset);
    await this.rebalancing;
    // Ends retry back-offs; handler calls in flight still finish and commit.
    this.abort.abort(new Error('subscription stopped'));
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(workers.map((w) => w.worker.stop()));
    await store.root.transaction(() => {
      store.members.removeSync([group, this.id]);
      for (const { key, value } of store.claims.getRange({ start: [group] })) {
        if (key[0] !== group) break;
        if (value === this.id) store.claims.removeSync(key);
      }
    });
    store.events.emit(`group:${group}`);
    this.deps.onStopped(this);
  }
}
