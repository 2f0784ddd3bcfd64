// Batch read-ahead of single-view recomputation (single-view/prefetch.ts): the documents built from records
// read ahead for many identifiers at once are exactly those built identifier by identifier (two levels,
// onStates, sort, relation `where` on both sides, 1:1 joins, a missing base, a composite link, an array
// linking field left to the per-record query), and the read-ahead costs one query per tree node.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import type { SingleViewConfig } from '../../../src/config/sections/fast-data.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { Collection } from '../../../src/ports/document-store.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { aggregate, findBase, type AggregateDeps } from '../../../src/projections/single-view/aggregate.js';
import { compileView } from '../../../src/projections/single-view/model.js';
import { prefetchAggregation } from '../../../src/projections/single-view/prefetch.js';

const config: SingleViewConfig = {
  key: { customerId: 'customers.id' },
  relations: [
    { name: 'oc', from: 'orders.customerId', to: 'customers.id', where: { 'orders.status': { $ne: 'void' } } },
    { name: 'lo', from: ['lines.orderId', 'lines.tenant'], to: ['orders.id', 'orders.tenant'] },
    { name: 'cc', from: 'customers.country', to: 'countries.code', where: { 'countries.active': true, 'customers.kind': 'person' } },
  ],
  aggregation: {
    customerId: 'customers.id',
    name: 'customers.name',
    country: { from: 'countries', via: 'cc', fields: { code: 'code', label: 'label' } },
    orders: { from: 'orders', via: 'oc', many: true, sort: { total: -1 }, fields: { id: 'id', total: 'total', lines: { from: 'lines', via: 'lo', many: true, fields: { sku: 'sku' } } } },
    first: { from: 'orders', via: 'oc', value: 'id' },
  },
} as unknown as SingleViewConfig;

test('records read ahead build the same documents as per-identifier queries, with one query per tree node', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-prefetch-'));
  const store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: join(dir, 'store') }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await store.start();
  try {
    const view = compileView('c360', config);
    const pk: Record<string, string[]> = { customers: ['id'], orders: ['id'], lines: ['id'], countries: ['code'] };
    let queries = 0;
    // Only find and findOne are used by the aggregation; both are counted.
    const counted = (c: Collection): Collection =>
      ({ name: c.name, find: (...args: Parameters<Collection['find']>) => (queries++, c.find(...args)), findOne: (...args: Parameters<Collection['findOne']>) => (queries++, c.findOne(...args)) }) as unknown as Collection;
    const deps: AggregateDeps = { projection: (name) => ({ collection: counted(store.collection(name)), primaryKey: pk[name]! }), functions: new Map(), logger: silentLogger };
    const S = { __STATE__: 'PUBLIC' };
    await store.collection('countries').insertMany([{ code: 'IT', label: 'Italy', active: true, ...S }, { code: 'FR', label: 'France', active: false, ...S }]);
    await store.collection('customers').insertMany([
      { id: 1, name: 'a', country: 'IT', kind: 'person', ...S },
      { id: 2, name: 'b', country: 'FR', kind: 'person', ...S },
      { id: 3, name: 'c', country: 'IT', kind: 'company', ...S },
      { id: 4, name: 'd', __STATE__: 'DELETED' },
      { id: 5, name: 'e', ...S },
    ]);
    await store.collection('orders').insertMany([
      { id: 10, customerId: 1, tenant: 't', total: 5, status: 'open', ...S },
      { id: 11, customerId: 1, tenant: 't', total: 9, status: 'open', ...S },
      { id: 12, customerId: 1, tenant: 't', total: 7, status: 'void', ...S },
      { id: 13, customerId: 2, tenant: 'u', total: 1, status: 'open', __STATE__: 'DELETED' },
      { id: 14, customerId: 3, tenant: 't', total: 3, status: 'open', ...S },
      { id: 15, customerId: '3', tenant: 't', total: 4, status: 'open', ...S },
    ]);
    await store.collection('lines').insertMany([
      { id: 100, orderId: 10, tenant: 't', sku: 'x', ...S },
      { id: 101, orderId: 10, tenant: 'u', sku: 'wrong tenant', ...S },
      { id: 102, orderId: 11, tenant: 't', sku: 'y', ...S },
      { id: 103, orderId: 11, tenant: 't', sku: 'z', ...S },
      { id: 104, orderId: 14, tenant: 't', sku: 'w', ...S },
    ]);
    const ids = [1, 2, 3, 4, 5, 6].map((customerId) => ({ customerId }));
    const build = async (d: AggregateDeps): Promise<unknown[]> =>
      Promise.all(ids.map(async (id) => {
        const base = await findBase(view, id, d);
        return base === null ? null : aggregate(view, base, d);
      }));

    queries = 0;
    const expected = await build(deps);
    const perIdentifier = queries;
    queries = 0;
    const prefetched = await prefetchAggregation(view, ids, deps);
    const readAhead = queries;
    const actual = await build({ ...deps, prefetched });
    assert.deepEqual(actual, expected);
    assert.equal(queries, readAhead, 'nothing is queried after the read-ahead');
    assert.equal(readAhead, 5, 'base, countries, orders (twice: many and 1:1), lines');
    assert.ok(perIdentifier > 15, String(perIdentifier));
    assert.deepEqual((expected[0] as Record<string, unknown>).orders, [{ id: 11, total: 9, lines: [{ sku: 'y' }, { sku: 'z' }] }, { id: 10, total: 5, lines: [{ sku: 'x' }] }]);
    assert.deepEqual((expected[0] as Record<string, unknown>).country, { code: 'IT', label: 'Italy' });
    assert.equal((expected[2] as Record<string, unknown>).country, null);
    assert.equal(expected[3], null);

    // An array linking field matches by MongoDB rules: left to the per-record query, same result.
    await store.collection('orders').insertOne({ id: 16, customerId: [1, 5], tenant: 't', total: 2, status: 'open', ...S });
    queries = 0;
    const again = await build(deps);
    const prefetchedAgain = await prefetchAggregation(view, ids, deps);
    assert.deepEqual(await build({ ...deps, prefetched: prefetchedAgain }), again);
    assert.deepEqual(((again[4] as Record<string, unknown>).orders as { id: number }[]).map((o) => o.id), [16]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
