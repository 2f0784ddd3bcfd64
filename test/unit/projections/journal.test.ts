import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_FORMATS } from '../../../src/projections/formats/index.js';
import { msg, startHarness, type Harness } from './harness.js';

const dbz = (op: string, before: unknown, after: unknown): Record<string, unknown> => ({ op, before, after, source: {} });
const harnesses: Harness[] = [];
after(async () => Promise.all(harnesses.map((h) => h.close())));

it('a failure between the projection write and the view update does not lose the old parent of a moved order', async () => {
  let fail = false;
  const h = await startHarness({
    parser: BUILTIN_FORMATS.debezium,
    projections: {
      customers: { topic: 'customers', primaryKey: ['id'], fields: [{ name: 'id', source: 'ID' }] },
      orders: { topic: 'orders', primaryKey: ['id'], fields: [{ name: 'id', source: 'ID' }, { name: 'customerId', source: 'CUSTOMER_ID' }] },
    },
    views: { c360: { key: { customerId: 'customers.id' }, relations: [{ from: 'orders.customerId', to: 'customers.id' }], aggregation: { customerId: 'customers.id', flag: { fn: 'boom' }, orders: { from: 'orders', many: true, fields: { id: 'id' } } } } },
    functions: new Map([['boom', () => {
      if (fail) throw new Error('view store unavailable');
      return true;
    }]]),
  });
  harnesses.push(h);
  await h.feed([msg('customers', { ID: 1 }, dbz('c', null, { ID: 1 })), msg('customers', { ID: 2 }, dbz('c', null, { ID: 2 }))]);
  await h.feed([msg('orders', { ID: 8 }, dbz('c', null, { ID: 8, CUSTOMER_ID: 1 }))]);
  const move = msg('orders', { ID: 8 }, dbz('u', { ID: 8, CUSTOMER_ID: 1 }, { ID: 8, CUSTOMER_ID: 2 }));
  fail = true;
  await assert.rejects(h.feed([move]), /view store unavailable/);
  // The projection moved, the views did not; the intent for customer 1 is in the journal.
  assert.equal((await h.docs('orders'))[0]?.customerId, 2);
  assert.deepEqual((await h.docs('fd-sv-journal')).map((e) => e.identifier), [{ customerId: 1 }]);
  fail = false;
  // Redelivery: the stored pre-image is now the post-image, only the journal still knows customer 1.
  await h.feed([move]);
  const orders = async (id: number): Promise<unknown> => (await h.docs('c360', { customerId: id }))[0]?.orders;
  assert.deepEqual(await orders(1), []);
  assert.deepEqual(await orders(2), [{ id: 8 }]);
  assert.deepEqual(await h.docs('fd-sv-journal'), []);
});
