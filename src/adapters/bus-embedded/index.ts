/**
 * `bus.embedded`: the zero-setup EventBus, a durable append-only log on lmdb under `<dataDir>/bus` (or
 * `bus.path`). Publishes are appended and synced in one transaction per call; consumer groups, offsets,
 * member leases and partition claims live in the same environment, so several processes on one data
 * directory behave as one cluster. See `log-store.ts` for the layout and `group-member.ts` for groups.
 */
import { join } from 'node:path';
import { createBatchProcessor } from '../../bus/dead-letter.js';
import { encodeValue, validateMessage } from '../../bus/message.js';
import { partitionForKey } from '../../bus/partitioner.js';
import type { EmbeddedBusConfig, TopicConfig } from '../../config/types.js';
import { MiaRunError } from '../../errors.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type {
  EventBus,
  OutgoingMessage,
  PartitionLag,
  PublishedRecord,
  SeekPosition,
  SubscribeOptions,
  Subscription,
  TopicDescription,
} from '../../ports/event-bus.js';
import { EVENT_BUS_FEATURES } from '../../ports/event-bus.js';
import type { HealthCheck } from '../../ports/lifecycle.js';
import type { Logger } from '../../ports/logger.js';
import { createMetricEmitter } from '../../ports/telemetry.js';
import { AppendPoller } from './append-poller.js';
import { appendRecords, syncToDisk } from './append.js';
import { GroupMember } from './group-member.js';
import type { LogRecord, LogStore, TopicRecord } from './log-store.js';
import { acquireLogStore, readMeta, recordSize, releaseLogStore } from './log-store.js';
import { commitOffset, resolvePosition } from './partition-worker.js';
import { applyRetention } from './retention.js';

/** Tuning knobs (not part of the descriptor); defaults suit production. */
export interface EmbeddedBusOptions {
  /** How often a member renews its lease and rebalances; default 1000 ms. */
  readonly heartbeatMs?: number;
  /** A member whose lease is this old is dead and its partitions are taken over; default 10000 ms. */
  readonly sessionTimeoutMs?: number;
  /** How often idle consumers look for messages written by other processes; default 25 ms. */
  readonly pollMs?: number;
  /** How often retention by age runs; default 60000 ms. */
  readonly retentionCheckMs?: number;
}

export interface EmbeddedBusContext {
  readonly dataDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

const metrics = createMetricEmitter('bus');

export class EmbeddedEventBus implements EventBus {
  readonly kind = 'bus.embedded' as const;
  readonly features: ReadonlySet<string> = new Set(Object.values(EVENT_BUS_FEATURES));
  readonly path: string;
  private store: LogStore | null = null;
  private closed = false;
  private readonly members = new Set<GroupMember>();
  private readonly roundRobin = new Map<string, number>();
  private readonly topicCache = new Map<string, TopicRecord>();
  private retentionTimer: TimerHandle | null = null;
  private poller: AppendPoller | null = null;
  private readonly opts: Required<EmbeddedBusOptions>;

  constructor(
    readonly name: string,
    private readonly config: EmbeddedBusConfig,
    private readonly ctx: EmbeddedBusContext,
    options: EmbeddedBusOptions = {},
  ) {
    this.path = config.path ?? join(ctx.dataDir, 'bus');
    this.opts = { heartbeatMs: 1000, sessionTimeoutMs: 10_000, pollMs: 25, retentionCheckMs: 60_000, ...options };
  }

  async start(): Promise<void> {
    if (this.closed) throw this.closedError();
    if (this.store !== null) return;
    try {
      this.store = acquireLogStore(this.path);
      this.poller = new AppendPoller(this.store, this.ctx.clock, this.opts.pollMs);
    } catch (cause) {
      throw new MiaRunError('MR_BUS_UNAVAILABLE', `Cannot open the embedded bus at ${this.path}`, { cause, details: { path: this.path } });
    }
    await this.ensureTopics(this.config.topics);
    this.scheduleRetention();
  }

  async health(): Promise<HealthCheck> {
    if (this.closed) return { name: this.name, status: 'KO', message: 'closed' };
    if (this.store === null) return { name: this.name, status: 'KO', message: 'not started' };
    return { name: this.name, status: 'OK' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer !== null) this.ctx.clock.clearTimeout(this.retentionTimer);
    await Promise.all([...this.members].map((m) => m.stop()));
    this.poller?.stop();
    const store = this.store;
    this.store = null;
    if (store !== null) await releaseLogStore(store);
  }

  async ensureTopics(topics: Readonly<Record<string, TopicConfig>>): Promise<void> {
    const store = this.open();
    await store.root.transaction(() => {
      for (const [name, config] of Object.entries(topics)) {
        if (store.topics.get(name) !== undefined) continue;
        const record: TopicRecord = { ...config, partitions: Math.max(1, Math.floor(config.partitions ?? 1)) };
        store.topics.putSync(name, record);
      }
    });
  }

  async describeTopics(): Promise<readonly TopicDescription[]> {
    const store = this.open();
    store.root.resetReadTxn();
    const result: TopicDescription[] = [];
    for (const { key, value } of store.topics.getRange({})) {
      const partitions = [];
      for (let p = 0; p < value.partitions; p++) {
        const meta = readMeta(store, key, p);
        partitions.push({ partition: p, start: meta.start, end: meta.next });
      }
      result.push({ name: key, partitions, config: value });
    }
    return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<readonly PublishedRecord[]> {
    const store = this.open();
    const config = this.topic(topic);
    if (messages.length === 0) return [];
    const now = this.ctx.clock.now();
    const prepared = messages.map((message) => {
      validateMessage(message, topic);
      const key = message.key ?? null;
      const value = encodeValue(message.value, topic);
      const headers = message.headers === undefined || Object.keys(message.headers).length === 0 ? null : { ...message.headers };
      const partition = this.partitionOf(topic, config, key, message.partition);
      const record: LogRecord = { t: message.timestamp ?? now, k: key, v: value, h: headers, s: recordSize(key, value, headers) };
      return { partition, record };
    });
    const records = await appendRecords(store, topic, config, prepared, now);
    // Consumers may start as soon as the append is committed; the publisher is answered once it is on disk.
    store.events.emit(`append:${topic}`);
    await syncToDisk(store, topic);
    metrics.count('messages_published', 'Messages appended to a topic', { topic }, records.length);
    return records;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const store = this.open();
    if (options.topics.length === 0) throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `Subscription of group "${options.group}" names no topic`);
    for (const topic of options.topics) this.topic(topic);
    const unwatch = this.poller!.watch(options.topics);
    const member: GroupMember = new GroupMember({
      store,
      clock: this.ctx.clock,
      logger: this.ctx.logger,
      group: options.group,
      topics: [...options.topics],
      fromBeginning: options.fromBeginning ?? false,
      maxBatchSize: options.maxBatchSize ?? 500,
      heartbeatMs: this.opts.heartbeatMs,
      sessionTimeoutMs: this.opts.sessionTimeoutMs,
      processor: createBatchProcessor({ bus: this, clock: this.ctx.clock, group: options.group, handler: options.handler, options: options.deadLetter, logger: this.ctx.logger }),
      onStopped: (m) => {
        this.members.delete(m);
        unwatch();
      },
    });
    this.members.add(member);
    await member.join();
    return member;
  }

  async lag(group: string, topics?: readonly string[]): Promise<readonly PartitionLag[]> {
    const store = this.open();
    store.root.resetReadTxn();
    const names = new Set<string>(topics ?? []);
    if (topics === undefined) {
      for (const { key } of store.offsets.getRange({ start: [group] })) {
        if (key[0] !== group) break;
        names.add(key[1]);
      }
    }
    const result: PartitionLag[] = [];
    for (const topic of [...names].sort()) {
      const config = store.topics.get(topic);
      if (config === undefined) continue;
      for (let p = 0; p < config.partitions; p++) {
        const meta = readMeta(store, topic, p);
        const committed = store.offsets.get([group, topic, p]) ?? null;
        const from = committed === null ? meta.start : Math.max(committed, meta.start);
        result.push({ topic, partition: p, committed, start: meta.start, end: meta.next, lag: meta.next - from });
      }
    }
    return result;
  }

  /** Groups that have committed an offset on this bus (outside the port: `mia-run topics lag` lists them). */
  async listGroups(): Promise<readonly string[]> {
    const store = this.open();
    store.root.resetReadTxn();
    const groups = new Set<string>();
    for (const key of store.offsets.getKeys()) groups.add(key[0]);
    return [...groups].sort();
  }

  async resetOffsets(group: string, topic: string, position: SeekPosition): Promise<void> {
    const store = this.open();
    const config = this.topic(topic);
    for (let p = 0; p < config.partitions; p++) {
      await commitOffset(store, group, topic, p, null, resolvePosition(store, topic, p, position));
    }
    store.events.emit(`reset:${group}`);
  }

  /** Runs retention by age and size now (also runs every `retentionCheckMs`); returns messages deleted. */
  async applyRetention(): Promise<number> {
    return applyRetention(this.open(), this.ctx.clock.now());
  }

  private scheduleRetention(): void {
    this.retentionTimer = this.ctx.clock.setTimeout(() => {
      if (this.closed || this.store === null) return;
      void this.applyRetention()
        .catch((error: unknown) => this.ctx.logger.warn({ err: error }, 'bus retention failed'))
        .finally(() => {
          if (!this.closed) this.scheduleRetention();
        });
    }, this.opts.retentionCheckMs);
  }

  private partitionOf(topic: string, config: TopicRecord, key: string | null, explicit: number | undefined): number {
    if (explicit !== undefined) {
      if (!Number.isInteger(explicit) || explicit < 0 || explicit >= config.partitions) {
        throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `Topic "${topic}" has no partition ${explicit}`, { details: { topic, partition: explicit } });
      }
      return explicit;
    }
    if (key !== null) return partitionForKey(key, config.partitions);
    const next = this.roundRobin.get(topic) ?? 0;
    this.roundRobin.set(topic, next + 1);
    return next % config.partitions;
  }

  private topic(topic: string): TopicRecord {
    const store = this.open();
    let config = this.topicCache.get(topic);
    if (config === undefined) {
      // Another process may have created it since our read snapshot.
      config = store.topics.get(topic) ?? (store.root.resetReadTxn(), store.topics.get(topic));
      if (config === undefined) {
        throw new MiaRunError('MR_BUS_UNKNOWN_TOPIC', `Topic "${topic}" does not exist on the bus`, {
          hint: 'declare it under bus.topics in the descriptor',
          details: { topic },
        });
      }
      this.topicCache.set(topic, config);
    }
    return config;
  }

  private open(): LogStore {
    if (this.closed) throw this.closedError();
    if (this.store === null) throw new MiaRunError('MR_BUS_UNAVAILABLE', 'The embedded bus is not started', { details: { path: this.path } });
    return this.store;
  }

  private closedError(): MiaRunError {
    return new MiaRunError('MR_BUS_CLOSED', 'The embedded bus is closed');
  }
}

/** Registry factory for `bus.embedded`. */
export function createEmbeddedEventBus(name: string, config: EmbeddedBusConfig, ctx: EmbeddedBusContext, options?: EmbeddedBusOptions): EmbeddedEventBus {
  return new EmbeddedEventBus(name, config, ctx, options);
}
