import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isMiaRunError } from '../../../src/errors.js';
import { BUILTIN_FORMATS } from '../../../src/projections/formats/index.js';
import { msg, startHarness, type Harness } from './harness.js';

const dbz = (op: string, before: unknown, after: unknown): Record<string, unknown> => ({ op, before, after, source: {} });
const customers = { topic: 'customers', primaryKey: ['id'], fields: [{ name: 'id', source: 'ID', cast: 'toInteger' }, { name: 'name', source: 'NAME' }, { name: 'since', source: 'SINCE', cast: 'toDate' }, { name: 'vip', source: 'VIP', cast: 'toBoolean', required: true }] };
const orders = { topic: 'orders', primaryKey: ['id'], fields: [{ name: 'id', source: 'ID', cast: 'toInteger' }, { name: 'customerId', source: 'CUSTOMER_ID', cast: 'toInteger' }] };
const lines = { topic: 'lines', primaryKey: ['orderId', 'n'], fields: [{ name: 'orderId', source: 'ORDER_ID', cast: 'toInteger' }, { name: 'n', source: 'N', cast: 'toInteger' }, { name: 'sku', source: 'SKU' }] };
const view = {
  key: { customerId: 'customers.id' },
  relations: [
    { name: 'oc', from: 'orders.customerId', to: 'customers.id' },
    { name: 'lo', from: 'lines.orderId', to: 'orders.id' },
  ],
  aggregation: { customerId: 'customers.id', name: 'customers.name', orders: { from: 'orders', many: true, fields: { id: 'id', lines: { from: 'lines', many: true, fields: { sku: 'sku' } } } } },
};

describe('projection write rules and single views (Debezium, embedded store)', () => {
  const harnesses: Harness[] = [];
  after(async () => Promise.all(harnesses.map((h) => h.close())));
  const start = async (deleteMode: 'soft' | 'hard' = 'soft'): Promise<Harness> => {
    const h = await startHarness({ parser: BUILTIN_FORMATS.debezium, projections: { customers, orders, lines }, views: { c360: view }, deleteMode });
    harnesses.push(h);
    return h;
  };

  it('out-of-order delivery: an older message after a newer one is stale; equal positions tie-break by offset', async () => {
    const h = await start();
    await h.feed([msg('customers', { ID: 1 }, dbz('c', null, { ID: 1, NAME: 'new', VIP: 'true' }), { timestamp: 2000, offset: 5 })]);
    await h.feed([msg('customers', { ID: 1 }, dbz('u', null, { ID: 1, NAME: 'old' }), { timestamp: 1000, offset: 6 })]);
    assert.equal((await h.docs('customers'))[0]?.name, 'new');
    await h.feed([msg('customers', { ID: 1 }, dbz('u', null, { ID: 1, NAME: 'same ts, earlier offset' }), { timestamp: 2000, offset: 4 })]);
    assert.equal((await h.docs('customers'))[0]?.name, 'new');
    await h.feed([msg('customers', { ID: 1 }, dbz('u', null, { ID: 1, NAME: 'same ts, later offset' }), { timestamp: 2000, offset: 7 })]);
    assert.equal((await h.docs('customers'))[0]?.name, 'same ts, later offset');
  });

  it('duplicate delivery is idempotent: one document, one single view', async () => {
    const h = await start();
    const m = msg('customers', { ID: 2 }, dbz('c', null, { ID: 2, NAME: 'dup', SINCE: '2024-01-02T00:00:00Z', VIP: false }), { timestamp: 10 });
    await h.feed([m, m]);
    await h.feed([m]);
    const docs = await h.docs('customers');
    assert.equal(docs.length, 1);
    assert.ok(docs[0]?.since instanceof Date);
    assert.equal((await h.docs('c360')).length, 1);
  });

  it('U merges, I replaces; re-insert after a soft delete keeps createdAt and is PUBLIC again', async () => {
    const h = await start();
    await h.feed([msg('customers', { ID: 3 }, dbz('c', null, { ID: 3, NAME: 'a', VIP: true }))]);
    await h.feed([msg('customers', { ID: 3 }, dbz('u', null, { ID: 3, VIP: false }))]);
    assert.deepEqual(((await h.docs('customers'))[0] ?? {}).name, 'a');
    const created = (await h.docs('customers'))[0]?.createdAt;
    await h.feed([msg('customers', { ID: 3 }, dbz('d', { ID: 3 }, null))]);
    assert.equal((await h.docs('customers'))[0]?.__STATE__, 'DELETED');
    assert.equal((await h.docs('c360')).length, 0);
    await h.feed([msg('customers', { ID: 3 }, dbz('c', null, { ID: 3, VIP: true }))]);
    const [doc] = await h.docs('customers');
    assert.deepEqual([doc?.__STATE__, doc?.name, doc?.createdAt], ['PUBLIC', undefined, created]);
  });

  it('a delete before any insert leaves a DELETED stub so the late insert stays stale', async () => {
    const h = await start();
    await h.feed([msg('orders', { ID: 9 }, dbz('d', { ID: 9, CUSTOMER_ID: 1 }, null), { timestamp: 500 })]);
    await h.feed([msg('orders', { ID: 9 }, dbz('c', null, { ID: 9, CUSTOMER_ID: 1 }), { timestamp: 400 })]);
    assert.deepEqual((await h.docs('orders')).map((d) => d.__STATE__), ['DELETED']);
  });

  it('hard delete removes the document', async () => {
    const h = await start('hard');
    await h.feed([msg('orders', { ID: 1 }, dbz('c', null, { ID: 1, CUSTOMER_ID: 1 }))]);
    await h.feed([msg('orders', { ID: 1 }, dbz('d', { ID: 1, CUSTOMER_ID: 1 }, null))]);
    assert.equal((await h.docs('orders')).length, 0);
  });

  it('cast failures: null stored and counted; on a required field MR_FD_CAST_FAILED (poison); unknown columns dropped and counted', async () => {
    const h = await start();
    await h.feed([msg('customers', { ID: 4 }, dbz('c', null, { ID: 4, SINCE: 'not a date', VIP: true, SECRET: 'x', __STATE__: 'TRASH' }))]);
    const [doc] = await h.docs('customers');
    assert.deepEqual([doc?.since, doc?.SECRET, doc?.__STATE__], [null, undefined, 'PUBLIC']);
    assert.deepEqual(h.unmapped.sort(), ['UNCASTABLE_FIELD customers.since', 'UNKNOWN_FIELD customers.SECRET', 'UNKNOWN_FIELD customers.__STATE__']);
    await assert.rejects(h.feed([msg('customers', { ID: 5 }, dbz('c', null, { ID: 5, VIP: 'maybe' }))]), (e) => isMiaRunError(e) && e.code === 'MR_FD_CAST_FAILED' && !e.retriable);
    await assert.rejects(h.feed([msg('customers', { ID: 'x' }, dbz('c', null, { ID: 'x', VIP: true }))]), (e) => isMiaRunError(e) && e.code === 'MR_FD_CAST_FAILED');
    assert.equal((await h.docs('customers')).length, 1);
  });

  it('two-level join: a line moving between orders of different customers recomputes both customers', async () => {
    const h = await start();
    await h.feed([
      msg('customers', { ID: 10 }, dbz('c', null, { ID: 10, NAME: 'ten', VIP: true })),
      msg('customers', { ID: 20 }, dbz('c', null, { ID: 20, NAME: 'twenty', VIP: true })),
      msg('orders', { ID: 100 }, dbz('c', null, { ID: 100, CUSTOMER_ID: 10 })),
      msg('orders', { ID: 200 }, dbz('c', null, { ID: 200, CUSTOMER_ID: 20 })),
    ]);
    // Lines arrive; the batch of several keys applies each and coalesces the recomputations.
    await h.feed([msg('lines', { ORDER_ID: 100, N: 1 }, dbz('c', null, { ORDER_ID: 100, N: 1, SKU: 'a' })), msg('lines', { ORDER_ID: 100, N: 2 }, dbz('c', null, { ORDER_ID: 100, N: 2, SKU: 'b' }))]);
    const sv = async (id: number): Promise<unknown> => (await h.docs('c360', { customerId: id }))[0]?.orders;
    assert.deepEqual(await sv(10), [{ id: 100, lines: [{ sku: 'a' }, { sku: 'b' }] }]);
    // Line (100, 2) becomes (200, 2): a PK change, delete + create; the old and the new customer are both recomputed.
    await h.feed([msg('lines', { ORDER_ID: 200, N: 2 }, dbz('u', { ORDER_ID: 100, N: 2, SKU: 'b' }, { ORDER_ID: 200, N: 2, SKU: 'b' }))]);
    assert.deepEqual(await sv(10), [{ id: 100, lines: [{ sku: 'a' }] }]);
    assert.deepEqual(await sv(20), [{ id: 200, lines: [{ sku: 'b' }] }]);
    // The order itself moves to customer 10: both views change again.
    await h.feed([msg('orders', { ID: 200 }, dbz('u', { ID: 200, CUSTOMER_ID: 20 }, { ID: 200, CUSTOMER_ID: 10 }))]);
    assert.deepEqual(await sv(10), [{ id: 100, lines: [{ sku: 'a' }] }, { id: 200, lines: [{ sku: 'b' }] }]);
    assert.deepEqual(await sv(20), []);
  });

  it('a poison message in a batch does not lose the views of the other keys', async () => {
    const h = await start();
    await assert.rejects(h.feed([msg('customers', { ID: 30 }, dbz('c', null, { ID: 30, NAME: 'ok', VIP: true })), msg('customers', { ID: 31 }, 'not json')]));
    assert.equal((await h.docs('c360', { customerId: 30 }))[0]?.name, 'ok');
  });
});
