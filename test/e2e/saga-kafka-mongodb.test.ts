// examples/saga on real servers: Kafka (KAFKA_BROKERS) for commands and events, the MongoDB protocol
// (MONGODB_URL) for saga documents. Topics and the database get a random suffix. Skipped when unset.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createKafkaEventBus } from '../../src/adapters/bus-kafka/index.js';
import { loadProject } from '../../src/config/load-project.js';
import type { SagaConfig } from '../../src/config/sections/sagas.js';
import type { KafkaBusConfig, ProjectConfig } from '../../src/config/types.js';
import { systemClock } from '../../src/ports/clock.js';
import type { EventBus, Subscription } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { waitFor } from '../helpers/saga-harness.js';

const root = new URL('../..', import.meta.url).pathname;
const brokers = process.env.KAFKA_BROKERS;
const mongoUrl = process.env.MONGODB_URL;
const skip = brokers === undefined || mongoUrl === undefined ? 'set KAFKA_BROKERS and MONGODB_URL to run' : false;

describe('examples/saga on Kafka + MongoDB protocol', { skip }, () => {
  const suffix = randomBytes(4).toString('hex');
  const commandsTopic = `order-commands-${suffix}`;
  const eventsTopic = `order-events-${suffix}`;
  let dataDir: string;
  let runtime: Runtime;
  let url: string;
  let executorBus: EventBus;
  let executor: Subscription;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mia-run-saga-kafka-'));
    const { config } = await loadProject(join(root, 'examples/saga/project.yaml'), { env: {} });
    const base = config as ProjectConfig;
    const order = base.sagas.order as SagaConfig;
    const topics = { [commandsTopic]: { partitions: 2 }, [eventsTopic]: { partitions: 2 } };
    const bus: KafkaBusConfig = { kind: 'kafka', brokers: (brokers ?? '').split(','), clientId: `saga-test-${suffix}`, topics };
    const project: ProjectConfig = {
      ...base,
      databases: { default: { kind: 'mongodb', url: mongoUrl ?? '', database: `saga_test_${suffix}`, connectTimeout: 10_000 } },
      bus,
      sagas: { order: { ...order, channels: { main: { kind: 'bus', commands: commandsTopic, events: eventsTopic } } } },
    };
    runtime = createRuntime(project, { port: 0, host: '127.0.0.1', dataDir, logger: silentLogger });
    url = (await runtime.start()).url;
    executorBus = createKafkaEventBus('bus', { ...bus, clientId: `saga-executor-${suffix}` }, { clock: systemClock, logger: silentLogger });
    await executorBus.start();
    executor = await executorBus.subscribe({
      group: `executor-${suffix}`,
      topics: [commandsTopic],
      fromBeginning: true,
      handler: async (batch) => {
        const replies = { executePayment: 'paymentExecuted', shipOrder: 'orderShipped' } as Record<string, string>;
        for (const m of batch.messages) {
          const { messageLabel } = m.json<{ messageLabel: string }>();
          const reply = replies[messageLabel];
          if (reply) await executorBus.publish(eventsTopic, [{ key: m.key, value: { messageLabel: reply, messagePayload: { by: 'kafka' } } }]);
        }
      },
    });
  });

  after(async () => {
    await executor?.stop();
    await executorBus?.close();
    await runtime?.stop('test done');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs orders to delivery over Kafka with saga documents in MongoDB', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${url}/orders-saga/saga`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ associatedEntityId: `o-${i}`, metadata: { i } }) });
      assert.equal(res.status, 200);
      ids.push(((await res.json()) as { sagaId: string }).sagaId);
    }
    for (const id of ids) {
      await waitFor(async () => ((await (await fetch(`${url}/orders-saga/saga/${id}`)).json()) as { currentState: string }).currentState === 'delivered', `${id} delivered`, 2000);
    }
    const doc = (await (await fetch(`${url}/orders-saga/saga/${ids[0]}`)).json()) as { metadata: unknown; history: { events: { event: string }[] } };
    assert.deepEqual(doc.metadata, { i: 0, by: 'kafka' });
    assert.deepEqual(doc.history.events.map((e) => e.event), ['orderCreated', 'paymentExecuted', 'orderShipped']);
    const counts = (await (await fetch(`${url}/-/sagas`)).json()) as { sagas: { order: { total: number; final: number; states: Record<string, number> } } };
    assert.equal(counts.sagas.order.states.delivered, 5);
    const page = (await (await fetch(`${url}/orders-saga/saga?isFinal=true&_l=2&_sk=1`)).json()) as unknown[];
    assert.equal(page.length, 2);
  });
});
