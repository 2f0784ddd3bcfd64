/** Contract: atomic multi-collection transactions (what the outbox relies on). */
import assert from 'node:assert/strict';
import { rejectsWith, type CaseGroup } from './harness.js';

export const transactionCases: CaseGroup = {
  name: 'transactions',
  cases: {
    'withTransaction commits writes to several collections together': async ({ store, coll }) => {
      const result = await store.withTransaction(async (tx) => {
        const { insertedId } = await tx.collection('orders').insertOne({ total: 10 });
        await tx.collection('outbox').insertOne({ topic: 'order-events', orderId: insertedId });
        return insertedId;
      });
      const order = await coll('orders').findOne({ _id: result });
      assert.equal(order?.total, 10);
      assert.equal(await coll('outbox').count({ orderId: result }), 1);
    },
    'a throwing callback writes nothing and its error is rethrown': async ({ store, coll }) => {
      await coll('orders').insertOne({ _id: 'kept', total: 1 });
      await assert.rejects(
        store.withTransaction(async (tx) => {
          await tx.collection('orders').updateOne({ _id: 'kept' }, { $set: { total: 2 } });
          await tx.collection('outbox').insertOne({ n: 1 });
          throw new Error('business rule failed');
        }),
        /business rule failed/,
      );
      assert.equal((await coll('orders').findOne({ _id: 'kept' }))?.total, 1);
      assert.equal(await coll('outbox').count(), 0);
    },
    'reads inside a transaction see its own writes; outside they do not until commit': async ({ store, coll }) => {
      await store.withTransaction(async (tx) => {
        await tx.collection('items').insertMany([{ _id: 1, n: 1 }, { _id: 2, n: 2 }]);
        await tx.collection('items').updateOne({ _id: 1 }, { $inc: { n: 10 } });
        assert.equal((await tx.collection('items').findOne({ _id: 1 }))?.n, 11);
        assert.equal(await tx.collection('items').count({ n: { $gt: 1 } }), 2);
        assert.equal(await tx.collection('items').count(), 2);
        assert.equal(await coll('items').count(), 0);
      });
      assert.equal(await coll('items').count(), 2);
    },
    'a duplicate key inside a transaction aborts it when it propagates': async ({ store, coll }) => {
      await coll('users').ensureIndexes([{ name: 'email_1', key: { email: 1 }, unique: true }]);
      await coll('users').insertOne({ email: 'taken' });
      await rejectsWith(
        store.withTransaction(async (tx) => {
          await tx.collection('log').insertOne({ attempt: 1 });
          await tx.collection('users').insertOne({ email: 'taken' });
        }),
        'MR_STORE_DUPLICATE_KEY',
      );
      assert.equal(await coll('log').count(), 0);
      assert.equal(await coll('users').count(), 1);
    },
    'findOneAndUpdate and deletes inside a transaction commit atomically': async ({ store, coll }) => {
      await coll('stock').insertOne({ _id: 'sku', qty: 3 });
      await store.withTransaction(async (tx) => {
        const before = await tx.collection('stock').findOneAndUpdate({ _id: 'sku', qty: { $gt: 0 } }, { $inc: { qty: -1 } });
        assert.equal(before?.qty, 3);
        await tx.collection('reservations').insertOne({ sku: 'sku' });
        await tx.collection('stock').deleteMany({ qty: 0 });
      });
      assert.equal((await coll('stock').findOne({ _id: 'sku' }))?.qty, 2);
      assert.equal(await coll('reservations').count(), 1);
    },
  },
};
