// examples/fast-data on Kafka + MongoDB protocol (skipped unless KAFKA_BROKERS and MONGODB_URL are set):
// Debezium messages on real Kafka topics (random suffix), projections and the customer view stored in a
// MongoDB-protocol database, a foreign-key move recomputing both customers, read through the gateway.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createKafkaEventBus } from '../../src/adapters/bus-kafka/index.js';
import { loadProject } from '../../src/config/load-project.js';
import type { FastDataConfig } from '../../src/config/sections/fast-data.js';
import type { KafkaBusConfig, ProjectConfig } from '../../src/config/types.js';
import { systemClock } from '../../src/ports/clock.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { waitFor } from '../helpers/saga-harness.js';

const root = new URL('../..', import.meta.url).pathname;
const brokers = process.env.KAFKA_BROKERS;
const mongoUrl = process.env.MONGODB_URL;
const skip = brokers === undefined || mongoUrl === undefined ? 'set KAFKA_BROKERS and MONGODB_URL to run' : false;

describe('examples/fast-data on Kafka + MongoDB protocol', { skip }, () => {
  const suffix = randomBytes(4).toString('hex');
  const topic = (name: string): string => `${name}-${suffix}`;
  let dataDir: string;
  let runtime: Runtime;
  let url: string;
  let producer: EventBus;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mia-run-fd-kafka-'));
    const { config } = await loadProject(join(root, 'examples/fast-data/project.yaml'), { env: {} });
    const base = config as ProjectConfig;
    const erp = base.fastData.systemsOfRecord!.erp!;
    const projections = Object.fromEntries(Object.entries(erp.projections).map(([name, p]) => [name, { ...p, topic: topic(p.topic) }]));
    const view = base.fastData.singleViews!['customer-360']!;
    const fastData: FastDataConfig = { ...base.fastData, systemsOfRecord: { erp: { ...erp, projections } }, singleViews: { 'customer-360': { ...view, publish: { topic: topic('sv-customer-360') } } } };
    const topics = Object.fromEntries(Object.keys(base.bus.topics).map((t) => [topic(t), { partitions: 2 }]));
    const bus: KafkaBusConfig = { kind: 'kafka', brokers: (brokers ?? '').split(','), clientId: `fd-test-${suffix}`, topics };
    const project: ProjectConfig = { ...base, name: `fd-${suffix}`, databases: { default: { kind: 'mongodb', url: mongoUrl ?? '', database: `fd_test_${suffix}`, connectTimeout: 10_000 } }, bus, fastData };
    runtime = createRuntime(project, { port: 0, host: '127.0.0.1', dataDir, logger: silentLogger });
    url = (await runtime.start()).url;
    producer = createKafkaEventBus('bus', { ...bus, clientId: `fd-producer-${suffix}` }, { clock: systemClock, logger: silentLogger });
    await producer.start();
  });

  after(async () => {
    await producer?.close();
    await runtime?.stop('test done');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('builds the customer view and follows an order moving between customers', async () => {
    const dbz = (before: unknown, after: unknown, op: string): Record<string, unknown> => ({ before, after, op, source: {} });
    await producer.publish(topic('erp.public.customers'), [
      { key: JSON.stringify({ ID: 1 }), value: dbz(null, { ID: 1, NAME: 'Ada' }, 'r') },
      { key: JSON.stringify({ ID: 2 }), value: dbz(null, { ID: 2, NAME: 'Grace' }, 'r') },
    ]);
    await producer.publish(topic('erp.public.orders'), [{ key: JSON.stringify({ ID: 8 }), value: dbz(null, { ID: 8, CUSTOMER_ID: 1, TOTAL_CENTS: 990 }, 'c') }]);
    const view = async (id: number): Promise<{ orders?: { id: number }[] } | undefined> => {
      const res = await fetch(`${url}/customer-360/${id}`);
      return res.status === 200 ? ((await res.json()) as { orders: { id: number }[] }) : undefined;
    };
    await waitFor(async () => (await view(1))?.orders?.length === 1, 'customer 1 with order 8');
    await producer.publish(topic('erp.public.orders'), [{ key: JSON.stringify({ ID: 8 }), value: dbz({ ID: 8, CUSTOMER_ID: 1 }, { ID: 8, CUSTOMER_ID: 2, TOTAL_CENTS: 990 }, 'u') }]);
    await waitFor(async () => (await view(2))?.orders?.length === 1, 'customer 2 with order 8');
    assert.deepEqual((await view(1))?.orders, []);
  });
});
