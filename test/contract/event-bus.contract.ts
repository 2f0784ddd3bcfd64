/**
 * The EventBus contract (STYLE §4): every adapter runs these cases through `eventBusContract`. `create`
 * returns a started bus attached to the same cluster each time it is called within one suite (embedded: one
 * data directory; Kafka: the same brokers), so a second instance plays a second process. Topics and groups
 * get a random suffix per test; waits are bounded polls, never sleeps.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, describe, it } from 'node:test';
import { partitionForKey } from '../../src/bus/partitioner.js';
import type { TopicConfig } from '../../src/config/types.js';
import { MiaRunError } from '../../src/errors.js';
import type { BatchHandler, ConsumedMessage, EventBus, MessageBatch, SubscribeOptions, Subscription } from '../../src/ports/event-bus.js';
import { DLQ_HEADERS, EVENT_BUS_FEATURES, deadLetterTopic } from '../../src/ports/event-bus.js';

export interface EventBusContractOptions {
  readonly name: string;
  /** A started bus on the suite's cluster; closed by the suite after each test. */
  readonly create: () => Promise<EventBus>;
  /** Case title -> reason it does not apply to this adapter (printed as a skip). */
  readonly unsupported?: Readonly<Record<string, string>>;
  /** Skips the whole suite with this reason (e.g. no broker configured). */
  readonly skip?: string;
  /** Upper bound of every wait, ms; default 20000 (Kafka group joins take seconds). */
  readonly timeoutMs?: number;
}

/** Fast retries so dead-letter cases finish quickly. */
const FAST = { attempts: 3, baseMs: 1, maxMs: 5 } as const;

export function eventBusContract(options: EventBusContractOptions): void {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const buses: EventBus[] = [];
  const subs: Subscription[] = [];

  const waitFor = async (what: string, check: () => boolean | Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  const newBus = async (): Promise<EventBus> => {
    const bus = await options.create();
    buses.push(bus);
    return bus;
  };

  const names = () => {
    const id = randomUUID().slice(0, 8);
    return { topic: (n = 't') => `contract-${n}-${id}`, group: (n = 'g') => `contract-${n}-${id}` };
  };

  const topicOf = async (bus: EventBus, partitions = 1, extra: Partial<TopicConfig> = {}, n = 't'): Promise<string> => {
    const { topic } = names();
    const name = topic(n);
    await bus.ensureTopics({ [name]: { partitions, ...extra } });
    return name;
  };

  interface Collector {
    readonly messages: ConsumedMessage[];
    readonly batches: MessageBatch[];
    readonly sub: Subscription;
  }

  const collect = async (bus: EventBus, opts: Partial<SubscribeOptions> & { topics: readonly string[]; group?: string }, handler?: BatchHandler): Promise<Collector> => {
    const messages: ConsumedMessage[] = [];
    const batches: MessageBatch[] = [];
    const sub = await bus.subscribe({
      group: opts.group ?? names().group(),
      fromBeginning: true,
      ...opts,
      handler: async (batch, ctx) => {
        if (handler !== undefined) await handler(batch, ctx);
        batches.push(batch);
        messages.push(...batch.messages);
      },
    });
    subs.push(sub);
    return { messages, batches, sub };
  };

  const values = (messages: readonly ConsumedMessage[]): unknown[] => messages.map((m) => m.json());
  const fullyAssigned = (subsToCheck: readonly Subscription[], partitions: number) => () =>
    subsToCheck.reduce((n, s) => n + s.assignment().length, 0) === partitions && subsToCheck.every((s) => s.assignment().length > 0);
  const rejectsWith = async (promise: Promise<unknown>, code: string): Promise<void> => {
    await assert.rejects(promise, (error: unknown) => error instanceof MiaRunError && error.code === code);
  };

  describe(`EventBus contract: ${options.name}`, { skip: options.skip }, () => {
    const test = (title: string, fn: () => Promise<void>): void => {
      const reason = options.unsupported?.[title];
      it(title, reason === undefined ? {} : { skip: reason }, fn);
    };

    afterEach(async () => {
      await Promise.all(subs.splice(0).map((s) => s.stop()));
      await Promise.all(buses.splice(0).map((b) => b.close()));
    });
    after(async () => {
      await Promise.all(buses.splice(0).map((b) => b.close()));
    });

    // --- Backend and topics ---------------------------------------------------------------------------
    test('declares the consumer-group feature and reports healthy after start', async () => {
      const bus = await newBus();
      assert.ok(bus.features.has(EVENT_BUS_FEATURES.consumerGroups));
      assert.equal((await bus.health()).status, 'OK');
      assert.match(bus.kind, /^bus\./);
    });

    test('ensureTopics creates topics with their partitions', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 3);
      const found = (await bus.describeTopics()).find((t) => t.name === topic);
      assert.ok(found);
      assert.deepEqual(found.partitions.map((p) => p.partition), [0, 1, 2]);
      assert.ok(found.partitions.every((p) => p.end === p.start));
    });

    test('ensureTopics leaves an existing topic and its messages as they are', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 2);
      await bus.publish(topic, [{ key: 'a', value: 1 }]);
      await bus.ensureTopics({ [topic]: { partitions: 2 } });
      const found = (await bus.describeTopics()).find((t) => t.name === topic)!;
      assert.equal(found.partitions.length, 2);
      assert.equal(found.partitions.reduce((n, p) => n + p.end - p.start, 0), 1);
    });

    test('publish answers topic, partition and consecutive offsets in order', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const first = await bus.publish(topic, [{ key: 'k', value: 'a' }, { key: 'k', value: 'b' }, { key: 'k', value: 'c' }]);
      assert.deepEqual(first.map((r) => [r.topic, r.partition]), [[topic, 0], [topic, 0], [topic, 0]]);
      assert.deepEqual(first.map((r) => r.offset - first[0]!.offset), [0, 1, 2]);
      const second = await bus.publish(topic, [{ key: 'k', value: 'd' }]);
      assert.equal(second[0]!.offset, first[2]!.offset + 1);
    });

    test('publishing an empty list is a no-op', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      assert.deepEqual(await bus.publish(topic, []), []);
    });

    test('publish to an undeclared topic fails with MR_BUS_UNKNOWN_TOPIC', async () => {
      const bus = await newBus();
      await rejectsWith(bus.publish(`contract-missing-${randomUUID()}`, [{ key: 'a', value: 1 }]), 'MR_BUS_UNKNOWN_TOPIC');
    });

    test('invalid keys and headers fail with MR_BUS_INVALID_MESSAGE', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await rejectsWith(bus.publish(topic, [{ key: 42 as unknown as string, value: 1 }]), 'MR_BUS_INVALID_MESSAGE');
      await rejectsWith(bus.publish(topic, [{ key: 'a', value: 1, headers: { h: 1 as unknown as string } }]), 'MR_BUS_INVALID_MESSAGE');
    });

    test('keyed messages land where Kafka\'s murmur2 partitioner puts them', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 6);
      const keys = Array.from({ length: 30 }, (_, i) => `customer-${i}`);
      const records = await bus.publish(topic, keys.map((key) => ({ key, value: key })));
      assert.deepEqual(records.map((r) => r.partition), keys.map((k) => partitionForKey(k, 6)));
    });

    test('one key always goes to one partition', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 4);
      const a = await bus.publish(topic, [{ key: 'same', value: 1 }]);
      const b = await bus.publish(topic, [{ key: 'same', value: 2 }, { key: 'same', value: 3 }]);
      assert.equal(new Set([...a, ...b].map((r) => r.partition)).size, 1);
    });

    test('an explicit partition overrides the key', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 3);
      const other = (partitionForKey('k', 3) + 1) % 3;
      const [record] = await bus.publish(topic, [{ key: 'k', value: 1, partition: other }]);
      assert.equal(record!.partition, other);
    });

    test('messages without a key are spread over partitions', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 3);
      const records = await Promise.all(Array.from({ length: 12 }, (_, i) => bus.publish(topic, [{ value: i }])));
      assert.ok(new Set(records.flat().map((r) => r.partition)).size > 1);
    });

    // --- Message content ------------------------------------------------------------------------------
    test('Buffer values arrive byte for byte', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      await bus.publish(topic, [{ key: 'b', value: bytes }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('the message', () => c.messages.length === 1);
      assert.deepEqual(c.messages[0]!.value, bytes);
    });

    test('string values arrive as UTF-8 text', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ key: 's', value: 'héllo wörld' }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('the message', () => c.messages.length === 1);
      assert.equal(c.messages[0]!.text(), 'héllo wörld');
    });

    test('object values arrive as JSON with their key', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ key: 'o-1', value: { id: 'o-1', total: 12.5, items: ['a'] } }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('the message', () => c.messages.length === 1);
      assert.equal(c.messages[0]!.key, 'o-1');
      assert.deepEqual(c.messages[0]!.json(), { id: 'o-1', total: 12.5, items: ['a'] });
    });

    test('a null value is kept as a tombstone', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ key: 'gone', value: { v: 1 } }, { key: 'gone', value: null }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('both messages', () => c.messages.length === 2);
      assert.equal(c.messages[1]!.key, 'gone');
      assert.equal(c.messages[1]!.value, null);
      assert.equal(c.messages[1]!.json(), null);
      assert.equal(c.messages[1]!.text(), null);
    });

    test('a null key arrives as null', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ value: 'x' }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('the message', () => c.messages.length === 1);
      assert.equal(c.messages[0]!.key, null);
    });

    test('headers arrive as sent', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ key: 'h', value: 1, headers: { 'x-trace': 'abc', 'content-type': 'application/json' } }, { key: 'h', value: 2 }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('both messages', () => c.messages.length === 2);
      assert.deepEqual({ ...c.messages[0]!.headers }, { 'x-trace': 'abc', 'content-type': 'application/json' });
      assert.deepEqual({ ...c.messages[1]!.headers }, {});
    });

    test('a producer timestamp is kept; without one the publish time is used', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const before = Date.now();
      await bus.publish(topic, [{ key: 't', value: 1, timestamp: 1_600_000_000_000 }, { key: 't', value: 2 }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('both messages', () => c.messages.length === 2);
      assert.equal(c.messages[0]!.timestamp, 1_600_000_000_000);
      assert.ok(c.messages[1]!.timestamp >= before - 1000 && c.messages[1]!.timestamp <= Date.now() + 1000);
    });

    test('json() on a value that is not JSON fails with MR_BUS_INVALID_MESSAGE', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ key: 'x', value: 'not json {' }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('the message', () => c.messages.length === 1);
      assert.throws(() => c.messages[0]!.json(), (e: unknown) => e instanceof MiaRunError && e.code === 'MR_BUS_INVALID_MESSAGE');
    });

    test('describeTopics shows end offsets moving with publishes', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 2);
      await bus.publish(topic, [{ key: 'a', value: 1, partition: 0 }, { key: 'a', value: 2, partition: 0 }, { key: 'b', value: 3, partition: 1 }]);
      const found = (await bus.describeTopics()).find((t) => t.name === topic)!;
      assert.deepEqual(found.partitions.map((p) => p.end - p.start), [2, 1]);
    });

    // --- Consuming ------------------------------------------------------------------------------------
    test('a consumer from the beginning gets every message in offset order per partition', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 3);
      await bus.publish(topic, Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 7}`, value: i })));
      const c = await collect(bus, { topics: [topic] });
      await waitFor('30 messages', () => c.messages.length >= 30);
      assert.deepEqual(new Set(values(c.messages)), new Set(Array.from({ length: 30 }, (_, i) => i)));
      for (let p = 0; p < 3; p++) {
        const offsets = c.messages.filter((m) => m.partition === p).map((m) => m.offset);
        assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
      }
    });

    test('order per key holds under concurrent publishers', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 4);
      const keys = ['a', 'b', 'c', 'd', 'e'];
      // Each key's messages are published in sequence; the keys run concurrently.
      await Promise.all(
        keys.map(async (key) => {
          for (let i = 0; i < 20; i++) await bus.publish(topic, [{ key, value: { key, seq: i } }]);
        }),
      );
      const c = await collect(bus, { topics: [topic] });
      await waitFor('100 messages', () => c.messages.length >= 100);
      for (const key of keys) {
        const seqs = c.messages.filter((m) => m.key === key).map((m) => m.json<{ seq: number }>().seq);
        assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i));
      }
    });

    test('order per key holds within one batched publish', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 3);
      const messages = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 4}`, value: { k: `k${i % 4}`, i } }));
      await bus.publish(topic, messages);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('60 messages', () => c.messages.length >= 60);
      for (let k = 0; k < 4; k++) {
        const seen = c.messages.filter((m) => m.key === `k${k}`).map((m) => m.json<{ i: number }>().i);
        assert.deepEqual(seen, messages.filter((m) => m.key === `k${k}`).map((m) => m.value.i));
      }
    });

    test('a batch holds consecutive messages of one partition', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 2);
      await bus.publish(topic, Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: i })));
      const c = await collect(bus, { topics: [topic] });
      await waitFor('200 messages', () => c.messages.length >= 200);
      assert.ok(c.batches.some((b) => b.messages.length > 1), 'some batch has more than one message');
      for (const batch of c.batches) {
        assert.ok(batch.messages.every((m) => m.partition === batch.partition && m.topic === batch.topic));
        batch.messages.forEach((m, i) => assert.equal(m.offset, batch.messages[0]!.offset + i));
      }
    });

    test('maxBatchSize bounds the batch size', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: i })));
      const c = await collect(bus, { topics: [topic], maxBatchSize: 7 });
      await waitFor('50 messages', () => c.messages.length >= 50);
      assert.ok(c.batches.every((b) => b.messages.length <= 7));
    });

    test('a consumer of several topics gets messages of each', async () => {
      const bus = await newBus();
      const a = await topicOf(bus, 1, {}, 'a');
      const b = await topicOf(bus, 2, {}, 'b');
      await bus.publish(a, [{ key: 'x', value: 'from-a' }]);
      await bus.publish(b, [{ key: 'y', value: 'from-b' }]);
      const c = await collect(bus, { topics: [a, b] });
      await waitFor('both messages', () => c.messages.length >= 2);
      assert.deepEqual(new Set(c.messages.map((m) => `${m.topic}:${m.text()}`)), new Set([`${a}:from-a`, `${b}:from-b`]));
    });

    test('a new group without fromBeginning starts at the end', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ key: 'k', value: 'old' }]);
      const c = await collect(bus, { topics: [topic], fromBeginning: false });
      await waitFor('the assignment', fullyAssigned([c.sub], 1));
      await waitFor('a committed start position', async () => (await bus.lag(c.sub.group, [topic]))[0]?.committed !== null);
      await bus.publish(topic, [{ key: 'k', value: 'new' }]);
      await waitFor('the new message', () => c.messages.length >= 1);
      assert.deepEqual(c.messages.map((m) => m.text()), ['new']);
    });

    test('messages published by one client reach a consumer on another', async () => {
      const producer = await newBus();
      const consumer = await newBus();
      const topic = await topicOf(producer, 2);
      const c = await collect(consumer, { topics: [topic] });
      await producer.publish(topic, [{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
      await waitFor('both messages', () => c.messages.length >= 2);
    });

    test('a message published while the consumer waits is delivered', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('the assignment', fullyAssigned([c.sub], 1));
      await bus.publish(topic, [{ key: 'late', value: 'hello' }]);
      await waitFor('the message', () => c.messages.length === 1);
      assert.equal(c.messages[0]!.text(), 'hello');
    });

    // --- Groups -----------------------------------------------------------------------------------------
    test('two groups each get every message', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 3);
      await bus.publish(topic, Array.from({ length: 15 }, (_, i) => ({ key: `k${i}`, value: i })));
      const one = await collect(bus, { topics: [topic] });
      const two = await collect(bus, { topics: [topic] });
      await waitFor('15 messages in each group', () => one.messages.length >= 15 && two.messages.length >= 15);
      assert.deepEqual(new Set(values(one.messages)), new Set(values(two.messages)));
    });

    test('two consumers of one group split the partitions', async () => {
      const bus = await newBus();
      const other = await newBus();
      const topic = await topicOf(bus, 4);
      const group = names().group();
      const a = await collect(bus, { topics: [topic], group });
      const b = await collect(other, { topics: [topic], group });
      await waitFor('a split of 4 partitions', fullyAssigned([a.sub, b.sub], 4));
      const mine = new Set(a.sub.assignment().map((tp) => tp.partition));
      const theirs = new Set(b.sub.assignment().map((tp) => tp.partition));
      assert.equal([...mine].filter((p) => theirs.has(p)).length, 0, 'no partition is owned twice');
      await bus.publish(topic, Array.from({ length: 40 }, (_, i) => ({ key: `key-${i}`, value: i })));
      await waitFor('40 messages in all', () => new Set(values([...a.messages, ...b.messages])).size === 40);
      assert.ok(a.messages.every((m) => mine.has(m.partition)));
      assert.ok(b.messages.every((m) => theirs.has(m.partition)));
    });

    test('when a member leaves, the others take over its partitions', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 2);
      const group = names().group();
      const a = await collect(bus, { topics: [topic], group });
      const b = await collect(bus, { topics: [topic], group });
      await waitFor('a split of 2 partitions', fullyAssigned([a.sub, b.sub], 2));
      await b.sub.stop();
      await waitFor('the survivor owning both partitions', () => a.sub.assignment().length === 2);
      await bus.publish(topic, [{ key: 'x', value: 'x', partition: 0 }, { key: 'y', value: 'y', partition: 1 }]);
      await waitFor('both messages at the survivor', () => new Set(a.messages.map((m) => m.text())).size >= 2);
    });

    test('a member joining later gets a share of the partitions', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 2);
      const group = names().group();
      const a = await collect(bus, { topics: [topic], group });
      await waitFor('the first member owning both partitions', () => a.sub.assignment().length === 2);
      const b = await collect(bus, { topics: [topic], group });
      await waitFor('a split of 2 partitions', () => a.sub.assignment().length === 1 && b.sub.assignment().length === 1);
    });

    // --- Commits and redelivery ------------------------------------------------------------------------
    test('a handler that throws sees the batch again (no commit before the effect)', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ key: 'k', value: 'once' }]);
      let calls = 0;
      const c = await collect(bus, { topics: [topic], deadLetter: false }, async () => {
        calls += 1;
        if (calls === 1) throw new Error('transient');
      });
      await waitFor('a successful delivery', () => c.messages.length === 1);
      assert.equal(calls, 2);
    });

    test('a consumer stopped before committing leaves the message to the next member', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const group = names().group();
      await bus.publish(topic, [{ key: 'k', value: 'effect' }]);
      let seenByFirst = 0;
      const first = await bus.subscribe({
        group,
        topics: [topic],
        fromBeginning: true,
        deadLetter: false,
        handler: async (_batch, ctx) => {
          seenByFirst += 1;
          // The effect never completes: the process "dies" (stop) before the handler resolves.
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          throw new Error('crashed before commit');
        },
      });
      subs.push(first);
      await waitFor('the first delivery', () => seenByFirst === 1);
      await first.stop();
      const second = await collect(bus, { topics: [topic], group });
      await waitFor('the redelivery', () => second.messages.length === 1);
      assert.equal(second.messages[0]!.text(), 'effect');
    });

    test('committed messages are not delivered again to the group', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const group = names().group();
      await bus.publish(topic, [{ key: 'k', value: 'a' }, { key: 'k', value: 'b' }]);
      const first = await collect(bus, { topics: [topic], group });
      await waitFor('both messages', () => first.messages.length === 2);
      await first.sub.stop();
      await bus.publish(topic, [{ key: 'k', value: 'c' }]);
      const second = await collect(bus, { topics: [topic], group });
      await waitFor('the new message', () => second.messages.length >= 1);
      assert.deepEqual(second.messages.map((m) => m.text()), ['c']);
    });

    test('graceful stop finishes and commits the in-flight batch', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const group = names().group();
      await bus.publish(topic, [{ key: 'k', value: 'slow' }]);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = false;
      let finished = false;
      const sub = await bus.subscribe({
        group,
        topics: [topic],
        fromBeginning: true,
        handler: async () => {
          started = true;
          await gate;
          finished = true;
        },
      });
      subs.push(sub);
      await waitFor('the handler to start', () => started);
      const stopping = sub.stop();
      release();
      await stopping;
      assert.equal(finished, true);
      const lag = await bus.lag(group, [topic]);
      assert.equal(lag[0]!.lag, 0);
      assert.equal(lag[0]!.committed, lag[0]!.end);
    });

    test('stop is idempotent', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const c = await collect(bus, { topics: [topic] });
      await Promise.all([c.sub.stop(), c.sub.stop()]);
      await c.sub.stop();
    });

    // --- Lag ------------------------------------------------------------------------------------------
    test('lag counts unconsumed messages per partition and drops to zero once consumed', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 2);
      const group = names().group();
      await bus.publish(topic, [{ value: 1, partition: 0 }, { value: 2, partition: 0 }, { value: 3, partition: 1 }]);
      const before = await bus.lag(group, [topic]);
      assert.deepEqual(before.map((l) => [l.partition, l.committed, l.lag]), [[0, null, 2], [1, null, 1]]);
      const c = await collect(bus, { topics: [topic], group });
      await waitFor('3 messages', () => c.messages.length >= 3);
      await waitFor('zero lag', async () => (await bus.lag(group, [topic])).every((l) => l.lag === 0));
      const afterLag = await bus.lag(group, [topic]);
      assert.deepEqual(afterLag.map((l) => [l.partition, l.committed, l.end]), [[0, 2, 2], [1, 1, 1]]);
    });

    test('lag without topics lists the topics the group consumed', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const c = await collect(bus, { topics: [topic] });
      await bus.publish(topic, [{ key: 'k', value: 1 }]);
      await waitFor('the message', () => c.messages.length === 1);
      await waitFor('a commit', async () => (await bus.lag(c.sub.group)).some((l) => l.topic === topic && l.committed === 1));
    });

    // --- Replay -----------------------------------------------------------------------------------------
    test('resetOffsets to the beginning replays a topic to a stopped group', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 2);
      const group = names().group();
      await bus.publish(topic, Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: i })));
      const first = await collect(bus, { topics: [topic], group });
      await waitFor('6 messages', () => first.messages.length >= 6);
      await first.sub.stop();
      await bus.resetOffsets(group, topic, 'beginning');
      const again = await collect(bus, { topics: [topic], group });
      await waitFor('the replay', () => new Set(values(again.messages)).size === 6);
    });

    test('resetOffsets to a timestamp replays from the first message at or after it', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const group = names().group();
      const base = 1_700_000_000_000;
      await bus.publish(topic, Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: i, timestamp: base + i * 1000 })));
      await bus.resetOffsets(group, topic, { timestamp: base + 6500 });
      const c = await collect(bus, { topics: [topic], group });
      await waitFor('3 messages', () => c.messages.length >= 3);
      assert.deepEqual(values(c.messages), [7, 8, 9]);
    });

    test('seek to the beginning replays while the subscription runs', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.publish(topic, [{ key: 'k', value: 'a' }, { key: 'k', value: 'b' }]);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('2 messages', () => c.messages.length === 2);
      await c.sub.seek(topic, 'beginning');
      await waitFor('the replay', () => c.messages.length === 4);
      assert.deepEqual(c.messages.map((m) => m.text()), ['a', 'b', 'a', 'b']);
    });

    test('seek to a timestamp moves a running subscription', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const base = 1_700_000_000_000;
      await bus.publish(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: i, timestamp: base + i * 1000 })));
      const c = await collect(bus, { topics: [topic] });
      await waitFor('5 messages', () => c.messages.length === 5);
      await c.sub.seek(topic, { timestamp: base + 3000 });
      await waitFor('the replay of 2', () => c.messages.length === 7);
      assert.deepEqual(values(c.messages.slice(5)), [3, 4]);
    });

    test('seek to the end skips what is there', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const c = await collect(bus, { topics: [topic] }, async () => undefined);
      await waitFor('the assignment', fullyAssigned([c.sub], 1));
      c.sub.pause();
      await bus.publish(topic, [{ key: 'k', value: 'skipped' }]);
      await c.sub.seek(topic, 'end');
      c.sub.resume();
      await bus.publish(topic, [{ key: 'k', value: 'seen' }]);
      await waitFor('the new message', () => c.messages.length >= 1);
      assert.deepEqual(c.messages.map((m) => m.text()), ['seen']);
    });

    // --- Pause and resume ------------------------------------------------------------------------------
    test('pause holds delivery and resume delivers what was held', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const c = await collect(bus, { topics: [topic] });
      await waitFor('the assignment', fullyAssigned([c.sub], 1));
      await bus.publish(topic, [{ key: 'k', value: 'before' }]);
      await waitFor('the first message', () => c.messages.length === 1);
      c.sub.pause();
      assert.equal(c.sub.paused, true);
      await bus.publish(topic, [{ key: 'k', value: 'held' }]);
      // The held message is observable as lag while paused (no delivery, no commit).
      await waitFor('lag of 1 while paused', async () => (await bus.lag(c.sub.group, [topic]))[0]?.lag === 1);
      assert.equal(c.messages.length, 1);
      c.sub.resume();
      assert.equal(c.sub.paused, false);
      await waitFor('the held message', () => c.messages.length === 2);
      assert.equal(c.messages[1]!.text(), 'held');
    });

    // --- Dead letters -----------------------------------------------------------------------------------
    test('a message that keeps failing goes to <topic>.DLQ with error, group and attempts; the partition moves on', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.ensureTopics({ [deadLetterTopic(topic)]: { partitions: 1 } });
      const group = names().group();
      await bus.publish(topic, [{ key: 'ok-1', value: 1 }, { key: 'bad', value: 2, headers: { 'x-origin': 'test' } }, { key: 'ok-2', value: 3 }]);
      const handled: number[] = [];
      const sub = await bus.subscribe({
        group,
        topics: [topic],
        fromBeginning: true,
        deadLetter: FAST,
        handler: async (batch) => {
          for (const m of batch.messages) if (m.key === 'bad') throw new Error('cannot handle 2');
          handled.push(...batch.messages.map((m) => m.json<number>()));
        },
      });
      subs.push(sub);
      const dlq = await collect(bus, { topics: [deadLetterTopic(topic)] });
      await waitFor('the dead letter', () => dlq.messages.length === 1);
      await waitFor('the other messages', () => handled.includes(1) && handled.includes(3));
      const dead = dlq.messages[0]!;
      assert.equal(dead.key, 'bad');
      assert.equal(dead.json(), 2);
      assert.equal(dead.headers['x-origin'], 'test');
      assert.equal(dead.headers[DLQ_HEADERS.errorCode], 'MR_BUS_HANDLER_FAILED');
      assert.equal(dead.headers[DLQ_HEADERS.errorMessage], 'cannot handle 2');
      assert.equal(dead.headers[DLQ_HEADERS.group], group);
      assert.equal(dead.headers[DLQ_HEADERS.attempts], '3');
      assert.equal(dead.headers[DLQ_HEADERS.topic], topic);
      assert.equal(dead.headers[DLQ_HEADERS.offset], '1');
      await waitFor('zero lag', async () => (await bus.lag(group, [topic]))[0]?.lag === 0);
    });

    test('the handler is tried the configured number of times with the attempt number', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.ensureTopics({ [deadLetterTopic(topic)]: { partitions: 1 } });
      const attempts: number[] = [];
      const sub = await bus.subscribe({
        group: names().group(),
        topics: [topic],
        fromBeginning: true,
        deadLetter: { attempts: 4, baseMs: 1, maxMs: 2 },
        handler: async (_batch, ctx) => {
          attempts.push(ctx.attempt);
          throw new Error('always');
        },
      });
      subs.push(sub);
      await bus.publish(topic, [{ key: 'k', value: 'x' }]);
      const dlq = await collect(bus, { topics: [deadLetterTopic(topic)] });
      await waitFor('the dead letter', () => dlq.messages.length === 1);
      assert.deepEqual(attempts, [1, 2, 3, 4]);
      assert.equal(dlq.messages[0]!.headers[DLQ_HEADERS.attempts], '4');
    });

    test('a non-retriable MiaRunError is dead-lettered at once with its code', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.ensureTopics({ [deadLetterTopic(topic)]: { partitions: 1 } });
      let calls = 0;
      const sub = await bus.subscribe({
        group: names().group(),
        topics: [topic],
        fromBeginning: true,
        deadLetter: FAST,
        handler: async (batch) => {
          calls += 1;
          for (const m of batch.messages) m.json();
        },
      });
      subs.push(sub);
      await bus.publish(topic, [{ key: 'k', value: 'not json' }]);
      const dlq = await collect(bus, { topics: [deadLetterTopic(topic)] });
      await waitFor('the dead letter', () => dlq.messages.length === 1);
      assert.equal(calls, 1);
      assert.equal(dlq.messages[0]!.headers[DLQ_HEADERS.errorCode], 'MR_BUS_INVALID_MESSAGE');
      assert.equal(dlq.messages[0]!.headers[DLQ_HEADERS.attempts], '1');
    });

    test('a failure that clears before the last attempt is not dead-lettered', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.ensureTopics({ [deadLetterTopic(topic)]: { partitions: 1 } });
      const group = names().group();
      let calls = 0;
      const done: string[] = [];
      const sub = await bus.subscribe({
        group,
        topics: [topic],
        fromBeginning: true,
        deadLetter: FAST,
        handler: async (batch) => {
          calls += 1;
          if (calls < 3) throw new MiaRunError('MR_BUS_UNAVAILABLE', 'flaky');
          done.push(...batch.messages.map((m) => m.text()!));
        },
      });
      subs.push(sub);
      await bus.publish(topic, [{ key: 'k', value: 'eventually' }]);
      await waitFor('the success', () => done.length === 1);
      await waitFor('zero lag', async () => (await bus.lag(group, [topic]))[0]?.lag === 0);
      const dlq = (await bus.describeTopics()).find((t) => t.name === deadLetterTopic(topic))!;
      assert.equal(dlq.partitions[0]!.end, 0);
    });

    test('a failing message in a batch does not stop the other messages of the batch', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.ensureTopics({ [deadLetterTopic(topic)]: { partitions: 1 } });
      await bus.publish(topic, Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: i })));
      const handled = new Set<number>();
      const sub = await bus.subscribe({
        group: names().group(),
        topics: [topic],
        fromBeginning: true,
        deadLetter: FAST,
        handler: async (batch) => {
          const got = batch.messages.map((m) => m.json<number>());
          if (got.includes(4)) throw new Error('4 is bad');
          got.forEach((v) => handled.add(v));
        },
      });
      subs.push(sub);
      const dlq = await collect(bus, { topics: [deadLetterTopic(topic)] });
      await waitFor('9 handled and 1 dead letter', () => handled.size === 9 && dlq.messages.length === 1);
      assert.equal(handled.has(4), false);
      assert.equal(dlq.messages[0]!.json(), 4);
    });

    test('with dead letters disabled a failing message is retried until it succeeds', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      let calls = 0;
      const c = await collect(bus, { topics: [topic], deadLetter: false }, async () => {
        calls += 1;
        if (calls < 3) throw new Error('not yet');
      });
      await bus.publish(topic, [{ key: 'k', value: 'stubborn' }]);
      await waitFor('the success', () => c.messages.length === 1);
      assert.equal(calls, 3);
    });

    // --- Lifecycle ------------------------------------------------------------------------------------
    test('subscribing to an undeclared topic fails with MR_BUS_UNKNOWN_TOPIC', async () => {
      const bus = await newBus();
      await rejectsWith(
        bus.subscribe({ group: names().group(), topics: [`contract-missing-${randomUUID()}`], handler: async () => undefined }),
        'MR_BUS_UNKNOWN_TOPIC',
      );
    });

    test('after close, publish fails with MR_BUS_CLOSED and close is idempotent', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      await bus.close();
      await bus.close();
      await rejectsWith(bus.publish(topic, [{ key: 'k', value: 1 }]), 'MR_BUS_CLOSED');
      assert.equal((await bus.health()).status, 'KO');
    });

    test('close stops subscriptions after committing their in-flight batch', async () => {
      const bus = await newBus();
      const topic = await topicOf(bus, 1);
      const group = names().group();
      await bus.publish(topic, [{ key: 'k', value: 1 }]);
      const c = await collect(bus, { topics: [topic], group });
      await waitFor('the message', () => c.messages.length === 1);
      await bus.close();
      const other = await newBus();
      await waitFor('zero lag', async () => (await other.lag(group, [topic]))[0]?.lag === 0);
    });
  });
}
