/** Contract: backend lifecycle, declared features, collections. */
import assert from 'node:assert/strict';
import { STORE_FEATURES_BY_KIND } from '../../../src/ports/store-features.js';
import { rejectsWith, type CaseGroup } from './harness.js';

export const lifecycleCases: CaseGroup = {
  name: 'lifecycle',
  cases: {
    'declares its kind and the features of the static table': async ({ store }) => {
      assert.match(store.kind, /^store\./);
      const expected = STORE_FEATURES_BY_KIND[store.kind as keyof typeof STORE_FEATURES_BY_KIND];
      assert.deepEqual([...store.features].sort(), [...expected].sort());
    },
    'is healthy once started': async ({ store }) => {
      const health = await store.health();
      assert.equal(health.status, 'OK');
      assert.equal(health.name, store.name);
    },
    'operations after close fail with MR_STORE_CLOSED': async ({ store, coll }) => {
      await coll().insertOne({ a: 1 });
      await store.close();
      await store.close(); // idempotent
      const error = await rejectsWith(coll().insertOne({ a: 2 }), 'MR_STORE_CLOSED');
      assert.equal(error.retriable, true);
    },
    'listCollections lists written collections, sorted': async ({ store, coll }) => {
      await coll('zebra').insertOne({ a: 1 });
      await coll('apple').insertOne({ a: 1 });
      const names = (await store.listCollections()).filter((n) => n === 'zebra' || n === 'apple');
      assert.deepEqual(names, ['apple', 'zebra']);
    },
    'drop removes documents and indexes; a missing collection drops silently': async ({ store, coll }) => {
      const c = coll('gone');
      await c.ensureIndexes([{ name: 'a_1', key: { a: 1 } }]);
      await c.insertMany([{ a: 1 }, { a: 2 }]);
      await c.drop();
      assert.equal(await c.count(), 0);
      assert.deepEqual((await c.listIndexes()).map((i) => i.name).filter((n) => n !== '_id_'), []);
      assert.ok(!(await store.listCollections()).includes('gone'));
      await coll('never-existed').drop();
    },
  },
};
