/** Contract: index management, unique / compound / partial / TTL indexes, index-backed queries. */
import assert from 'node:assert/strict';
import { pluck, rejectsWith, seedNumbers, sorted, type CaseGroup } from './harness.js';

const HOUR = 3_600_000;

export const indexCases: CaseGroup = {
  name: 'indexes',
  cases: {
    'listIndexes shows _id_ and created indexes with their options': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'email_1', key: { email: 1 }, unique: true }, { name: 'a_b', key: { a: 1, b: -1 } }]);
      const indexes = await coll().listIndexes();
      assert.deepEqual(indexes.map((i) => i.name).sort(), ['_id_', 'a_b', 'email_1']);
      const email = indexes.find((i) => i.name === 'email_1');
      assert.deepEqual(email?.key, { email: 1 });
      assert.equal(email?.unique, true);
      assert.deepEqual(indexes.find((i) => i.name === 'a_b')?.key, { a: 1, b: -1 });
    },
    'ensureIndexes is idempotent': async ({ coll }) => {
      const specs = [{ name: 'a_1', key: { a: 1 } as const }];
      await coll().ensureIndexes(specs);
      await coll().ensureIndexes(specs);
      assert.equal((await coll().listIndexes()).filter((i) => i.name === 'a_1').length, 1);
    },
    'a unique index rejects a duplicate, naming the index and the key': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'email_1', key: { email: 1 }, unique: true }]);
      await coll().insertOne({ email: 'a@example.com' });
      const error = await rejectsWith(coll().insertOne({ email: 'a@example.com' }), 'MR_STORE_DUPLICATE_KEY');
      assert.equal(error.retriable, false);
      assert.equal(error.details?.index, 'email_1');
      assert.deepEqual(error.details?.key, { email: 'a@example.com' });
      assert.equal(await coll().count(), 1);
    },
    'an update that would duplicate a unique value fails and leaves the document unchanged': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'email_1', key: { email: 1 }, unique: true }]);
      await coll().insertMany([{ _id: 1, email: 'a' }, { _id: 2, email: 'b' }]);
      await rejectsWith(coll().updateOne({ _id: 2 }, { $set: { email: 'a' } }), 'MR_STORE_DUPLICATE_KEY');
      assert.equal((await coll().findOne({ _id: 2 }))?.email, 'b');
      await coll().updateOne({ _id: 1 }, { $set: { email: 'c' } });
      await coll().updateOne({ _id: 2 }, { $set: { email: 'a' } });
      assert.deepEqual(sorted(pluck(await coll().find().toArray(), 'email')), ['a', 'c']);
    },
    'a unique index treats a missing field as null': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'code_1', key: { code: 1 }, unique: true }]);
      await coll().insertOne({ _id: 1 });
      await rejectsWith(coll().insertOne({ _id: 2 }), 'MR_STORE_DUPLICATE_KEY');
    },
    'a compound unique index constrains the combination': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'tenant_sku', key: { tenant: 1, sku: 1 }, unique: true }]);
      await coll().insertMany([{ tenant: 't1', sku: 'a' }, { tenant: 't2', sku: 'a' }, { tenant: 't1', sku: 'b' }]);
      const error = await rejectsWith(coll().insertOne({ tenant: 't1', sku: 'a' }), 'MR_STORE_DUPLICATE_KEY');
      assert.deepEqual(error.details?.key, { tenant: 't1', sku: 'a' });
    },
    'building a unique index over duplicates fails and creates nothing': async ({ coll }) => {
      await coll().insertMany([{ v: 1 }, { v: 1 }]);
      await rejectsWith(coll().ensureIndexes([{ name: 'v_1', key: { v: 1 }, unique: true }]), 'MR_STORE_DUPLICATE_KEY');
      assert.ok(!(await coll().listIndexes()).some((i) => i.name === 'v_1'));
    },
    'a partial unique index constrains only matching documents': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'active_email', key: { email: 1 }, unique: true, partialFilterExpression: { active: true } }]);
      await coll().insertMany([{ email: 'a', active: false }, { email: 'a', active: false }, { email: 'a', active: true }]);
      await rejectsWith(coll().insertOne({ email: 'a', active: true }), 'MR_STORE_DUPLICATE_KEY');
      assert.equal(await coll().count({ email: 'a' }), 3);
    },
    'dropIndex removes the index and its constraint': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'v_1', key: { v: 1 }, unique: true }]);
      await coll().insertOne({ v: 1 });
      await coll().dropIndex('v_1');
      await coll().insertOne({ v: 1 });
      assert.ok(!(await coll().listIndexes()).some((i) => i.name === 'v_1'));
      assert.equal(await coll().count({ v: 1 }), 2);
    },
    'the _id_ index cannot be dropped': async ({ coll }) => {
      await coll().insertOne({ a: 1 });
      await rejectsWith(coll().dropIndex('_id_'), 'MR_STORE_INVALID_QUERY');
    },
    'ensureIndexes rebuilds an index whose definition changed': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'v_1', key: { v: 1 } }]);
      await coll().insertOne({ v: 1 });
      await coll().ensureIndexes([{ name: 'v_1', key: { v: 1 }, unique: true }]);
      assert.equal((await coll().listIndexes()).find((i) => i.name === 'v_1')?.unique, true);
      await rejectsWith(coll().insertOne({ v: 1 }), 'MR_STORE_DUPLICATE_KEY');
    },
    'indexed equality and range queries stay correct through updates and deletes': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'n_1', key: { n: 1 } }, { name: 'group_n', key: { group: 1, n: -1 } }]);
      await seedNumbers(coll(), 30);
      await coll().updateMany({ n: { $lt: 5 } }, { $inc: { n: 100 } });
      await coll().deleteMany({ n: { $gte: 20, $lt: 25 } });
      assert.deepEqual(pluck(await coll().find({ n: { $gt: 25, $lte: 102 } }, { sort: { n: 1 } }).toArray(), 'n'), [26, 27, 28, 29, 100, 101, 102]);
      assert.deepEqual(pluck(await coll().find({ n: 103 }).toArray(), '_id'), [3]);
      assert.deepEqual(pluck(await coll().find({ n: 3 }).toArray(), '_id'), []);
      assert.deepEqual(pluck(await coll().find({ group: 1, n: { $gte: 10 } }, { sort: { n: -1 } }).toArray(), 'n'), [104, 101, 28, 25, 19, 16, 13, 10]);
      assert.deepEqual(sorted(pluck(await coll().find({ n: { $in: [7, 101, 500] } }).toArray(), 'n')), [101, 7]);
    },
    'a sort on an indexed field with a limit returns the top documents': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'n_1', key: { n: 1 } }]);
      await seedNumbers(coll(), 200);
      assert.deepEqual(pluck(await coll().find({ group: 2 }, { sort: { n: -1 }, limit: 3 }).toArray(), 'n'), [197, 194, 191]);
      assert.deepEqual(pluck(await coll().find({}, { sort: { n: 1 }, skip: 10, limit: 2 }).toArray(), 'n'), [10, 11]);
    },
    'an index over an array field (multikey) finds by element and sorts by min/max element': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'tags_1', key: { tags: 1 } }]);
      await coll().insertMany([{ _id: 1, tags: ['b', 'z'] }, { _id: 2, tags: ['c'] }, { _id: 3, tags: ['a', 'y'] }]);
      assert.deepEqual(sorted(pluck(await coll().find({ tags: { $in: ['z', 'y'] } }).toArray(), '_id')), [1, 3]);
      assert.deepEqual(pluck(await coll().find({}, { sort: { tags: 1 } }).toArray(), '_id'), [3, 1, 2]);
      assert.deepEqual(pluck(await coll().find({}, { sort: { tags: -1 } }).toArray(), '_id'), [1, 3, 2]);
    },
    'a TTL index is listed with expireAfterSeconds': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'ttl', key: { createdAt: 1 }, expireAfterSeconds: 3600 }]);
      assert.equal((await coll().listIndexes()).find((i) => i.name === 'ttl')?.expireAfterSeconds, 3600);
    },
    'documents past their TTL are not returned': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'ttl', key: { createdAt: 1 }, expireAfterSeconds: 60 }]);
      await coll().insertMany([{ _id: 'old', createdAt: new Date(Date.now() - HOUR) }, { _id: 'new', createdAt: new Date() }, { _id: 'no-date', createdAt: 'yesterday' }]);
      assert.deepEqual(sorted(pluck(await coll().find().toArray(), '_id')), ['new', 'no-date']);
      assert.equal(await coll().count(), 2);
      assert.equal(await coll().findOne({ _id: 'old' }), null);
    },
  },
};
