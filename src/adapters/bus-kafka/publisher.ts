/**
 * The write path of the Kafka adapter: validates and encodes messages the way every adapter does
 * (`src/bus/message.ts`), picks each message's partition itself (murmur2 of the key, the same function as
 * kafkajs' `DefaultPartitioner` and the Java client; round-robin without a key) so that it can report where
 * every message landed, and sends in chunks small enough for the broker's record-batch limit. One call's
 * chunks are sent one after the other, so per-partition order holds; the producer is idempotent with
 * `acks=-1`, so a resolved call means the cluster has every message.
 */
import type { Message, Producer } from 'kafkajs';
import { encodeValue, validateMessage } from '../../bus/message.js';
import { partitionForKey } from '../../bus/partitioner.js';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { OutgoingMessage, PublishedRecord } from '../../ports/event-bus.js';
import { createMetricEmitter } from '../../ports/telemetry.js';
import { toBusError } from './errors.js';

/** Bytes of one send; Kafka's default `message.max.bytes` (about 1 MiB) bounds one partition's record batch. */
const CHUNK_BYTES = 768 * 1024;
/** Record overhead beyond key, value and headers (varints, attributes, deltas), rounded up. */
const RECORD_OVERHEAD = 32;

const metrics = createMetricEmitter('bus');

interface Prepared {
  readonly partition: number;
  readonly message: Message;
  readonly size: number;
}

export interface PublisherDeps {
  readonly producer: Producer;
  readonly clock: Clock;
  /** Partition count of a topic; rejects with `MR_BUS_UNKNOWN_TOPIC`. */
  readonly partitionsOf: (topic: string) => Promise<number>;
  /** Milliseconds the broker may take to acknowledge one chunk. */
  readonly ackTimeout: number;
}

export interface Publisher {
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<readonly PublishedRecord[]>;
}

export function createPublisher(deps: PublisherDeps): Publisher {
  const roundRobin = new Map<string, number>();

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
      message: {
        key: message.key ?? null,
        value,
        partition,
        headers: { ...headers },
        timestamp: String(Math.trunc(message.timestamp ?? deps.clock.now())),
      },
    };
  }

  async function sendChunk(topic: string, chunk: readonly Prepared[], out: PublishedRecord[]): Promise<void> {
    let metadata;
    try {
      metadata = await deps.producer.send({ topic, acks: -1, timeout: deps.ackTimeout, messages: chunk.map((p) => p.message) });
    } catch (err) {
      throw toBusError(err, `publishing ${chunk.length} message(s) to "${topic}"`, { topic });
    }
    // One send holds at most one record batch per partition, so offsets within a partition are consecutive
    // from the batch's base offset in the order the messages were given.
    const next = new Map<number, number>();
    for (const m of metadata) next.set(m.partition, Number(m.baseOffset));
    for (const p of chunk) {
      const offset = next.get(p.partition);
      if (offset === undefined) {
        throw new MiaRunError('MR_BUS_UNAVAILABLE', `Kafka did not acknowledge partition ${p.partition} of "${topic}"`, { details: { topic, partition: p.partition } });
      }
      out.push({ topic, partition: p.partition, offset });
      next.set(p.partition, offset + 1);
    }
  }

  return {
    async publish(topic, messages) {
      if (messages.length === 0) return [];
      const partitions = await deps.partitionsOf(topic);
      const prepared = messages.map((m) => prepare(topic, m, partitions));
      const out: PublishedRecord[] = [];
      let chunk: Prepared[] = [];
      let bytes = 0;
      for (const p of prepared) {
        if (chunk.length > 0 && bytes + p.size > CHUNK_BYTES) {
          await sendChunk(topic, chunk, out);
          chunk = [];
          bytes = 0;
        }
        chunk.push(p);
        bytes += p.size;
      }
      await sendChunk(topic, chunk, out);
      // Same series as the embedded bus, so dashboards do not depend on the backend.
      metrics.count('messages_published', 'Messages appended to a topic', { topic }, out.length);
      return out;
    },
  };
}
