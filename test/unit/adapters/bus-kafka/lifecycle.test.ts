// The Kafka adapter without a broker: what a user sees when Kafka is down or the bus is used out of order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KafkaEventBus, createKafkaEventBus } from '../../../../src/adapters/bus-kafka/index.js';
import { MiaRunError } from '../../../../src/errors.js';
import { EVENT_BUS_FEATURES } from '../../../../src/ports/event-bus.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { silentLogger } from '../../../../src/ports/logger.js';

// Port 1 on loopback refuses connections at once.
const unreachable = () =>
  new KafkaEventBus({
    name: 'bus',
    config: { kind: 'kafka', brokers: ['127.0.0.1:1'], clientId: 'test', topics: { orders: { partitions: 3 } } },
    clock: systemClock,
    logger: silentLogger,
    tuning: { retries: 1, initialRetryTime: 10, connectionTimeout: 500 },
  });

describe('bus.kafka lifecycle without a broker', () => {
  it('declares every EventBus feature and does no I/O before start', async () => {
    const bus = createKafkaEventBus('bus', { kind: 'kafka', brokers: ['127.0.0.1:1'], clientId: 'x', topics: {} }, { clock: systemClock, logger: silentLogger });
    assert.equal(bus.kind, 'bus.kafka');
    assert.deepEqual([...bus.features].sort(), Object.values(EVENT_BUS_FEATURES).sort());
    assert.deepEqual(await bus.health(), { name: 'bus', status: 'KO', message: 'created' });
    await assert.rejects(bus.publish('orders', [{ value: 1 }]), (e: unknown) => e instanceof MiaRunError && e.code === 'MR_RUNTIME_NOT_READY');
    await bus.close();
  });

  it('fails to start with a retriable MR_BUS_UNAVAILABLE naming the brokers', async () => {
    const bus = unreachable();
    await assert.rejects(bus.start(), (e: unknown) => {
      assert.ok(e instanceof MiaRunError);
      assert.equal(e.code, 'MR_BUS_UNAVAILABLE');
      assert.equal(e.retriable, true);
      assert.match(e.message, /127\.0\.0\.1:1/);
      return true;
    });
    assert.equal((await bus.health()).status, 'KO');
    await bus.close();
    await bus.close();
    await assert.rejects(bus.publish('orders', [{ value: 1 }]), (e: unknown) => e instanceof MiaRunError && e.code === 'MR_BUS_CLOSED');
  });
});
