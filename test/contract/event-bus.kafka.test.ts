// The EventBus contract on a real Apache Kafka broker (`scripts/services/kafka start` prints KAFKA_BROKERS).
// Group-protocol timeouts are short so joins and rebalances take well under a second each.
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
