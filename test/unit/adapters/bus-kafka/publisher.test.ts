// The Kafka publisher against a fake producer: where messages land, group commit of concurrent calls, and
// that a call split over several requests never leaves a gap when one request fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import { createPublisher } from '../../../../src/adapters/bus-kafka/publisher.js';
import { partitionForKey } from '../../../../src/bus/partitioner.js';
import { MiaRunError } from '../../../../src/errors.js';
import { ManualClock } from '../../../../src/ports/manual-clock.js';

/** A broker log in memory: appends each request's messages per partition and answers base offsets. */
function fakeProducer() {
  const logs = new Map<string, number>();
  const requests: ProducerBatch[] = [];
  const gates: { release: () => void; fail: (e: unknown) => void }[] = [];
  let hold = false;
  const producer = {
    async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
      requests.push(batch);
      if (hold) await new Promise<void>((release, fail) => gates.push({ release, fail }));
      const out: RecordMetadata[] = [];
      for (const { topic, messages } of batch.topicMessages ?? []) {
        const seen = new Set<number>();
        for (const m of messages) {
          const key = `${topic}/${m.partition}`;
          if (!seen.has(m.partition!)) out.push({ topicName: topic, partition: m.partition!, errorCode: 0, baseOffset: String(logs.get(key) ?? 0) });
          seen.add(m.partition!);
          logs.set(key, (logs.get(key) ?? 0) + 1);
        }
      }
      return out;
    },
  };
  return {
    producer: producer as unknown as Producer,
    requests,
    gates,
    hold: (on: boolean) => (hold = on),
  };
}

const publisherWith = (producer: Producer) =>
  createPublisher({ producer, clock: new ManualClock(1_000), partitionsOf: async () => 3, ackTimeout: 1000 });

const waitFor = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(check(), 'condition not reached');
};

describe('bus.kafka publisher', () => {
  it('reports the partition of each key and consecutive offsets per partition, in call order', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake.producer);
    const keys = ['a', 'b', 'a', 'c', 'a'];
    const records = await publisher.publish('t', keys.map((key) => ({ key, value: key })));
    assert.deepEqual(records.map((r) => r.partition), keys.map((k) => partitionForKey(k, 3)));
    // Each message's offset is the number of messages before it in the same partition.
    const expected = records.map((r, i) => records.slice(0, i).filter((o) => o.partition === r.partition).length);
    assert.deepEqual(records.map((r) => r.offset), expected);
    const sent = fake.requests[0]!.topicMessages![0]!.messages[0]!;
    assert.equal(sent.timestamp, '1000');
    assert.equal(fake.requests[0]!.acks, -1);
  });

  it('sends calls that queue behind an in-flight request together in the next request', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake.producer);
    fake.hold(true);
    const first = publisher.publish('t', [{ key: 'k', value: 1 }]);
    await waitFor(() => fake.gates.length === 1);
    const second = publisher.publish('t', [{ key: 'k', value: 2 }]);
    const third = publisher.publish('u', [{ key: 'k', value: 3 }]);
    await new Promise((r) => setImmediate(r));
    fake.hold(false);
    fake.gates[0]!.release();
    const [a, b, c] = await Promise.all([first, second, third]);
    assert.equal(fake.requests.length, 2, 'the two queued calls share one request');
    assert.deepEqual(fake.requests[1]!.topicMessages!.map((t) => t.topic), ['t', 'u']);
    assert.deepEqual([a[0]!.offset, b[0]!.offset, c[0]!.offset], [0, 1, 0]);
  });

  it('splits a call larger than one request and drops its remaining parts when one fails', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake.producer);
    fake.hold(true);
    const big = Buffer.alloc(500 * 1024, 1);
    const call = publisher.publish('t', [{ key: 'k', value: big }, { key: 'k', value: big }, { key: 'k', value: big }]);
    await waitFor(() => fake.gates.length === 1);
    fake.gates[0]!.release();
    await waitFor(() => fake.gates.length === 2);
    fake.gates[1]!.fail(Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError', retriable: true }));
    await assert.rejects(call, (e: unknown) => e instanceof MiaRunError && e.code === 'MR_BUS_UNAVAILABLE' && e.retriable);
    assert.equal(fake.requests.length, 2, 'the third part is never sent');
  });

  it('rejects a bad message before sending anything', async () => {
    const fake = fakeProducer();
    const publisher = publisherWith(fake.producer);
    await assert.rejects(publisher.publish('t', [{ key: 'k', value: 1 }, { key: 'k', value: 2, partition: 7 }]), (e: unknown) => e instanceof MiaRunError && e.code === 'MR_BUS_INVALID_MESSAGE');
    assert.equal(fake.requests.length, 0);
  });
});
