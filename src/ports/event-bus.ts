/**
 * The EventBus port: a log with Kafka semantics that sagas, projections, event sourcing and CRUD change
 * events flow through. Two adapters implement it (`bus.embedded`, a durable log on lmdb; `bus.kafka`, Apache
 * Kafka through kafkajs) and both pass `test/contract/event-bus.contract.ts`.
 *
 * Vocabulary and guarantees (the same on every adapter):
 * - A **topic** has a fixed number of **partitions** (declared in the descriptor, `TopicConfig`). Within one
 *   partition messages have consecutive **offsets** starting at 0 (after retention, the first kept offset
 *   may be higher). The partition of a keyed message is `murmur2(key) % partitions`, the same as Kafka's
 *   default partitioner (`src/bus/partitioner.ts`), so messages with one key stay in order.
 * - `publish` resolves once every message is **durable** (embedded: written and synced; Kafka: acknowledged
 *   by the broker with `acks=-1`). Messages of one call keep their order per partition.
 * - Consumers join a **group**: the partitions of the subscribed topics are split among the group's live
 *   members (rebalanced when members join or leave); every group receives every message.
 * - The handler receives a **batch of one partition**; the group's offset is committed only after the
 *   handler resolves, so delivery is **at-least-once**: a crash or a stop before the commit redelivers the
 *   batch. Handlers must be idempotent.
 * - A handler failure is retried with back-off, then the message is written to `<topic>.DLQ` with
 *   `DLQ_HEADERS` and the partition moves on (`src/bus/dead-letter.ts`, shared by both adapters).
 *
 * Offsets follow Kafka's convention: a message's `offset` is its position; a **committed** offset and an
 * **end** offset (high watermark) are the position of the *next* message.
 *
 * @example
 * await bus.ensureTopics({ orders: { partitions: 3 } });
 * await bus.publish('orders', [{ key: 'o-1', value: { type: 'created', id: 'o-1' } }]);
 * const sub = await bus.subscribe({
 *   group: 'billing', topics: ['orders'], fromBeginning: true,
 *   handler: async (batch) => { for (const m of batch.messages) await bill(m.json()); },
 * });
 * // ... on shutdown: finishes the in-flight batch, commits, leaves the group
 * await sub.stop();
 */
import type { TopicConfig } from '../config/types.js';
import type { Backend } from './lifecycle.js';

/** Registry kinds of EventBus adapters. */
export type EventBusKind = 'bus.embedded' | 'bus.kafka';

/**
 * Features an adapter may declare in `features` (both built-in adapters declare all of them; the contract
 * suite skips cases for a feature an adapter lists as unsupported, with the reason).
 */
export const EVENT_BUS_FEATURES = {
  /** Consumer groups with partitions split among live members and rebalancing. */
  consumerGroups: 'consumer-groups',
  /** `seek`/`resetOffsets` to a timestamp. */
  seekByTimestamp: 'seek-by-timestamp',
  /** Retention by age (`retentionMs`) and size (`retentionBytes`). */
  retention: 'retention',
  /** Several processes share one cluster (embedded: one data directory; Kafka: the brokers). */
  multiProcess: 'multi-process',
  /** Messages carry headers. */
  headers: 'headers',
  /** `value: null` is kept as a tombstone. */
  tombstones: 'tombstones',
} as const;
export type EventBusFeature = (typeof EVENT_BUS_FEATURES)[keyof typeof EVENT_BUS_FEATURES];

/** Header names written on every dead-lettered message (values are strings). Original headers are kept. */
export const DLQ_HEADERS = {
  /** `MiaRunError.code` of the last failure, or `MR_BUS_HANDLER_FAILED` for other errors. */
  errorCode: 'mia-dlq-error-code',
  /** Message of the last failure (truncated to 1000 characters). */
  errorMessage: 'mia-dlq-error-message',
  /** Consumer group whose handler failed. */
  group: 'mia-dlq-group',
  /** How many times the handler was tried on this message. */
  attempts: 'mia-dlq-attempts',
  /** Where the message came from. */
  topic: 'mia-dlq-topic',
  partition: 'mia-dlq-partition',
  offset: 'mia-dlq-offset',
  /** Epoch milliseconds when it was dead-lettered. */
  deadLetteredAt: 'mia-dlq-timestamp',
} as const;

/** The dead-letter topic of `topic`. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.DLQ`;
}

/** JSON-serialisable value published as UTF-8 JSON. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [k: string]: JsonValue | undefined };

/** A message to publish. */
export interface OutgoingMessage {
  /**
   * Decides the partition (murmur2, like Kafka) so messages with one key stay in order. `null`/absent:
   * partitions are used round-robin.
   */
  readonly key?: string | null;
  /**
   * Buffer: sent as is; string: UTF-8; any other value: `JSON.stringify`-ed; `null`: a tombstone (a
   * deletion marker for the key; kept as a message with `value === null`).
   */
  readonly value: Buffer | string | JsonValue | object | null;
  /** String headers (UTF-8 on the wire). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Epoch milliseconds; default: the bus clock's `now()` at publish. */
  readonly timestamp?: number;
  /** Explicit partition; overrides the key's partition. */
  readonly partition?: number;
}

/** Where a published message landed. */
export interface PublishedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** A message as a consumer receives it. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  /** Raw bytes; `null` for a tombstone. */
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Epoch milliseconds (producer-given or publish time). */
  readonly timestamp: number;
  /** The value parsed as JSON (`null` for a tombstone); throws `MR_BUS_INVALID_MESSAGE` if it is not JSON. */
  json<T = unknown>(): T;
  /** The value as UTF-8 text (`null` for a tombstone). */
  text(): string | null;
}

/** Consecutive messages of ONE partition, in offset order. */
export interface MessageBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly ConsumedMessage[];
}

export interface HandlerContext {
  /**
   * Aborted when the subscription stops or the bus closes. A handler call that still resolves is committed
   * (graceful stop); one that throws after the abort is not retried and its batch is redelivered later.
   */
  readonly signal: AbortSignal;
  /**
   * Which try this is for these messages, from 1. When a batch fails, its messages are retried one by one
   * and each counts its own tries (a one-message batch continues at 2).
   */
  readonly attempt: number;
}

/**
 * Processes a batch. Resolving commits the offset after the last message of the batch; throwing triggers
 * retries and then dead letters (see `DeadLetterOptions`). A `MiaRunError` with `retriable: false` is not
 * retried: the failing message goes to the dead-letter topic at once.
 */
export type BatchHandler = (batch: MessageBatch, ctx: HandlerContext) => Promise<void>;

/** Retry and dead-letter policy of a subscription. */
export interface DeadLetterOptions {
  /** Tries per message before it is dead-lettered, including the first; default 5. */
  readonly attempts?: number;
  /** Back-off before the 2nd try in ms, doubled each try (through the `Clock` port); default 100. */
  readonly baseMs?: number;
  /** Upper bound of one back-off in ms; default 5000. */
  readonly maxMs?: number;
}

/** Where a group starts, or is moved to, in a partition. */
export type SeekPosition = 'beginning' | 'end' | { readonly timestamp: number } | { readonly offset: number };

export interface SubscribeOptions {
  /** Consumer group id; members of one group share the partitions. */
  readonly group: string;
  readonly topics: readonly string[];
  /**
   * Where a group with no committed offset for a partition starts: `true` the first kept message, `false`
   * (default, like Kafka) the end of the partition as of when the group first reads it.
   */
  readonly fromBeginning?: boolean;
  readonly handler: BatchHandler;
  /** Largest batch handed to the handler; default 500. */
  readonly maxBatchSize?: number;
  /** Retry and dead-letter policy; `false` disables it (a failure then stops the partition and is retried forever). */
  readonly deadLetter?: DeadLetterOptions | false;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** One member's handle on a consumer group. */
export interface Subscription {
  readonly group: string;
  /** Partitions currently assigned to this member. */
  assignment(): readonly TopicPartition[];
  /** Stops fetching (the in-flight batch finishes and is committed); the member stays in the group. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /**
   * Moves this member's position in the assigned partitions of `topic` and commits it (replay). Takes
   * effect after the in-flight batch; offsets past the end clamp to the end.
   */
  seek(topic: string, position: SeekPosition): Promise<void>;
  /** Graceful: finishes the in-flight batch, commits it, leaves the group (partitions move to others). Idempotent. */
  stop(): Promise<void>;
}

/** The state of one partition for one group. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Next offset the group will read; `null` when the group never committed in this partition. */
  readonly committed: number | null;
  /** First kept offset. */
  readonly start: number;
  /** Offset the next published message will get (high watermark). */
  readonly end: number;
  /** `end - committed` (or `end - start` with no commit). */
  readonly lag: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly partitions: readonly { readonly partition: number; readonly start: number; readonly end: number }[];
  readonly config: TopicConfig;
}

/** The port. Adapters do no I/O before `start()`, which creates the topics declared in the descriptor. */
export interface EventBus extends Backend {
  readonly kind: EventBusKind;
  /** Creates missing topics (partitions, retention); existing topics are left as they are. */
  ensureTopics(topics: Readonly<Record<string, TopicConfig>>): Promise<void>;
  /** Topics with their partitions and offsets, sorted by name. */
  describeTopics(): Promise<readonly TopicDescription[]>;
  /**
   * Appends messages, resolves when they are durable with where each landed (same order as `messages`).
   * Throws `MR_BUS_UNKNOWN_TOPIC`, `MR_BUS_INVALID_MESSAGE`, `MR_BUS_UNAVAILABLE` (retriable), `MR_BUS_CLOSED`.
   */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<readonly PublishedRecord[]>;
  /** Joins `group` and starts consuming; resolves once the member is registered (assignment may follow). */
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Per-partition lag of `group` on every topic it has offsets for (or on `topics` when given). */
  lag(group: string, topics?: readonly string[]): Promise<readonly PartitionLag[]>;
  /** Moves a group's committed offsets in every partition of `topic` (admin; for a group without live members). */
  resetOffsets(group: string, topic: string, position: SeekPosition): Promise<void>;
}
