/**
 * The write path of the Kafka adapter: validates and encodes messages the way every adapter does
 * (`src/bus/message.ts`), picks each message's partition itself (murmur2 of the key, the same function as
 * kafkajs' `DefaultPartitioner` and the Java client; round-robin without a key) so that it can report where
 * every message landed, and sends through the idempotent producer (`acks=-1`).
 *
 * An idempotent kafkajs producer must have one request in flight, so concurrent `publish` calls queue up;
 * while one request is in flight the queue fills, and the next request carries everything queued (up to the
 * broker's record-batch limit per partition): group commit, like the Java client's accumulator. Queue order is request
 * order, so per-partition order holds across calls; a call larger than one request is sent in consecutive
 * parts, and once a part fails the rest of that call is dropped, so a call never leaves a gap.
 */
import type { Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { encodeValue, validateMessage } from '../../bus/message.js';
import { partitionForKey } from '../../bus/partitioner.js';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { OutgoingMessage, PublishedRecord } from '../../ports/event-bus.js';
import { createMetricEmitter } from '../../ports/telemetry.js';
import { toBusError } from './errors.js';

/** Bytes per partition in one request: Kafka's default `message.max.bytes` (about 1 MiB) bounds a record batch. */
const PARTITION_BYTES = 768 * 1024;
/** Bytes of one request across partitions (the broker accepts up to `socket.request.max.bytes`, 100 MiB). */
const REQUEST_BYTES = 8 * 1024 * 1024;
/** Record overhead beyond key, value and headers (varints, attributes, deltas), rounded up. */
const RECORD_OVERHEAD = 32;

const metrics = createMetricEmitter('bus');

interface Prepared {
  readonly partition: number;
  readonly message: TopicMessages['messages'][number];
  readonly size: number;
}

/** One publish call; `failed` drops its remaining parts after a part failed. */
interface Call {
  failed: boolean;
}

/** A queued part of a call: messages of one topic that fit in one request. */
interface Part {
  readonly call: Call;
  readonly topic: string;
  readonly items: readonly Prepared[];
  /** Bytes by partition (`topic\u0000partition`). */
  readonly sizes: ReadonlyMap<string, number>;
  readonly bytes: number;
  readonly resolve: (records: PublishedRecord[]) => void;
  readonly reject: (error: unknown) => void;
}

/** Bytes taken in one request, by partition and in all. */
class Budget {
  readonly sizes = new Map<string, number>();
  bytes = 0;

  fits(sizes: ReadonlyMap<string, number>, bytes: number): boolean {
    if (this.bytes + bytes > REQUEST_BYTES) return false;
    for (const [key, n] of sizes) if ((this.sizes.get(key) ?? 0) + n > PARTITION_BYTES) return false;
    return true;
  }

  add(sizes: ReadonlyMap<string, number>, bytes: number): void {
    this.bytes += bytes;
    for (const [key, n] of sizes) this.sizes.set(key, (this.sizes.get(key) ?? 0) + n);
  }
}

export interface PublisherDeps {
  readonly producer: Producer;
  readonly clock: Clock;
  /** Partition count of a topic; rejects with `MR_BUS_UNKNOWN_TOPIC`. */
  readonly partitionsOf: (topic: string) => Promise<number>;
  /** Milliseconds the broker may take to acknowledge one request. */
  readonly ackTimeout: number;
}

export interface Publisher {
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<readonly PublishedRecord[]>;
}

export function createPublisher(deps: PublisherDeps): Publisher {
  const roundRobin = new Map<string, number>();
  const queue: Part[] = [];
  let sending = false;

  function choosePartition(topic: string, message: OutgoingMessage, partitions: number): number {
    if (message.partition !== undefined) {
      if (!Number.isInteger(message.partition) || message.partition < 0 || message.partition >= partitions) {
        throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `Partition ${message.partition} does not exist in topic "${topic}" (${partitions} partitions)`, {
          details: { topic, partition: message.partition },
        });
      }
      return message.partition;
    }
    if (message.key !== undefined && message.key !== null) return partitionForKey(message.key, partitions);
    const next = roundRobin.get(topic) ?? 0;
    roundRobin.set(topic, (next + 1) % partitions);
    return next;
  }

  function prepare(topic: string, message: OutgoingMessage, partitions: number): Prepared {
    validateMessage(message, topic);
    const value = encodeValue(message.value, topic);
    const partition = choosePartition(topic, message, partitions);
    const headers = message.headers ?? {};
    let size = RECORD_OVERHEAD + (value?.length ?? 0) + (message.key == null ? 0 : Buffer.byteLength(message.key));
    for (const [name, v] of Object.entries(headers)) size += Buffer.byteLength(name) + Buffer.byteLength(v) + 4;
    return {
      partition,
      size,
      message: { key: message.key ?? null, value, partition, headers: { ...headers }, timestamp: String(Math.trunc(message.timestamp ?? deps.clock.now())) },
    };
  }

  /** Where each queued message landed: consecutive offsets per partition from the batch's base offset. */
  function settle(parts: readonly Part[], metadata: readonly RecordMetadata[]): void {
    const next = new Map<string, number>();
    for (const m of metadata) next.set(`${m.topicName}\u0000${m.partition}`, Number(m.baseOffset));
    for (const part of parts) {
      const records: PublishedRecord[] = [];
      for (const item of part.items) {
        const key = `${part.topic}\u0000${item.partition}`;
        const offset = next.get(key);
        if (offset === undefined) {
          part.reject(new MiaRunError('MR_BUS_UNAVAILABLE', `Kafka did not acknowledge partition ${item.partition} of "${part.topic}"`, { details: { topic: part.topic, partition: item.partition } }));
          part.call.failed = true;
          break;
        }
        records.push({ topic: part.topic, partition: item.partition, offset });
        next.set(key, offset + 1);
      }
      if (records.length === part.items.length) part.resolve(records);
    }
  }

  async function pump(): Promise<void> {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        const parts: Part[] = [];
        const request = new Budget();
        while (queue.length > 0 && (parts.length === 0 || request.fits(queue[0]!.sizes, queue[0]!.bytes))) {
          const part = queue.shift()!;
          if (part.call.failed) {
            part.reject(new MiaRunError('MR_BUS_UNAVAILABLE', `An earlier part of this publish to "${part.topic}" failed`, { details: { topic: part.topic } }));
            continue;
          }
          parts.push(part);
          request.add(part.sizes, part.bytes);
        }
        if (parts.length === 0) continue;
        const topicMessages = parts.map((p) => ({ topic: p.topic, messages: p.items.map((i) => i.message) }));
        try {
          settle(parts, await deps.producer.sendBatch({ acks: -1, timeout: deps.ackTimeout, topicMessages }));
        } catch (err) {
          const topics = [...new Set(parts.map((p) => p.topic))];
          const error = toBusError(err, `publishing to ${topics.map((t) => `"${t}"`).join(', ')}`, topics.length === 1 ? { topic: topics[0] } : { topics });
          for (const part of parts) {
            part.call.failed = true;
            part.reject(error);
          }
        }
      }
    } finally {
      sending = false;
    }
  }

  function enqueue(call: Call, topic: string, items: readonly Prepared[], budget: Budget): Promise<PublishedRecord[]> {
    return new Promise((resolve, reject) => {
      queue.push({ call, topic, items, sizes: budget.sizes, bytes: budget.bytes, resolve, reject });
      void pump();
    });
  }

  return {
    async publish(topic, messages) {
      if (messages.length === 0) return [];
      const partitions = await deps.partitionsOf(topic);
      const prepared = messages.map((m) => prepare(topic, m, partitions));
      const call: Call = { failed: false };
      const parts: Promise<PublishedRecord[]>[] = [];
      let chunk: Prepared[] = [];
      let budget = new Budget();
      for (const p of prepared) {
        const one = new Map([[`${topic}\u0000${p.partition}`, p.size]]);
        if (chunk.length > 0 && !budget.fits(one, p.size)) {
          parts.push(enqueue(call, topic, chunk, budget));
          chunk = [];
          budget = new Budget();
        }
        chunk.push(p);
        budget.add(one, p.size);
      }
      parts.push(enqueue(call, topic, chunk, budget));
      const settled = await Promise.allSettled(parts);
      const failure = settled.find((s) => s.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
      const out = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
      // Same series as the embedded bus, so dashboards do not depend on the backend.
      metrics.count('messages_published', 'Messages appended to a topic', { topic }, out.length);
      return out;
    },
  };
}
