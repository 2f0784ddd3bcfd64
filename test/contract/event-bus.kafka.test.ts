// The EventBus contract on a real Apache Kafka broker (`scripts/services/kafka start` prints KAFKA_BROKERS).
// Group-protocol timeouts are short so joins and rebalances take well under a second each.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KafkaEventBus } from '../../src/adapters/bus-kafka/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';
import { eventBusContract } from './event-bus.contract.js';

const brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter((b) => b !== '') ?? [];

eventBusContract({
  name: 'bus.kafka',
  ...(brokers.length === 0 ? { skip: 'set KAFKA_BROKERS to run (scripts/services/kafka start)' } : {}),
  timeoutMs: 30_000,
  create: async () => {
    const bus = new KafkaEventBus({
      name: 'bus',
      config: { kind: 'kafka', brokers, clientId: 'mia-run-contract', topics: {} },
      clock: systemClock,
      logger: silentLogger,
      tuning: { sessionTimeout: 6_000, rebalanceTimeout: 5_000, heartbeatInterval: 300, maxWaitTimeInMs: 100, retries: 5, initialRetryTime: 100 },
    });
    await bus.start();
    return bus;
  },
});

// What only the Kafka adapter does: descriptor topics with retention at start, requests split under the
// broker's batch limit, consumer-group listing for `mia-run topics lag`.
describe('bus.kafka specifics', { skip: brokers.length === 0 ? 'set KAFKA_BROKERS to run (scripts/services/kafka start)' : false }, () => {
  const id = randomUUID().slice(0, 8);
  const orders = `kafka-orders-${id}`;
  const audit = `kafka-audit-${id}`;
  let bus: KafkaEventBus;

  before(async () => {
    bus = new KafkaEventBus({
      name: 'bus',
      config: {
        kind: 'kafka',
        brokers,
        clientId: 'mia-run-kafka-specifics',
        topics: { [orders]: { partitions: 3, key: 'orderId', retentionMs: 3_600_000, retentionBytes: 10_485_760 }, [audit]: { partitions: 1 } },
      },
      clock: systemClock,
      logger: silentLogger,
      tuning: { sessionTimeout: 6_000, rebalanceTimeout: 5_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 },
    });
    await bus.start();
  });
  after(async () => {
    await bus.close();
  });

  it('creates the descriptor topics at start with partitions, retention and no expiry when none is declared', async () => {
    const topics = await bus.describeTopics();
    const found = topics.find((t) => t.name === orders);
    assert.deepEqual(found?.config, { key: 'orderId', partitions: 3, retentionMs: 3_600_000, retentionBytes: 10_485_760 });
    assert.deepEqual(topics.find((t) => t.name === audit)?.config, { partitions: 1 });
  });

  it('publishes a call larger than one broker request in order', async () => {
    const big = (n: number) => ({ key: 'same', value: Buffer.alloc(600 * 1024, n) });
    const records = await bus.publish(audit, [big(1), big(2), big(3)]);
    assert.deepEqual(records.map((r) => r.offset - records[0]!.offset), [0, 1, 2]);
    const seen: number[] = [];
    const sub = await bus.subscribe({ group: `kafka-big-${id}`, topics: [audit], fromBeginning: true, handler: async (batch) => void seen.push(...batch.messages.map((m) => m.value![0]!)) });
    try {
      for (let i = 0; i < 3000 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(seen, [1, 2, 3]);
    } finally {
      await sub.stop();
    }
  });

  it('lists consumer groups for `mia-run topics lag`', async () => {
    const group = `kafka-listed-${id}`;
    const sub = await bus.subscribe({ group, topics: [orders], handler: async () => undefined });
    try {
      assert.ok((await bus.listGroups()).includes(group));
    } finally {
      await sub.stop();
    }
  });
});
