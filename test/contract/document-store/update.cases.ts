/** Contract: update operators, upserts, positional `$`, findOneAndUpdate and replaceOne. */
import assert from 'node:assert/strict';
import { rejectsWith, type CaseGroup } from './harness.js';

export const updateCases: CaseGroup = {
  name: 'update',
  cases: {
    'updateOne $set reports matched and modified': async ({ coll }) => {
      await coll().insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 1 }]);
      assert.deepEqual(await coll().updateOne({ a: 1 }, { $set: { b: 2 } }), { matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
      assert.equal(await coll().count({ b: 2 }), 1);
    },
    'a $set to the same value matches but does not modify': async ({ coll }) => {
      await coll().insertOne({ _id: 1, a: 1 });
      const r = await coll().updateOne({ _id: 1 }, { $set: { a: 1 } });
      assert.equal(r.matchedCount, 1);
      assert.equal(r.modifiedCount, 0);
    },
    'no match and no upsert changes nothing': async ({ coll }) => {
      await coll().insertOne({ _id: 1, a: 1 });
      assert.deepEqual(await coll().updateOne({ a: 2 }, { $set: { a: 3 } }), { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 });
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, a: 1 });
    },
    'updateMany updates every match': async ({ coll }) => {
      await coll().insertMany([{ _id: 1, g: 'x' }, { _id: 2, g: 'x' }, { _id: 3, g: 'y' }]);
      const r = await coll().updateMany({ g: 'x' }, { $set: { seen: true } });
      assert.equal(r.matchedCount, 2);
      assert.equal(r.modifiedCount, 2);
      assert.equal(await coll().count({ seen: true }), 2);
    },
    '$set with dotted paths creates nested fields': async ({ coll }) => {
      await coll().insertOne({ _id: 1 });
      await coll().updateOne({ _id: 1 }, { $set: { 'a.b.c': 1, 'a.d': 'x' } });
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, a: { b: { c: 1 }, d: 'x' } });
    },
    '$unset removes fields': async ({ coll }) => {
      await coll().insertOne({ _id: 1, a: 1, b: { c: 2, d: 3 } });
      await coll().updateOne({ _id: 1 }, { $unset: { a: '', 'b.c': '' } });
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, b: { d: 3 } });
    },
    '$inc adds and creates missing fields; $mul multiplies': async ({ coll }) => {
      await coll().insertOne({ _id: 1, n: 5, price: 2.5 });
      await coll().updateOne({ _id: 1 }, { $inc: { n: -2, fresh: 3 }, $mul: { price: 4 } });
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, n: 3, price: 10, fresh: 3 });
    },
    '$currentDate sets the current date': async ({ coll }) => {
      await coll().insertOne({ _id: 1 });
      const before = Date.now();
      await coll().updateOne({ _id: 1 }, { $currentDate: { at: true } });
      const doc = await coll().findOne({ _id: 1 });
      assert.ok(doc?.at instanceof Date);
      assert.ok(Math.abs(doc.at.getTime() - before) < 60_000);
    },
    '$push appends, with $each': async ({ coll }) => {
      await coll().insertOne({ _id: 1, list: [1] });
      await coll().updateOne({ _id: 1 }, { $push: { list: 2 } });
      await coll().updateOne({ _id: 1 }, { $push: { list: { $each: [3, 4] }, other: 'x' } });
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, list: [1, 2, 3, 4], other: ['x'] });
    },
    '$pull removes matching elements, also by condition': async ({ coll }) => {
      await coll().insertOne({ _id: 1, list: [1, 2, 3, 2], items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 0 }] });
      await coll().updateOne({ _id: 1 }, { $pull: { list: 2, items: { qty: { $lte: 0 } } } });
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, list: [1, 3], items: [{ sku: 'a', qty: 1 }] });
    },
    '$addToSet adds only missing values, with $each': async ({ coll }) => {
      await coll().insertOne({ _id: 1, tags: ['a'] });
      await coll().updateOne({ _id: 1 }, { $addToSet: { tags: 'a' } });
      await coll().updateOne({ _id: 1 }, { $addToSet: { tags: { $each: ['b', 'a', 'c'] } } });
      assert.deepEqual((await coll().findOne({ _id: 1 }))?.tags, ['a', 'b', 'c']);
    },
    'the positional $ updates the first matched array element': async ({ coll }) => {
      await coll().insertOne({ _id: 1, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 1 }] });
      await coll().updateOne({ _id: 1, 'items.sku': 'b' }, { $set: { 'items.$.qty': 5 }, $inc: { 'items.$.version': 1 } });
      assert.deepEqual((await coll().findOne({ _id: 1 }))?.items, [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 5, version: 1 }]);
    },
    'upsert inserts from the filter equality fields and reports upsertedId': async ({ coll }) => {
      const r = await coll().updateOne({ _id: 'k1', kind: 'counter', 'meta.region': 'eu' }, { $inc: { n: 1 } }, { upsert: true });
      assert.equal(r.upsertedCount, 1);
      assert.equal(r.upsertedId, 'k1');
      assert.deepEqual(await coll().findOne({ _id: 'k1' }), { _id: 'k1', kind: 'counter', meta: { region: 'eu' }, n: 1 });
    },
    'upsert on an existing document updates it': async ({ coll }) => {
      await coll().updateOne({ _id: 'k' }, { $inc: { n: 1 } }, { upsert: true });
      const r = await coll().updateOne({ _id: 'k' }, { $inc: { n: 1 } }, { upsert: true });
      assert.equal(r.upsertedCount, 0);
      assert.equal(r.matchedCount, 1);
      assert.equal((await coll().findOne({ _id: 'k' }))?.n, 2);
    },
    '$setOnInsert applies only when an upsert inserts': async ({ coll }) => {
      const update = { $set: { seen: 'last' }, $setOnInsert: { created: 'first' } };
      await coll().updateOne({ _id: 1 }, update, { upsert: true });
      await coll().updateOne({ _id: 1 }, { ...update, $setOnInsert: { created: 'again' } }, { upsert: true });
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, seen: 'last', created: 'first' });
    },
    'changing _id is rejected with MR_STORE_INVALID_DOCUMENT': async ({ coll }) => {
      await coll().insertOne({ _id: 1, a: 1 });
      await rejectsWith(coll().updateOne({ _id: 1 }, { $set: { _id: 2 } }), 'MR_STORE_INVALID_DOCUMENT');
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, a: 1 });
    },
    'an update without operators is rejected with MR_STORE_INVALID_QUERY': async ({ coll }) => {
      await coll().insertOne({ _id: 1, a: 1 });
      await rejectsWith(coll().updateOne({ _id: 1 }, { a: 2 }), 'MR_STORE_INVALID_QUERY');
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, a: 1 });
    },
    'findOneAndUpdate returns the document before the update by default': async ({ coll }) => {
      await coll().insertOne({ _id: 1, n: 1 });
      assert.deepEqual(await coll().findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }), { _id: 1, n: 1 });
      assert.equal((await coll().findOne({ _id: 1 }))?.n, 2);
    },
    'findOneAndUpdate returns the document after, projected': async ({ coll }) => {
      await coll().insertOne({ _id: 1, n: 1, secret: 's' });
      assert.deepEqual(await coll().findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnDocument: 'after', projection: { secret: 0 } }), { _id: 1, n: 2 });
    },
    'findOneAndUpdate with upsert returns the inserted document': async ({ coll }) => {
      const doc = await coll().findOneAndUpdate({ _id: 'new' }, { $set: { a: 1 } }, { upsert: true, returnDocument: 'after' });
      assert.deepEqual(doc, { _id: 'new', a: 1 });
    },
    'findOneAndUpdate returns null when nothing matches': async ({ coll }) => {
      assert.equal(await coll().findOneAndUpdate({ _id: 'none' }, { $set: { a: 1 } }), null);
      assert.equal(await coll().count(), 0);
    },
    'findOneAndUpdate with sort modifies the first in that order': async ({ coll }) => {
      await coll().insertMany([{ _id: 1, p: 2 }, { _id: 2, p: 9 }, { _id: 3, p: 5 }]);
      const doc = await coll().findOneAndUpdate({}, { $set: { taken: true } }, { sort: { p: -1 }, returnDocument: 'after' });
      assert.deepEqual(doc, { _id: 2, p: 9, taken: true });
      assert.equal(await coll().count({ taken: true }), 1);
    },
    'replaceOne replaces the whole document and keeps _id': async ({ coll }) => {
      await coll().insertOne({ _id: 1, a: 1, b: 2 });
      const r = await coll().replaceOne({ _id: 1 }, { c: 3 });
      assert.equal(r.modifiedCount, 1);
      assert.deepEqual(await coll().findOne({ _id: 1 }), { _id: 1, c: 3 });
    },
    'replaceOne with upsert inserts': async ({ coll }) => {
      const r = await coll().replaceOne({ _id: 'r' }, { v: 1 }, { upsert: true });
      assert.equal(r.upsertedCount, 1);
      assert.deepEqual(await coll().findOne({ _id: 'r' }), { _id: 'r', v: 1 });
    },
  },
};
