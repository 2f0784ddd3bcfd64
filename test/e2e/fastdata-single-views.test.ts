// Single-view features of fast-data.md §5 as a user runs them: a descriptor through the config pipeline, the
// runtime, Debezium messages on the bus, and the stored single views, error documents and topics read back.
// Validator with onInvalid delete/keep, upsert update vs replace, virtualDelete, noop detection, custom
// strategies, relation `where` (aggregation and strategy walks), `via`, composite relations, fn, const,
// select, object, sort, nested many, timeout + retry + sv-trigger dead letter, and a view imported from
// Mia files equal to its YAML twin. Runs on the embedded backends always and on Kafka + MongoDB protocol
// when KAFKA_BROKERS and MONGODB_URL are set.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadProject } from '../../src/config/load-project.js';
import type { ProjectConfig } from '../../src/config/types.js';
import type { Document, DocumentStore } from '../../src/ports/document-store.js';
import type { ConsumedMessage, EventBus } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { builtinBackends, type BackendFactories } from '../../src/runtime/registry.js';
import { waitFor } from '../helpers/saga-harness.js';

const fixtures = new URL('../fixtures/fast-data/', import.meta.url).pathname;
const brokers = process.env.KAFKA_BROKERS;
const mongoUrl = process.env.MONGODB_URL;

const descriptor = (s: string, backends: string): string => `
version: 1
name: fd-sv-${s}
${backends}
bus:
  ${backends.includes('kafka') ? `kind: kafka\n  brokers: [${brokers}]\n  clientId: fd-sv-${s}\n  ` : ''}topics:
    erp.customers.${s}: {}
    erp.orders.${s}: {}
    erp.lines.${s}: {}
    erp.countries.${s}: {}
    sv-customer.${s}: {}
    sv-failing.${s}.DLQ: {}
fastData:
  functions:
${['isVip', 'orderCount', 'hasTaxCode', 'nameNotEmpty', 'ordersToCustomers', 'explode', 'slowFn'].map((f) => `    ${f}: { module: ${fixtures}functions.mjs, export: ${f} }`).join('\n')}
  systemsOfRecord:
    erp:
      format: debezium
      projections:
        customers:
          topic: erp.customers.${s}
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: name, source: NAME }, { name: segment, source: SEGMENT }, { name: countryCode, source: COUNTRY }, { name: taxCode, source: TAX_CODE }]
        orders:
          topic: erp.orders.${s}
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: customerId, source: CUSTOMER_ID }, { name: tenant, source: TENANT }, { name: total, source: TOTAL }, { name: status, source: STATUS }, { name: note, source: NOTE }]
        lines:
          topic: erp.lines.${s}
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: orderId, source: ORDER_ID }, { name: tenant, source: TENANT }, { name: sku, source: SKU }, { name: qty, source: QTY }]
        countries:
          topic: erp.countries.${s}
          primaryKey: [code]
          fields: [{ name: code, source: CODE }, { name: label, source: LABEL }, { name: active, source: ACTIVE }]
  singleViews:
    customer-360:
      key: { customerId: customers.id }
      relations:
        - { name: order_customer, from: orders.customerId, to: customers.id }
        - { name: open_order_customer, from: orders.customerId, to: customers.id, where: { orders.status: open } }
        - { name: line_order, from: [lines.orderId, lines.tenant], to: [orders.id, orders.tenant] }
        - { name: customer_country, from: customers.countryCode, to: countries.code, where: { countries.active: true } }
      aggregation:
        customerId: customers.id
        name: customers.name
        taxCode: taxCode
        country: { from: countries, via: customer_country, fields: { code: code, label: label } }
        orders:
          from: orders
          via: order_customer
          many: true
          sort: { total: -1 }
          fields: { id: id, total: total, customer: customers.name, lines: { from: lines, many: true, fields: { sku: sku, qty: qty } } }
        openOrders: { from: orders, via: open_order_customer, many: true, value: id }
        vip: { fn: isVip }
        kind: { const: customer }
        tier: { select: [{ when: { "==": [customers.segment, { const: B2B }] }, value: { const: business } }], default: { const: retail } }
      validator: hasTaxCode
      publish: { topic: sv-customer.${s} }
    customer-slim:
      collection: customer-shared
      key: { customerId: customers.id }
      aggregation: { customerId: customers.id, name: customers.name, orderCount: { fn: orderCount } }
      upsert: update
      delete: virtualDelete
      validator: nameNotEmpty
      onInvalid: keep
      strategies: { orders: { fn: ordersToCustomers } }
      errors: { collection: slim-errors }
    failing:
      key: { customerId: customers.id }
      aggregation: { customerId: customers.id, boom: { fn: explode }, slow: { fn: slowFn } }
      timeout: 100ms
      retry: { attempts: 1, delay: 20ms }
      deadLetter: { topic: sv-failing.${s}.DLQ }
    customer-mia:
      erSchema: { file: ${fixtures}mia/erSchema.json }
      aggregation: { file: ${fixtures}mia/aggregation.json }
      key: { file: ${fixtures}mia/singleViewKey.json }
    customer-yaml:
      key: { customerId: customers.id }
      relations:
        - { name: cust_to_orders, from: customers.id, to: orders.customerId }
        - { name: cust_to_country, from: customers.countryCode, to: countries.code, where: { countries.active: true } }
        - { name: order_to_lines, from: [orders.id, orders.tenant], to: [lines.orderId, lines.tenant] }
      aggregation:
        customerId: customers.id
        name: customers.name
        countryLabel: { from: countries, via: cust_to_country, value: label }
        orders: { from: orders, via: cust_to_orders, many: true, fields: { id: id, total: total, lines: { from: lines, via: order_to_lines, many: true, fields: { sku: sku, qty: qty } } } }
        kind: { const: customer }
        priority: { const: 3 }
        active: { const: true }
        legacy: { const: "42" }
        vip: { fn: isVip }
        tier: { select: [{ when: { "==": [customers.segment, { const: B2B }] }, value: { const: business } }], default: { const: retail } }
        contact: { fields: { taxCode: taxCode } }
`;

interface Backend {
  readonly name: string;
  readonly skip: string | false;
  readonly yaml: string;
}

const backendsUnderTest: Backend[] = [
  { name: 'embedded store and bus', skip: false, yaml: '' },
  {
    name: 'Kafka + MongoDB protocol',
    skip: brokers === undefined || mongoUrl === undefined ? 'set KAFKA_BROKERS and MONGODB_URL to run' : false,
    yaml: `databases:\n  default: { kind: mongodb, url: "${mongoUrl}", database: fd_sv_SUFFIX }`,
  },
];

const dbz = (op: string, before: unknown, after: unknown): Record<string, unknown> => ({ before, after, source: { connector: 'postgresql', db: 'erp', ts_ms: 1 }, op, ts_ms: 2, transaction: null });
const strip = (doc: Document | null | undefined): Document | undefined => {
  if (doc == null) return undefined;
  const { _id, createdAt, updatedAt, ...rest } = doc;
  void [_id, createdAt, updatedAt];
  return rest;
};

for (const backend of backendsUnderTest) {
  describe(`single-view features (${backend.name})`, { skip: backend.skip }, () => {
    const s = randomBytes(3).toString('hex');
    let dir: string;
    let runtime: Runtime;
    let store: DocumentStore;
    let bus: EventBus;
    let ts = 1_700_000_000_000;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-sv-'));
      await writeFile(join(dir, 'project.yaml'), descriptor(s, backend.yaml.replace('SUFFIX', s)));
      const { config, diagnostics } = await loadProject(join(dir, 'project.yaml'), { env: {} });
      assert.deepEqual(diagnostics, []);
      // The runtime's own store and bus handles, so the test reads exactly what the engine wrote.
      const backends: BackendFactories = {
        ...builtinBackends,
        'store.embedded': (name, c, ctx) => (store = builtinBackends['store.embedded']!(name, c, ctx) as DocumentStore),
        'store.mongodb': (name, c, ctx) => (store = builtinBackends['store.mongodb']!(name, c, ctx) as DocumentStore),
        'bus.embedded': (name, c, ctx) => (bus = builtinBackends['bus.embedded']!(name, c, ctx) as EventBus),
        'bus.kafka': (name, c, ctx) => (bus = builtinBackends['bus.kafka']!(name, c, ctx) as EventBus),
      };
      runtime = createRuntime(config as ProjectConfig, { port: 0, host: '127.0.0.1', dataDir: join(dir, 'data'), logger: silentLogger, backends, roles: ['projections'] });
      await runtime.start();
    });

    after(async () => {
      await runtime?.stop('test done');
      await rm(dir, { recursive: true, force: true });
    });

    const produce = async (projection: string, key: Record<string, unknown>, value: unknown): Promise<void> => {
      await bus.publish(`erp.${projection}.${s}`, [{ key: JSON.stringify(key), value: value as never, timestamp: (ts += 1000) }]);
    };
    const doc = async (collection: string, filter: Document): Promise<Document | null> => store.collection(collection).findOne(filter);
    /**
     * Waits until projection records are stored. Scenarios that need related records on several topics store
     * them before the record that joins them, so that each assertion is about one feature; arrivals at once
     * are the subject of their own test.
     */
    const stored = async (records: readonly [string, Document][]): Promise<void> => {
      for (const [projection, filter] of records) await until(`${projection} ${JSON.stringify(filter)} stored`, async () => doc(projection, filter));
    };
    const until = async <T>(what: string, probe: () => Promise<T | undefined | null | false>): Promise<T> => waitFor(async () => (await probe()) || undefined, what, 2000) as Promise<T>;
    const errorsOf = async (collection: string, view: string, customerId: number): Promise<Document[]> => store.collection(collection).find({ type: view, 'identifier.customerId': customerId }, { sort: { createdAt: 1 } }).toArray();
    /** Every message on `topic` once it holds at least `atLeast` (end offsets read from the bus). */
    const readTopic = async (topic: string, atLeast: number): Promise<ConsumedMessage[]> => {
      const total = await waitFor(async () => {
        const [described] = (await bus.describeTopics()).filter((t) => t.name === topic);
        const n = (described?.partitions ?? []).reduce((sum, p) => sum + p.end - p.start, 0);
        return n >= atLeast ? n : undefined;
      }, `${atLeast} messages on ${topic}`, 2000);
      const out: ConsumedMessage[] = [];
      const sub = await bus.subscribe({ group: `reader-${Math.random()}`, topics: [topic], fromBeginning: true, handler: async (b) => void out.push(...b.messages) });
      try {
        await waitFor(() => out.length >= total, `${total} messages read from ${topic}`, 2000);
      } finally {
        await sub.stop();
      }
      return out;
    };

    it('joins through via, composite relations and where; sorts, nests, plucks; fn, const and select', async () => {
      await produce('countries', { CODE: 'IT' }, dbz('r', null, { CODE: 'IT', LABEL: 'Italy', ACTIVE: true }));
      await produce('orders', { ID: 10 }, dbz('c', null, { ID: 10, CUSTOMER_ID: 1, TENANT: 't1', TOTAL: 5, STATUS: 'open', NOTE: 'a' }));
      await produce('orders', { ID: 11 }, dbz('c', null, { ID: 11, CUSTOMER_ID: 1, TENANT: 't1', TOTAL: 20, STATUS: 'closed', NOTE: 'b' }));
      await produce('lines', { ID: 100 }, dbz('c', null, { ID: 100, ORDER_ID: 10, TENANT: 't1', SKU: 'pen', QTY: 2 }));
      await produce('lines', { ID: 101 }, dbz('c', null, { ID: 101, ORDER_ID: 10, TENANT: 't2', SKU: 'other-tenant', QTY: 9 }));
      await stored([['countries', { code: 'IT' }], ['orders', { id: 11 }], ['lines', { id: 100 }], ['lines', { id: 101 }]]);
      await produce('customers', { ID: 1 }, dbz('c', null, { ID: 1, NAME: 'Ada', SEGMENT: 'B2B', COUNTRY: 'IT', TAX_CODE: 'ADA1' }));
      const sv = await until('customer 1 with its line', async () => {
        const d = await doc('customer-360', { customerId: 1 });
        return (d?.orders as { lines: unknown[] }[] | undefined)?.[1]?.lines.length === 1 && d;
      });
      assert.deepEqual(strip(sv), {
        customerId: 1,
        name: 'Ada',
        taxCode: 'ADA1',
        country: { code: 'IT', label: 'Italy' },
        orders: [
          { id: 11, total: 20, customer: 'Ada', lines: [] },
          { id: 10, total: 5, customer: 'Ada', lines: [{ sku: 'pen', qty: 2 }] },
        ],
        openOrders: [10],
        vip: true,
        kind: 'customer',
        tier: 'business',
        __STATE__: 'PUBLIC',
      });
    });

    it('walks relation where and composite relations on strategies (inactive country, closed order, new line)', async () => {
      await produce('countries', { CODE: 'IT' }, dbz('u', { CODE: 'IT', LABEL: 'Italy', ACTIVE: true }, { CODE: 'IT', LABEL: 'Italy', ACTIVE: false }));
      await until('customer 1 without a country', async () => (await doc('customer-360', { customerId: 1 }))?.country === null);
      // An order closing leaves openOrders through the `where` on the orders side.
      await produce('orders', { ID: 10 }, dbz('u', null, { ID: 10, CUSTOMER_ID: 1, TENANT: 't1', TOTAL: 5, STATUS: 'closed', NOTE: 'a' }));
      await until('customer 1 without open orders', async () => JSON.stringify((await doc('customer-360', { customerId: 1 }))?.openOrders) === '[]');
      // A line reaches its customer through the composite relation (orderId + tenant) on the strategy walk;
      // a line of another tenant reaches no order.
      await produce('lines', { ID: 103 }, dbz('c', null, { ID: 103, ORDER_ID: 11, TENANT: 't2', SKU: 'wrong-tenant', QTY: 1 }));
      await produce('lines', { ID: 102 }, dbz('c', null, { ID: 102, ORDER_ID: 11, TENANT: 't1', SKU: 'ink', QTY: 3 }));
      const sv = await until('order 11 with line 102', async () => {
        const d = await doc('customer-360', { customerId: 1 });
        return (d?.orders as { lines: unknown[] }[] | undefined)?.[0]?.lines.length === 1 && d;
      });
      assert.deepEqual((sv.orders as { id: number; lines: unknown[] }[]).map((o) => [o.id, o.lines]), [[11, [{ sku: 'ink', qty: 3 }]], [10, [{ sku: 'pen', qty: 2 }]]]);
    });

    it('does not write nor publish an unchanged view (noop), and publishes a real change', async () => {
      const before = await doc('customer-360', { customerId: 1 });
      // Baseline: every event up to the one describing the stored document (the previous change's event is
      // published right after its view write).
      const events = await until('the sv-update of the stored document', async () => {
        const all = await readTopic(`sv-customer.${s}`, 1);
        const last = JSON.parse(all.at(-1)!.value!.toString()) as { after: Document | null };
        return JSON.stringify(last.after?.orders) === JSON.stringify(before?.orders) && all.length;
      });
      // A column the view never reads, then a change it does read, both on order 11 (one key, in order).
      await produce('orders', { ID: 11 }, dbz('u', null, { ID: 11, CUSTOMER_ID: 1, TENANT: 't1', TOTAL: 20, STATUS: 'closed', NOTE: 'changed' }));
      await produce('orders', { ID: 11 }, dbz('u', null, { ID: 11, CUSTOMER_ID: 1, TENANT: 't1', TOTAL: 21, STATUS: 'closed', NOTE: 'changed' }));
      const after = await until('order 11 total 21 in the view', async () => {
        const d = await doc('customer-360', { customerId: 1 });
        return (d?.orders as { total: number }[] | undefined)?.[0]?.total === 21 && d;
      });
      assert.deepEqual(after.createdAt, before!.createdAt);
      const all = await readTopic(`sv-customer.${s}`, events + 1);
      assert.equal(all.length, events + 1, 'one sv-update for the real change, none for the noop');
      const last = JSON.parse(all.at(-1)!.value!.toString()) as { operation: { type: string }; after: { orders: { total: number }[] } };
      assert.equal(last.operation.type, 'UPDATE');
      assert.equal(last.after.orders[0]!.total, 21);
    });

    it('validator false: VALIDATION_ERROR recorded; onInvalid delete removes the view, keep leaves it', async () => {
      await produce('customers', { ID: 2 }, dbz('c', null, { ID: 2, NAME: 'NoTax', SEGMENT: 'B2C', COUNTRY: 'FR', TAX_CODE: null }));
      await until('VALIDATION_ERROR for customer 2', async () => (await errorsOf('fd-sv-errors', 'customer-360', 2)).length > 0);
      assert.equal(await doc('customer-360', { customerId: 2 }), null);
      const [error] = await errorsOf('fd-sv-errors', 'customer-360', 2);
      assert.deepEqual({ ...error, _id: undefined, createdAt: undefined, updatedAt: undefined, errorMessage: undefined }, {
        _id: undefined, portfolioOrigin: `fd-sv-${s}`, type: 'customer-360', identifier: { customerId: 2 }, errorType: 'VALIDATION_ERROR', resolutionMethod: 'AGGREGATION', createdAt: undefined, updatedAt: undefined, errorMessage: undefined,
      });
      assert.ok(error!.createdAt instanceof Date);
      // customer-slim (onInvalid: keep) stored customer 2; an empty name is rejected and the stored view stays.
      await until('customer-slim of customer 2', async () => doc('customer-shared', { customerId: 2 }));
      await produce('customers', { ID: 2 }, dbz('u', null, { ID: 2, NAME: '', SEGMENT: 'B2C', COUNTRY: 'FR', TAX_CODE: null }));
      await until('VALIDATION_ERROR of customer-slim', async () => (await errorsOf('slim-errors', 'customer-slim', 2)).length > 0);
      assert.equal((await doc('customer-shared', { customerId: 2 }))?.name, 'NoTax');
      // customer-360 (onInvalid: delete): customer 1 losing its tax code removes its view.
      await produce('customers', { ID: 1 }, dbz('u', null, { ID: 1, NAME: 'Ada', SEGMENT: 'B2B', COUNTRY: 'IT', TAX_CODE: '' }));
      await until('customer-360 of customer 1 deleted', async () => (await doc('customer-360', { customerId: 1 })) === null);
      assert.equal((await errorsOf('fd-sv-errors', 'customer-360', 1)).at(-1)?.errorType, 'VALIDATION_ERROR');
    });

    it('upsert update keeps fields others wrote; a custom strategy routes orders; virtualDelete marks DELETED', async () => {
      await store.collection('customer-shared').updateOne({ customerId: 5 }, { $set: { customerId: 5, owner: 'crm' } }, { upsert: true });
      await produce('customers', { ID: 5 }, dbz('c', null, { ID: 5, NAME: 'Eve', SEGMENT: 'B2C', COUNTRY: 'FR', TAX_CODE: 'EVE5' }));
      const first = await until('customer-slim of customer 5', async () => {
        const d = await doc('customer-shared', { customerId: 5 });
        return d?.name === 'Eve' && d;
      });
      assert.deepEqual(strip(first), { customerId: 5, owner: 'crm', name: 'Eve', orderCount: 0, __STATE__: 'PUBLIC' });
      // orders is not in customer-slim's aggregation: only the custom strategy routes its changes there.
      await produce('orders', { ID: 50 }, dbz('c', null, { ID: 50, CUSTOMER_ID: 5, TENANT: 't1', TOTAL: 1, STATUS: 'open', NOTE: '' }));
      await until('orderCount 1', async () => (await doc('customer-shared', { customerId: 5 }))?.orderCount === 1);
      // The order moves to customer 2: the generator yields the old and the new customer.
      await produce('orders', { ID: 50 }, dbz('u', null, { ID: 50, CUSTOMER_ID: 2, TENANT: 't1', TOTAL: 1, STATUS: 'open', NOTE: '' }));
      await until('orderCount of customer 5 back to 0', async () => (await doc('customer-shared', { customerId: 5 }))?.orderCount === 0);
      await produce('customers', { ID: 5 }, dbz('d', { ID: 5, NAME: 'Eve', SEGMENT: 'B2C', COUNTRY: 'FR', TAX_CODE: 'EVE5' }, null));
      const deleted = await until('customer-slim of customer 5 DELETED', async () => {
        const d = await doc('customer-shared', { customerId: 5 });
        return d?.__STATE__ === 'DELETED' && d;
      });
      assert.equal(deleted.owner, 'crm');
      assert.equal(deleted.name, 'Eve');
    });

    it('records UNKNOWN_ERROR, retries, then dead-letters in sv-trigger format; a timeout records SINGLE_VIEW_AGGREGATION_MAX_TIME', async () => {
      await produce('customers', { ID: 3 }, dbz('c', null, { ID: 3, NAME: 'Boom', SEGMENT: 'B2C', COUNTRY: 'FR', TAX_CODE: 'B3' }));
      const [dead] = await readTopic(`sv-failing.${s}.DLQ`, 1);
      const value = JSON.parse(dead!.value!.toString()) as Record<string, unknown>;
      assert.deepEqual(value, { type: 'aggregation', singleViewName: 'failing', singleViewIdentifier: { customerId: 3 }, retry: { attempts: 1, lastError: { type: 'UNKNOWN_ERROR', message: 'boom: cannot aggregate' } } });
      assert.equal(dead!.key, JSON.stringify({ customerId: 3 }));
      assert.deepEqual(JSON.parse(dead!.headers.messageSchema!), { type: 'sv-trigger', version: 'v1.0.0' });
      assert.equal((JSON.parse(dead!.headers['mia-run-dead-letter']!) as { code: string }).code, 'MR_FD_AGGREGATION_FAILED');
      const errors = await errorsOf('fd-sv-errors', 'failing', 3);
      assert.deepEqual(errors.map((e) => e.errorType), ['UNKNOWN_ERROR', 'UNKNOWN_ERROR'], 'the first attempt and one retry');
      assert.equal(await doc('failing', { customerId: 3 }), null);
      assert.equal(await store.collection('fd-sv-retries').count({}), 0);

      await produce('customers', { ID: 4 }, dbz('c', null, { ID: 4, NAME: 'Slow', SEGMENT: 'B2C', COUNTRY: 'FR', TAX_CODE: 'S4' }));
      const timeout = await until('SINGLE_VIEW_AGGREGATION_MAX_TIME for customer 4', async () => (await errorsOf('fd-sv-errors', 'failing', 4))[0]);
      assert.equal(timeout.errorType, 'SINGLE_VIEW_AGGREGATION_MAX_TIME');
      assert.match(String(timeout.errorMessage), /Aggregation exceeding configured time limit \(100 ms\)/);
    });

    it('converges when a customer and its related records arrive at once on four topics', async () => {
      // Four batches of different partitions overlap: without one computation per identifier at a time, an
      // older computation of customer 7 could be flushed over a newer one (about one run in five).
      await produce('customers', { ID: 7 }, dbz('c', null, { ID: 7, NAME: 'Zed', SEGMENT: 'B2C', COUNTRY: 'ES', TAX_CODE: 'Z7' }));
      await produce('countries', { CODE: 'ES' }, dbz('c', null, { CODE: 'ES', LABEL: 'Spain', ACTIVE: true }));
      await produce('orders', { ID: 70 }, dbz('c', null, { ID: 70, CUSTOMER_ID: 7, TENANT: 't1', TOTAL: 2, STATUS: 'open', NOTE: '' }));
      await produce('lines', { ID: 700 }, dbz('c', null, { ID: 700, ORDER_ID: 70, TENANT: 't1', SKU: 'cup', QTY: 4 }));
      for (const view of ['customer-mia', 'customer-yaml']) {
        await until(`${view} of customer 7 complete`, async () => {
          const d = await doc(view, { customerId: 7 });
          return d?.countryLabel === 'Spain' && JSON.stringify(d.orders) === JSON.stringify([{ id: 70, total: 2, lines: [{ sku: 'cup', qty: 4 }] }]);
        });
      }
    });

    it('builds the view imported from Mia files exactly like its YAML twin', async () => {
      // Related records first (stored before the customer arrives): see `stored` above.
      await produce('countries', { CODE: 'DE' }, dbz('c', null, { CODE: 'DE', LABEL: 'Germany', ACTIVE: true }));
      await produce('orders', { ID: 60 }, dbz('c', null, { ID: 60, CUSTOMER_ID: 6, TENANT: 't1', TOTAL: 30, STATUS: 'open', NOTE: '' }));
      await produce('lines', { ID: 600 }, dbz('c', null, { ID: 600, ORDER_ID: 60, TENANT: 't1', SKU: 'book', QTY: 1 }));
      await stored([['countries', { code: 'DE' }], ['orders', { id: 60 }], ['lines', { id: 600 }]]);
      await produce('customers', { ID: 6 }, dbz('c', null, { ID: 6, NAME: 'Mia', SEGMENT: 'B2B', COUNTRY: 'DE', TAX_CODE: 'M6' }));
      const mia = await until('customer-mia of customer 6 complete', async () => {
        const d = await doc('customer-mia', { customerId: 6 });
        return d?.countryLabel === 'Germany' && (d.orders as { lines: unknown[] }[] | undefined)?.[0]?.lines.length === 1 && d;
      });
      const yaml = await until('customer-yaml of customer 6 complete', async () => {
        const d = await doc('customer-yaml', { customerId: 6 });
        return d?.countryLabel === 'Germany' && (d.orders as { lines: unknown[] }[] | undefined)?.[0]?.lines.length === 1 && d;
      });
      assert.deepEqual(strip(mia), strip(yaml));
      assert.deepEqual(strip(mia), {
        customerId: 6, name: 'Mia', countryLabel: 'Germany', orders: [{ id: 60, total: 30, lines: [{ sku: 'book', qty: 1 }] }],
        kind: 'customer', priority: 3, active: true, legacy: '42', vip: true, tier: 'business', contact: { taxCode: 'M6' }, __STATE__: 'PUBLIC',
      });
    });
  });
}
