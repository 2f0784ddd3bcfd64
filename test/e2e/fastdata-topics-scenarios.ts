// Change events between Fast Data stages (fast-data.md §4), as a user sees them on topics and through the
// gateway: pr-update v2/v1 after projection writes, sv-update v1, sv-triggers instead of computing, SV
// chaining, consumption of recorded Mia pr-update v1/v2 and sv-trigger messages. Shared by the embedded
// suite and the Kafka + MongoDB protocol suite (topic names carry a suffix there).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { DocumentStore } from '../../src/ports/document-store.js';
import type { ConsumedMessage, EventBus, OutgoingMessage } from '../../src/ports/event-bus.js';
import { waitFor } from '../helpers/saga-harness.js';

/** The descriptor; every topic name gets `s` appended. */
export const topicsYaml = (s: string): string => `
version: 1
name: fd-topics
bus:
  topics:
    erp.customers${s}: {}
    erp.orders${s}: { partitions: 2 }
    orders.pr-update${s}: {}
    customers.pr-update${s}: {}
    sv-customer${s}: {}
    sv-summary${s}: {}
    customer-tr.sv-trigger${s}: {}
    split.sv-trigger${s}: {}
    ext.items.pr-update${s}: {}
    ext.stock.pr-update${s}: {}
    mia.stock.sv-trigger${s}: {}
fastData:
  systemsOfRecord:
    erp:
      format: debezium
      projections:
        customers:
          topic: erp.customers${s}
          primaryKey: [id]
          fields: [{ name: id, source: ID, cast: toInteger }, { name: name, source: NAME }]
          publish: { topic: customers.pr-update${s}, version: v1 }
        orders:
          topic: erp.orders${s}
          primaryKey: [id]
          fields: [{ name: id, source: ID, cast: toInteger }, { name: customerId, source: CUSTOMER_ID, cast: toInteger }]
          publish: { topic: orders.pr-update${s} }
    mia:
      format: db2
      projections:
        items:
          topic: mia.items.ingestion
          external: { prUpdateTopic: ext.items.pr-update${s} }
          primaryKey: [sku]
          fields: [{ name: sku, source: SKU }, { name: label, source: LABEL }]
        stock:
          topic: mia.stock.ingestion
          external: { prUpdateTopic: ext.stock.pr-update${s} }
          primaryKey: [sku]
          fields: [{ name: sku, source: SKU }, { name: qty, source: QTY }]
  singleViews:
    customer-360:
      key: { customerId: customers.id }
      relations: [{ from: orders.customerId, to: customers.id }]
      aggregation: { customerId: customers.id, name: customers.name, orders: { from: orders, many: true, fields: { id: id } } }
      publish: { topic: sv-customer${s}, version: v1, includeBeforeAfter: true }
    customer-summary:
      key: { customerId: customer-360.customerId }
      aggregation: { customerId: customer-360.customerId, label: customer-360.name, orders: customer-360.orders }
      publish: { topic: sv-summary${s} }
    customer-tr:
      key: { customerId: customers.id }
      relations: [{ from: orders.customerId, to: customers.id }]
      aggregation: { customerId: customers.id, orders: { from: orders, many: true, fields: { id: id } } }
      triggers: { publish: { topic: customer-tr.sv-trigger${s} } }
    customer-split:
      key: { customerId: customers.id }
      relations: [{ from: orders.customerId, to: customers.id }]
      aggregation: { customerId: customers.id, orders: { from: orders, many: true, fields: { id: id } } }
      triggers: { publish: { topic: split.sv-trigger${s} }, consume: { topic: split.sv-trigger${s} } }
    customer-core:
      key: { customerId: customers.id }
      aggregation: { customerId: customers.id, name: customers.name }
    customer-card:
      key: { customerId: customer-core.customerId }
      aggregation: { customerId: customer-core.customerId, title: customer-core.name }
    item-view:
      key: { sku: items.sku }
      aggregation: { sku: items.sku, label: items.label }
    stock-view:
      key: { sku: stock.sku }
      aggregation: { sku: stock.sku, qty: stock.qty }
      triggers: { consume: { topic: mia.stock.sv-trigger${s} } }
endpoints:
  - { basePath: /customer-360, target: { view: customer-360 }, public: true }
  - { basePath: /customer-summary, target: { view: customer-summary }, public: true }
  - { basePath: /customer-split, target: { view: customer-split }, public: true }
  - { basePath: /customer-card, target: { view: customer-card }, public: true }
  - { basePath: /item-view, target: { view: item-view }, public: true }
  - { basePath: /stock-view, target: { view: stock-view }, public: true }
`;

export interface TopicsEnv {
  readonly url: string;
  /** A bus handle to produce and read with. */
  readonly bus: EventBus;
  /** The store the runtime's default database uses (the "shared MongoDB" a Mia Real-Time Updater writes). */
  readonly store: DocumentStore;
  /** Topic suffix. */
  readonly s: string;
  /** Dead-letter topic of a consumed topic. */
  readonly dlq: (topic: string) => string;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const dbz = (op: string, before: unknown, after: unknown): Record<string, unknown> => ({ before, after, source: { connector: 'postgresql', db: 'erp', ts_ms: 1 }, op, ts_ms: 2, transaction: null });

/** The §4 scenarios against `env()` (set up by the caller's `before`). */
export function topicScenarios(env: () => TopicsEnv): void {
  let ts = 1_700_000_000_000;
  const produce = async (topic: string, key: unknown, value: unknown, headers?: Record<string, string>, timestamp = (ts += 1000)): Promise<void> => {
    const message: OutgoingMessage = { key: typeof key === 'string' ? key : JSON.stringify(key), value: value as OutgoingMessage['value'], timestamp, ...(headers ? { headers } : {}) };
    await env().bus.publish(`${topic}${env().s}`, [message]);
  };
  /** Messages of a topic (suffixed unless it is a dead-letter topic), once `until` holds for them. */
  const readTopic = async (name: string, atLeast: number, until: (messages: ConsumedMessage[]) => boolean = () => true): Promise<ConsumedMessage[]> => {
    const topic = name.endsWith('.DLQ') || name.endsWith('.dlq') ? name : `${name}${env().s}`;
    await waitFor(async () => (await env().bus.describeTopics()).some((t) => t.name === topic), `topic ${topic}`, 2000);
    const out: ConsumedMessage[] = [];
    const sub = await env().bus.subscribe({ group: `reader-${topic}-${Math.random()}`, topics: [topic], fromBeginning: true, handler: async (b) => void out.push(...b.messages) });
    try {
      await waitFor(() => out.length >= atLeast && until(out), `${atLeast} messages on ${topic}`, 2000);
    } finally {
      await sub.stop();
    }
    return out.sort((a, b) => a.timestamp - b.timestamp || a.offset - b.offset);
  };
  const get = async (path: string): Promise<Record<string, unknown> | undefined> => {
    const res = await fetch(`${env().url}${path}`);
    return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
  };
  const json = (m: ConsumedMessage): Record<string, unknown> => m.json<Record<string, unknown>>();

  it('pr-update v2 (default) and v1 follow every applied projection write, keyed by the primary key; stale messages emit nothing', async () => {
    await produce('erp.customers', { ID: 41 }, dbz('c', null, { ID: 41, NAME: 'Ada' }));
    await produce('erp.customers', { ID: 42 }, dbz('c', null, { ID: 42, NAME: 'Grace' }));
    await waitFor(async () => (await get('/customer-360/42')) !== undefined, 'customer 42 before its orders');
    await produce('erp.orders', { ID: 7 }, dbz('c', null, { ID: 7, CUSTOMER_ID: 41 }));
    const moved = (ts += 1000);
    await produce('erp.orders', { ID: 7 }, dbz('u', { ID: 7, CUSTOMER_ID: 41 }, { ID: 7, CUSTOMER_ID: 42 }), undefined, moved);
    await produce('erp.orders', { ID: 7 }, dbz('u', null, { ID: 7, CUSTOMER_ID: 99 }), undefined, moved - 5000); // stale
    await waitFor(async () => ((await get('/customer-360/42'))?.orders as unknown[] | undefined)?.length === 1, 'customer 42 with order 7');

    const orders = await readTopic('orders.pr-update', 2);
    assert.equal(orders.length, 2, 'INSERT and UPDATE, nothing for the stale message');
    const update = orders[1]!;
    assert.deepEqual(JSON.parse(update.key ?? ''), { id: 7 });
    assert.deepEqual(JSON.parse(update.headers.messageSchema ?? ''), { type: 'pr-update', version: 'v2.0.0' });
    const ingestion = (JSON.parse(update.headers.context ?? '{}') as { ingestion: Record<string, unknown> }).ingestion;
    assert.deepEqual(Object.keys(ingestion), ['topic', 'partitionID', 'offset', 'timestamp', 'pollTimestamp']);
    assert.equal(ingestion.topic, `erp.orders${env().s}`);
    assert.equal(typeof ingestion.partitionID, 'number');
    assert.match(String(ingestion.offset), /^\d+$/);
    assert.equal(ingestion.timestamp, new Date(moved).toISOString());
    assert.match(String(ingestion.pollTimestamp), ISO);
    const value = json(update);
    assert.deepEqual(Object.keys(value), ['operation', 'source', 'storageNamespace', 'primaryKeys', 'before', 'after']);
    assert.equal((value.operation as { type: string }).type, 'UPDATE');
    assert.match((value.operation as { timestamp: string }).timestamp, ISO);
    assert.deepEqual([value.source, value.storageNamespace, value.primaryKeys], ['erp', 'orders', ['id']]);
    const before = value.before as Record<string, unknown>;
    const after = value.after as Record<string, unknown>;
    assert.deepEqual([before.id, before.customerId, before.__STATE__, after.id, after.customerId, after.__STATE__], [7, 41, 'PUBLIC', 7, 42, 'PUBLIC']);
    assert.equal('_id' in after, false);
    assert.equal(json(orders[0]!).before, null);

    await produce('erp.customers', { ID: 41 }, dbz('d', { ID: 41, NAME: 'Ada' }, null));
    const customers = await readTopic('customers.pr-update', 3);
    const insert = json(customers[0]!);
    assert.deepEqual(Object.keys(insert), ['operationType', 'operationTimestamp', 'documentId', 'projectionName', 'source', 'primaryKeys', 'before', 'after', '__internal__kafkaInfo']);
    assert.deepEqual([insert.operationType, insert.projectionName, insert.source, insert.primaryKeys, insert.before], ['INSERT', 'customers', 'erp', ['id'], null]);
    assert.equal(typeof insert.documentId, 'string');
    assert.deepEqual(insert.__internal__kafkaInfo, { topic: `erp.customers${env().s}`, partition: 0, offset: '0', key: { ID: 41 }, timestamp: new Date(ts - 4000).toISOString() });
    assert.equal(customers[0]!.headers.messageSchema, undefined, 'v1 has no messageSchema header');
    const deleted = json(customers.find((m) => json(m).operationType === 'DELETE')!);
    assert.equal('after' in deleted, false, 'v1 DELETE has no after');
    assert.equal((deleted.before as Record<string, unknown>).name, 'Ada');
  });

  it('sv-update v1 with includeBeforeAfter, and SV chaining: a view reading another view follows it in-process', async () => {
    const isMove = (v: Record<string, unknown>): boolean => v.operationType === 'UPDATE' && (v.after as { customerId: number }).customerId === 42 && (v.after as { orders: unknown[] }).orders.length === 1;
    const events = await readTopic('sv-customer', 3, (list) => list.map(json).some(isMove));
    const moved = events.map(json).find(isMove);
    assert.ok(moved, 'an UPDATE of customer 42 carrying order 7');
    assert.deepEqual(Object.keys(moved), ['operationType', 'operationTimestamp', 'documentId', 'singleViewName', 'source', 'before', 'after', '__internal__kafkaInfo']);
    assert.deepEqual([moved.singleViewName, moved.source, typeof moved.documentId], ['customer-360', `fd-topics${env().s}`, 'string']);
    assert.equal((moved.__internal__kafkaInfo as { topic: string }).topic, `erp.customers${env().s}`);

    const summary = await waitFor(async () => {
      const doc = await get('/customer-summary/42');
      return (doc?.orders as unknown[] | undefined)?.length === 1 ? doc : undefined;
    }, 'customer-summary 42 with order 7');
    assert.deepEqual([summary.customerId, summary.label, summary.orders], [42, 'Grace', [{ id: 7 }]]);
    await waitFor(async () => (await get('/customer-summary/41')) === undefined, 'customer-summary 41 deleted with customer 41');
    // customer-core has no publish: its changes reach customer-card without touching the bus.
    await waitFor(async () => (await get('/customer-card/42'))?.title === 'Grace', 'customer-card 42');
    await waitFor(async () => (await get('/customer-card/41')) === undefined, 'customer-card 41 deleted with customer 41');
    assert.equal((await env().bus.describeTopics()).some((t) => t.name.includes('mia-run-chain')), false);
    // A refresh of the read view (fast-data operations) chains the same way.
    await env().store.collection('customer-core').updateOne({ customerId: 42 }, { $set: { name: 'stale' } });
    await env().store.collection('customer-card').updateOne({ customerId: 42 }, { $set: { title: 'stale' } });
    const refresh = await fetch(`${env().url}/-/fast-data/refresh/customer-core`, { method: 'POST' });
    assert.equal(refresh.status, 200, await refresh.text());
    assert.equal((await get('/customer-card/42'))?.title, 'Grace');
    const chained = await readTopic('sv-summary', 2);
    assert.deepEqual(JSON.parse(chained[0]!.headers.messageSchema ?? ''), { type: 'sv-update', version: 'v2.0.0' });
  });

  it('triggers.publish: one sv-trigger per affected identifier (old and new parent) instead of computing here', async () => {
    const triggers = await readTopic('customer-tr.sv-trigger', 4);
    const byCustomer = new Map(triggers.map((m) => [(json(m).singleViewIdentifier as { customerId: number }).customerId, m]));
    assert.deepEqual([...byCustomer.keys()].sort(), [41, 42]);
    const t = triggers.map(json).find((v) => (v.change as { projectionName?: string } | undefined)?.projectionName === 'orders' && (v.singleViewIdentifier as { customerId: number }).customerId === 42)!;
    assert.ok(t, 'a trigger for customer 42 caused by order 7');
    assert.deepEqual(Object.keys(t), ['type', 'singleViewName', 'singleViewIdentifier', 'change', '__internal__kafkaInfo']);
    assert.deepEqual([t.type, t.singleViewName], ['aggregation', 'customer-tr']);
    const change = t.change as { projectionName: string; projectionIdentifier: unknown; data: Record<string, unknown> };
    assert.deepEqual(change.projectionIdentifier, { id: 7 });
    assert.deepEqual([change.data.id, change.data.__STATE__, typeof change.data.__internal__counter, change.data.__internal__counterType], [7, 'PUBLIC', 'number', 'timestamp']);
    assert.equal((t.__internal__kafkaInfo as { topic: string }).topic, `erp.orders${env().s}`);
    const m = triggers.find((x) => json(x) === t) ?? byCustomer.get(42)!;
    assert.deepEqual(JSON.parse(m.headers.messageSchema ?? ''), { type: 'sv-trigger', version: 'v1.0.0' });
    assert.deepEqual(JSON.parse(byCustomer.get(42)!.key ?? ''), { customerId: 42 });
    assert.equal(await env().store.collection('customer-tr').count({}), 0, 'the view is computed elsewhere');
    // Publishing and consuming the same trigger topic splits the stages across the bus.
    await waitFor(async () => ((await get('/customer-split/42'))?.orders as unknown[] | undefined)?.length === 1, 'customer-split 42 computed from its own triggers');
  });

  it('external projections: recorded Mia pr-update v2 and v1 messages recompute the views; projections are not written here', async () => {
    const items = env().store.collection('items');
    await items.insertOne({ sku: 'A', label: 'Apple', __STATE__: 'PUBLIC' });
    await produce('ext.items.pr-update', { sku: 'A' }, {
      operation: { type: 'INSERT', timestamp: '2023-05-26T16:32:24.812Z' }, source: 'mia', storageNamespace: 'items', primaryKeys: ['sku'], before: null, after: { sku: 'A', label: 'Apple', __STATE__: 'PUBLIC' },
    }, { messageSchema: JSON.stringify({ type: 'pr-update', version: 'v2.0.0' }), context: JSON.stringify({ ingestion: { topic: 'mia.items.ingestion', partitionID: 0, offset: '1', timestamp: '2023-05-26T16:32:24.745Z', pollTimestamp: '2023-05-26T16:32:24.901Z' } }) });
    await waitFor(async () => (await get('/item-view/A'))?.label === 'Apple', 'item A from a v2 pr-update');

    await items.updateOne({ sku: 'A' }, { $set: { label: 'Apricot' } });
    await produce('ext.items.pr-update', { sku: 'A' }, {
      operationType: 'UPSERT', operationTimestamp: '2023-05-26T16:33:00.000Z', documentId: '6470d1e8c1a5f2a4b1e0c9d3', projectionName: 'items', source: 'mia', primaryKeys: ['sku'],
      before: { sku: 'A', label: 'Apple', __STATE__: 'PUBLIC' }, after: { sku: 'A', label: 'Apricot', __STATE__: 'PUBLIC' },
      __internal__kafkaInfo: { topic: 'mia.items.ingestion', partition: 0, offset: '2', key: { SKU: 'A' }, timestamp: '2023-05-26T16:33:00.000Z' },
    });
    await waitFor(async () => (await get('/item-view/A'))?.label === 'Apricot', 'item A from a v1 UPSERT');

    await items.updateOne({ sku: 'A' }, { $set: { __STATE__: 'DELETED' } });
    await produce('ext.items.pr-update', { sku: 'A' }, { operationType: 'DELETE', operationTimestamp: '2023-05-26T16:34:00.000Z', documentId: '6470d1e8c1a5f2a4b1e0c9d3', projectionName: 'items', source: 'mia', primaryKeys: ['sku'], before: { sku: 'A', label: 'Apricot', __STATE__: 'PUBLIC' } });
    await waitFor(async () => (await get('/item-view/A')) === undefined, 'item A deleted from a v1 DELETE');

    await produce('ext.items.pr-update', { sku: 'B' }, { hello: 'not a pr-update' });
    const dead = await readTopic(env().dlq(`ext.items.pr-update${env().s}`), 1);
    assert.equal(dead[0]!.headers['mia-dlq-error-code'], 'MR_FD_INVALID_CHANGE_EVENT');
    assert.equal(await items.count({}), 1, 'mia-run never wrote the external projection');
    assert.equal((await items.listIndexes()).some((i) => i.name === 'mia_primary_key_index'), false, 'its writer owns its key indexes');
  });

  it('triggers.consume: Mia sv-trigger aggregation messages recompute the view; patch triggers are dead-lettered', async () => {
    await env().store.collection('stock').insertOne({ sku: 'S1', qty: 3, __STATE__: 'PUBLIC' });
    await produce('mia.stock.sv-trigger', { sku: 'S1' }, { type: 'patch', singleViewName: 'stock-view', singleViewIdentifier: { sku: 'S1' } });
    await produce('mia.stock.sv-trigger', { sku: 'S1' }, {
      type: 'aggregation', singleViewName: 'stock-view', singleViewIdentifier: { sku: 'S1' },
      change: { projectionName: 'stock', projectionIdentifier: { sku: 'S1' }, data: { sku: 'S1', qty: 3, __STATE__: 'PUBLIC', __internal__counter: 1685118744745, __internal__counterType: 'timestamp' } },
      __internal__kafkaInfo: { topic: 'mia.stock.ingestion', partition: 0, offset: '151', key: { SKU: 'S1' }, timestamp: '2023-05-26T16:32:24.745Z' },
    });
    await waitFor(async () => (await get('/stock-view/S1'))?.qty === 3, 'stock-view S1 from an aggregation trigger');
    const dead = await readTopic(env().dlq(`mia.stock.sv-trigger${env().s}`), 1);
    assert.equal(dead[0]!.headers['mia-dlq-error-code'], 'MR_FD_UNSUPPORTED_TRIGGER');
    assert.equal(json(dead[0]!).type, 'patch');
  });
}
