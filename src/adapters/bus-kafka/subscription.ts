/**
 * One consumer-group member on Kafka: a kafkajs consumer in the broker's group protocol, fed through
 * `eachBatch` with auto-commit and auto-resolve off. Each fetched batch is cut into `maxBatchSize` pieces and
 * handed to the shared retry/dead-letter processor (`src/bus/dead-letter.ts`); the offset it returns is
 * committed, and only then resolved, so a crash before the commit redelivers (at-least-once).
 *
 * Work on one partition (a piece and its commit, or a `seek` and its commit) runs under a per-partition FIFO
 * lock, so a seek lands after the in-flight piece and the pieces after it see the batch is stale.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { createBatchProcessor, type BatchOutcome } from '../../bus/dead-letter.js';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { EventBus, SeekPosition, SubscribeOptions, Subscription, TopicPartition } from '../../ports/event-bus.js';
import type { Logger } from '../../ports/logger.js';
import type { KafkaTuning } from './client.js';
import { isRebalanceError, toBusError } from './errors.js';
import { toConsumedMessage } from './messages.js';
import { PartitionLocks } from './partition-locks.js';

/** Milliseconds a partition rests after a batch that could not be finished (dead letters off or failing). */
const UNFINISHED_BACKOFF_MS = 1000;
const DEFAULT_MAX_BATCH = 500;

export interface SubscriptionDeps {
  readonly kafka: Kafka;
  readonly tuning: KafkaTuning;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where dead letters go (the bus itself). */
  readonly bus: Pick<EventBus, 'publish' | 'ensureTopics'>;
  /** Offsets of a seek position by partition (`offsets.ts`). */
  readonly resolvePosition: (topic: string, position: SeekPosition) => Promise<Map<number, number>>;
  /** The group's committed offsets (`null`: never committed), by topic then partition. */
  readonly committed: (group: string, topics: readonly string[]) => Promise<Map<string, Map<number, number | null>>>;
  readonly onStopped: (subscription: KafkaSubscription) => void;
}

export class KafkaSubscription implements Subscription {
  readonly group: string;
  private readonly consumer: Consumer;
  private readonly abort = new AbortController();
  private readonly locks = new PartitionLocks();
  private readonly failures = new Map<string, number>();
  private assigned: TopicPartition[] = [];
  private paused_ = false;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly deps: SubscriptionDeps,
    private readonly options: SubscribeOptions,
  ) {
    this.group = options.group;
    const { tuning } = deps;
    this.consumer = deps.kafka.consumer({
      groupId: options.group,
      sessionTimeout: tuning.sessionTimeout,
      rebalanceTimeout: tuning.rebalanceTimeout,
      heartbeatInterval: tuning.heartbeatInterval,
      maxWaitTimeInMs: tuning.maxWaitTimeInMs,
      allowAutoTopicCreation: false,
      retry: { retries: tuning.retries, initialRetryTime: tuning.initialRetryTime },
    });
  }

  /** Joins the group and starts consuming; resolves once the first join (and its assignment) is done. */
  static async start(deps: SubscriptionDeps, options: SubscribeOptions): Promise<KafkaSubscription> {
    const sub = new KafkaSubscription(deps, options);
    await sub.run();
    return sub;
  }

  get paused(): boolean {
    return this.paused_;
  }

  assignment(): readonly TopicPartition[] {
    return this.assigned;
  }

  pause(): void {
    this.paused_ = true;
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.paused_ = false;
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
  }

  async seek(topic: string, position: SeekPosition): Promise<void> {
    if (!this.options.topics.includes(topic)) {
      throw new MiaRunError('MR_BUS_UNKNOWN_TOPIC', `Group "${this.group}" is not subscribed to "${topic}"`, { details: { topic, group: this.group } });
    }
    const offsets = await this.deps.resolvePosition(topic, position);
    const mine = this.assigned.filter((tp) => tp.topic === topic);
    await Promise.all(
      mine.map((tp) =>
        this.locks.run(tp.topic, tp.partition, async () => {
          const offset = offsets.get(tp.partition);
          if (offset === undefined) return;
          // The seek moves the fetch position (and marks in-flight batches stale); the commit makes it stick.
          this.consumer.seek({ topic, partition: tp.partition, offset: String(offset) });
          await this.commit(topic, tp.partition, offset);
        }),
      ),
    );
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Ends back-off waits of the retry processor; a handler call in flight still finishes and commits.
      this.abort.abort(new Error('subscription stopped'));
      try {
        await this.consumer.disconnect();
      } catch (err) {
        this.deps.logger.warn({ err, group: this.group }, 'consumer did not leave the group cleanly');
      }
      this.assigned = [];
      this.deps.onStopped(this);
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    const { consumer, options, deps } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = Object.entries(payload.memberAssignment)
        .flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })))
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
      deps.logger.debug({ group: this.group, assignment: this.assigned }, 'joined consumer group');
      this.fixStartPositions(this.assigned);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts the consumer after retriable failures; otherwise this member is gone for good.
      const level = payload.restart ? 'warn' : 'error';
      deps.logger[level]({ err: payload.error, group: this.group, restart: payload.restart }, 'Kafka consumer crashed');
    });
    const processor = createBatchProcessor({
      bus: deps.bus,
      clock: deps.clock,
      group: options.group,
      handler: options.handler,
      ...(options.deadLetter === undefined ? {} : { options: options.deadLetter }),
      logger: deps.logger,
    });
    const maxBatch = Math.max(1, options.maxBatchSize ?? DEFAULT_MAX_BATCH);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: deps.tuning.partitionsConsumedConcurrently,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, pause, commitOffsetsIfNecessary }) => {
          // Commits straight through the group: kafkajs' consumer-level commit is a no-op once stop() began,
          // and a graceful stop must still commit the batch in flight.
          const commitNow = (offset: string) => commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset }] }] });
          const { topic, partition } = batch;
          const messages = batch.messages.map((m) => toConsumedMessage(topic, partition, m));
          for (let i = 0; i < messages.length; i += maxBatch) {
            if (!isRunning() || isStale() || this.paused_ || this.abort.signal.aborted) return;
            const piece = messages.slice(i, i + maxBatch);
            const outcome = await this.locks.run(topic, partition, async (): Promise<BatchOutcome | 'stale'> => {
              if (isStale()) return 'stale';
              const result = await processor({ topic, partition, messages: piece }, this.abort.signal);
              if (result.next !== null) {
                await this.commit(topic, partition, result.next, commitNow);
                resolveOffset(String(result.next - 1));
              }
              return result;
            });
            if (outcome === 'stale') return;
            if (outcome.error !== undefined) {
              this.restAfterFailure(topic, partition, outcome.error, pause);
              return;
            }
            this.failures.delete(`${topic}:${partition}`);
            // Stopped part-way: the rest is redelivered after the next fetch.
            if (outcome.next === null || outcome.next <= piece[piece.length - 1]!.offset) return;
            await heartbeat();
          }
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw toBusError(err, `joining consumer group "${options.group}"`, { group: options.group, topics: options.topics });
    }
  }

  private async commit(topic: string, partition: number, offset: number, via?: (offset: string) => Promise<void>): Promise<void> {
    try {
      if (via === undefined) await this.consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
      else await via(String(offset));
    } catch (err) {
      // Inside eachBatch, kafkajs must see its own rebalance error to rejoin; the uncommitted messages are
      // redelivered. Elsewhere (seek) the caller gets a retriable MR_BUS_REBALANCING.
      if (via !== undefined && isRebalanceError(err)) throw err;
      throw toBusError(err, `committing offset ${offset} of ${topic}/${partition} for group "${this.group}"`, { topic, partition, group: this.group });
    }
  }

  /**
   * Stores where the group starts in assigned partitions it never committed in (the end, or the beginning
   * with `fromBeginning`), so the position is fixed from the moment of joining: a rebalance before the first
   * commit cannot skip messages, and lag shows the start. The partitions' locks are held meanwhile.
   */
  private fixStartPositions(assigned: readonly TopicPartition[]): void {
    if (assigned.length === 0) return;
    const { deps, options } = this;
    const fixing = (async () => {
      const topics = [...new Set(assigned.map((tp) => tp.topic))];
      const committed = await deps.committed(this.group, topics);
      for (const topic of topics) {
        const missing = assigned.filter((tp) => tp.topic === topic && (committed.get(topic)?.get(tp.partition) ?? null) === null);
        if (missing.length === 0) continue;
        const offsets = await deps.resolvePosition(topic, options.fromBeginning === true ? 'beginning' : 'end');
        for (const { partition } of missing) {
          const offset = offsets.get(partition);
          if (offset === undefined) continue;
          this.consumer.seek({ topic, partition, offset: String(offset) });
          await this.commit(topic, partition, offset);
        }
      }
    })().catch((err: unknown) => {
      // A rebalance or a stop got in the way; the next join tries again.
      deps.logger.debug({ err, group: this.group }, 'start positions not stored');
    });
    for (const tp of assigned) void this.locks.run(tp.topic, tp.partition, () => fixing);
  }

  /** Rests the partition (kafkajs pause) and refetches from the first unfinished message afterwards. */
  private restAfterFailure(topic: string, partition: number, error: unknown, pause: () => () => void): void {
    if (this.abort.signal.aborted) return;
    const key = `${topic}:${partition}`;
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    this.deps.logger.warn({ err: error, topic, partition, group: this.group, failures: count }, 'batch not finished; retrying');
    const resume = pause();
    this.deps.clock.setTimeout(() => {
      if (!this.paused_ && this.stopping === undefined) resume();
    }, UNFINISHED_BACKOFF_MS);
  }
}
