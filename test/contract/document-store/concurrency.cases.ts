/** Contract: concurrent writers keep unique keys and counters exact. */
import assert from 'node:assert/strict';
import { isMiaRunError } from '../../../src/errors.js';
import type { CaseGroup } from './harness.js';

export const concurrencyCases: CaseGroup = {
  name: 'concurrency',
  cases: {
    'two concurrent upserts on the same unique key give exactly one document': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'key_1', key: { key: 1 }, unique: true }]);
      for (let round = 0; round < 10; round++) {
        const key = `k${round}`;
        const results = await Promise.allSettled([
          coll().updateOne({ key }, { $inc: { hits: 1 } }, { upsert: true }),
          coll().updateOne({ key }, { $inc: { hits: 1 } }, { upsert: true }),
        ]);
        // MongoDB may answer one of them with a duplicate key (the caller retries); never two documents.
        const failed = results.filter((r) => r.status === 'rejected');
        for (const f of failed) assert.ok(isMiaRunError(f.reason) && f.reason.code === 'MR_STORE_DUPLICATE_KEY', String(f.reason));
        assert.equal(await coll().count({ key }), 1);
        assert.equal((await coll().findOne({ key }))?.hits, 2 - failed.length);
      }
    },
    'concurrent $inc on one document loses no update': async ({ coll }) => {
      await coll().insertOne({ _id: 'counter', n: 0 });
      await Promise.all(Array.from({ length: 50 }, () => coll().updateOne({ _id: 'counter' }, { $inc: { n: 1 } })));
      assert.equal((await coll().findOne({ _id: 'counter' }))?.n, 50);
    },
    'of concurrent inserts with one unique value exactly one succeeds': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'email_1', key: { email: 1 }, unique: true }]);
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => coll().insertOne({ email: 'same', i })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal(await coll().count({ email: 'same' }), 1);
    },
    'concurrent transactions on the same document serialise': async ({ store, coll }) => {
      await coll('acc').insertOne({ _id: 'a', balance: 0 });
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.withTransaction(async (tx) => {
            const doc = await tx.collection('acc').findOne({ _id: 'a' });
            await tx.collection('acc').updateOne({ _id: 'a' }, { $set: { balance: Number(doc?.balance) + 1 } });
            await tx.collection('ledger').insertOne({ i });
          }),
        ),
      );
      assert.equal((await coll('acc').findOne({ _id: 'a' }))?.balance, 10);
      assert.equal(await coll('ledger').count(), 10);
    },
    'concurrent inserts into many collections all land': async ({ store, coll }) => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => coll(`c${i % 5}`).insertOne({ i })));
      let total = 0;
      for (let i = 0; i < 5; i++) total += await coll(`c${i}`).count();
      assert.equal(total, 100);
      assert.deepEqual((await store.listCollections()).filter((n) => /^c\d$/.test(n)), ['c0', 'c1', 'c2', 'c3', 'c4']);
    },
  },
};
