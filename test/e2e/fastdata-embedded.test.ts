// Fast Data on the embedded store and bus, as a user runs it: a descriptor through the config pipeline, the
// runtime on port 0, Debezium messages produced on a second handle of the same embedded bus, projections and
// the single view read through gateway endpoints, sv-update events and dead letters read back from the bus.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { loadProject } from '../../src/config/load-project.js';
import type { ProjectConfig } from '../../src/config/types.js';
import { systemClock } from '../../src/ports/clock.js';
import type { ConsumedMessage, EventBus, OutgoingMessage } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { waitFor } from '../helpers/saga-harness.js';

const YAML = `
version: 1
name: fd-e2e
bus:
  topics:
    erp.customers: { partitions: 2 }
    erp.orders: { partitions: 3 }
    sv-customer: {}
fastData:
  systemsOfRecord:
    erp:
      format: debezium
      projections:
        customers:
          topic: erp.customers
          primaryKey: [id]
          fields:
            - { name: id, source: ID, cast: toInteger }
            - { name: name, source: NAME, cast: toString }
            - { name: score, source: SCORE, cast: toNumber }
        orders:
          topic: erp.orders
          primaryKey: [id]
          fields:
            - { name: id, source: ID, cast: toInteger }
            - { name: customerId, source: CUSTOMER_ID, cast: toInteger }
            - { name: total, source: TOTAL, cast: toNumber }
  singleViews:
    customer-360:
      key: { customerId: customers.id }
      relations: [{ name: order_customer, from: orders.customerId, to: customers.id }]
      aggregation:
        customerId: customers.id
        name: customers.name
        orders: { from: orders, many: true, fields: { id: id, total: total } }
      publish: { topic: sv-customer }
endpoints:
  - { basePath: /customers, target: { projection: customers }, public: true }
  - { basePath: /orders, target: { projection: orders }, public: true }
  - { basePath: /customer-360, target: { view: customer-360 }, public: true }
`;

const envelope = (op: string, before: unknown, after: unknown): Record<string, unknown> => ({ before, after, source: { connector: 'postgresql', db: 'erp', ts_ms: 1 }, op, ts_ms: 2, transaction: null });

describe('fast data on the embedded backends (Debezium → projections → single view → gateway)', () => {
  let dir: string;
  let runtime: Runtime;
  let url: string;
  let producer: EventBus;
  let ts = 1_700_000_000_000;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-e2e-'));
    await writeFile(join(dir, 'project.yaml'), YAML);
    const { config, diagnostics } = await loadProject(join(dir, 'project.yaml'), { env: {} });
    assert.deepEqual(diagnostics, []);
    runtime = createRuntime(config as ProjectConfig, { port: 0, host: '127.0.0.1', dataDir: join(dir, 'data'), logger: silentLogger });
    url = (await runtime.start()).url;
    producer = createEmbeddedEventBus('bus', { kind: 'embedded', topics: {} }, { dataDir: join(dir, 'data'), clock: systemClock, logger: silentLogger }, { pollMs: 5 });
    await producer.start();
  });

  after(async () => {
    await producer?.close();
    await runtime?.stop('test done');
    await rm(dir, { recursive: true, force: true });
  });

  /** Publishes one Debezium message keyed like Debezium does; each gets a later Kafka timestamp unless given. */
  const produce = async (topic: string, id: number, value: unknown, timestamp = (ts += 1000)): Promise<void> => {
    const message: OutgoingMessage = { key: JSON.stringify({ ID: id }), value: value as OutgoingMessage['value'], timestamp };
    await producer.publish(topic, [message]);
  };
  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: await res.json() };
  };
  const view = async (id: number): Promise<Record<string, unknown> | undefined> => {
    const res = await get(`/customer-360/${id}`);
    return res.status === 200 ? (res.body as Record<string, unknown>) : undefined;
  };
  const orderIds = (sv: Record<string, unknown> | undefined): unknown => (sv?.orders as { id: number }[] | undefined)?.map((o) => o.id);
  const readTopic = async (topic: string, atLeast = 1): Promise<ConsumedMessage[]> => {
    const out: ConsumedMessage[] = [];
    const sub = await producer.subscribe({ group: `reader-${topic}-${Math.random()}`, topics: [topic], fromBeginning: true, handler: async (b) => void out.push(...b.messages) });
    const total = await waitFor(async () => {
      const [desc] = (await producer.describeTopics()).filter((t) => t.name === topic);
      const n = (desc?.partitions ?? []).reduce((sum, p) => sum + p.end - p.start, 0);
      return n >= atLeast ? n : undefined;
    }, `${atLeast} messages on ${topic}`);
    await waitFor(() => out.length >= total, `${total} messages on ${topic}`);
    await sub.stop();
    return out;
  };

  it('builds projections with casts and metadata, and a single view with a late parent', async () => {
    await produce('erp.orders', 11, envelope('c', null, { ID: 11, CUSTOMER_ID: 2, TOTAL: '5.5', EXTRA: 'dropped' }));
    await produce('erp.customers', 1, envelope('r', null, { ID: 1, NAME: 'Ada', SCORE: '7' }));
    await produce('erp.orders', 10, envelope('c', null, { ID: 10, CUSTOMER_ID: 1, TOTAL: 20 }));
    const sv1 = await waitFor(async () => {
      const sv = await view(1);
      return JSON.stringify(orderIds(sv)) === '[10]' ? sv : undefined;
    }, 'customer 1 with order 10');
    assert.equal(sv1.name, 'Ada');
    assert.equal(sv1.__STATE__, 'PUBLIC');
    const order = (await get('/orders/11')).body as Record<string, unknown>;
    assert.equal(order.total, 5.5);
    assert.equal(order.customerId, 2);
    assert.equal(order.EXTRA, undefined);
    assert.equal(order.__STATE__, 'PUBLIC');
    assert.equal(order.__internal__counterType, 'timestamp');
    assert.deepEqual((order.__internal__kafkaInfo as Record<string, unknown>).key, { ID: 11 });
    assert.equal((await get('/customer-360/2')).status, 404);
    // The parent arrives after its child: the base change builds the view with the order already stored.
    await produce('erp.customers', 2, envelope('c', null, { ID: 2, NAME: 'Bob', SCORE: 'not a number' }));
    const sv2 = await waitFor(async () => view(2), 'customer 2');
    assert.deepEqual(sv2.orders, [{ id: 11, total: 5.5 }]);
    assert.equal(((await get('/customers/2')).body as Record<string, unknown>).score, null);
  });

  it('recomputes both the old and the new parent when a foreign key moves', async () => {
    await produce('erp.orders', 10, envelope('u', { ID: 10, CUSTOMER_ID: 1, TOTAL: 20 }, { ID: 10, CUSTOMER_ID: 2, TOTAL: 20 }));
    await waitFor(async () => JSON.stringify(orderIds(await view(2))) === '[10,11]', 'customer 2 with orders 10 and 11');
    assert.deepEqual(orderIds(await view(1)), []);
  });

  it('soft-deletes, ignores tombstones and truncates, and rejects stale messages', async () => {
    await produce('erp.orders', 11, envelope('d', { ID: 11, CUSTOMER_ID: 2, TOTAL: 5.5 }, null));
    await producer.publish('erp.orders', [{ key: JSON.stringify({ ID: 11 }), value: null, timestamp: (ts += 1000) }]);
    await producer.publish('erp.orders', [{ key: null, value: { op: 't', before: null, after: null, source: {} }, timestamp: (ts += 1000) }]);
    await waitFor(async () => JSON.stringify(orderIds(await view(2))) === '[10]', 'order 11 gone from customer 2');
    const deleted = (await get('/orders?_st=DELETED')).body as Record<string, unknown>[];
    assert.deepEqual(deleted.map((o) => o.id), [11]);
    assert.equal((await get('/orders/11')).status, 404);
    assert.equal((await get('/orders/count')).body, 1);
    // An older update of customer 1 (earlier Kafka timestamp) arrives late: ignored.
    await produce('erp.customers', 1, envelope('u', null, { ID: 1, NAME: 'Old name', SCORE: 1 }), 1_600_000_000_000);
    await produce('erp.customers', 1, envelope('u', null, { ID: 1, SCORE: 9 }));
    await waitFor(async () => ((await get('/customers/1')).body as Record<string, unknown>).score === 9, 'score 9');
    assert.equal(((await get('/customers/1')).body as Record<string, unknown>).name, 'Ada');
    assert.equal((await view(1))?.name, 'Ada');
  });

  it('dead-letters poison messages with the reason and keeps the partition flowing', async () => {
    await producer.publish('erp.customers', [{ key: JSON.stringify({ ID: 3 }), value: 'not json', timestamp: (ts += 1000) }]);
    await producer.publish('erp.customers', [{ key: null, value: envelope('c', null, { NAME: 'no key' }), timestamp: (ts += 1000) }]);
    await produce('erp.customers', 3, envelope('c', null, { ID: 3, NAME: 'Cy' }));
    await waitFor(async () => (await view(3))?.name === 'Cy', 'customer 3 after the poison');
    const dead = await readTopic('erp.customers.dlq', 2);
    const reasons = dead.map((m) => JSON.parse(m.headers['mia-run-dead-letter'] ?? '{}') as { code: string; stage: string; projection: string; source: { topic: string } });
    assert.deepEqual(reasons.map((r) => r.code).sort(), ['MR_FD_INVALID_MESSAGE', 'MR_FD_MISSING_KEY']);
    assert.ok(reasons.every((r) => r.stage === 'ingestion' && r.projection === 'customers' && r.source.topic === 'erp.customers'));
    assert.ok(dead.some((m) => m.text() === 'not json'));
  });

  it('publishes sv-update v2 events for every single view change', async () => {
    const events = await readTopic('sv-customer');
    assert.equal(events[0]?.headers.messageSchema, JSON.stringify({ type: 'sv-update', version: 'v2.0.0' }));
    const values = events.map((e) => e.json<{ operation: { type: string }; primaryKeys: string[]; after: { customerId: number } | null }>());
    assert.ok(values.every((v) => v.primaryKeys[0] === 'customerId'));
    assert.ok(values.some((v) => v.operation.type === 'INSERT' && v.after?.customerId === 2));
    assert.ok(values.some((v) => v.operation.type === 'UPDATE'));
  });
});
