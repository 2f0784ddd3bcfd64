/** Contract: inserts, `_id` generation, duplicate keys and type round-trips. */
import assert from 'node:assert/strict';
import { ObjectId } from 'bson';
import { rejectsWith, type CaseGroup } from './harness.js';

export const insertCases: CaseGroup = {
  name: 'insert',
  cases: {
    'insertOne generates an ObjectId when the document has no _id': async ({ coll }) => {
      const { insertedId } = await coll().insertOne({ a: 1 });
      assert.ok(insertedId instanceof ObjectId);
      const doc = await coll().findOne({ _id: insertedId });
      assert.ok(doc !== null && doc._id instanceof ObjectId && doc._id.equals(insertedId));
      assert.equal(doc.a, 1);
    },
    'insertOne keeps a given _id of any scalar type': async ({ coll }) => {
      await coll().insertOne({ _id: 'order-1', a: 1 });
      await coll().insertOne({ _id: 42, a: 2 });
      assert.equal((await coll().findOne({ _id: 'order-1' }))?.a, 1);
      assert.equal((await coll().findOne({ _id: 42 }))?.a, 2);
    },
    'duplicate _id fails with MR_STORE_DUPLICATE_KEY naming the _id_ index, not retriable': async ({ coll }) => {
      await coll().insertOne({ _id: 'x', a: 1 });
      const error = await rejectsWith(coll().insertOne({ _id: 'x', a: 2 }), 'MR_STORE_DUPLICATE_KEY');
      assert.equal(error.retriable, false);
      assert.equal(error.details?.index, '_id_');
      assert.equal((await coll().findOne({ _id: 'x' }))?.a, 1);
    },
    'insertMany returns ids in input order': async ({ coll }) => {
      const result = await coll().insertMany([{ _id: 'b' }, { v: 2 }, { _id: 'a' }]);
      assert.equal(result.insertedCount, 3);
      assert.equal(result.insertedIds[0], 'b');
      assert.ok(result.insertedIds[1] instanceof ObjectId);
      assert.equal(result.insertedIds[2], 'a');
      assert.equal(await coll().count(), 3);
    },
    'insertMany is ordered: it stops at a duplicate and earlier documents stay': async ({ coll }) => {
      await coll().insertOne({ _id: 2 });
      await rejectsWith(coll().insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]), 'MR_STORE_DUPLICATE_KEY');
      assert.deepEqual((await coll().find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id), [1, 2]);
    },
    'ObjectId values round-trip as ObjectId and are queryable': async ({ coll }) => {
      const ref = new ObjectId();
      await coll().insertOne({ _id: 'r', ref, refs: [ref] });
      const doc = await coll().findOne({ ref: new ObjectId(ref.toHexString()) });
      assert.ok(doc !== null && doc.ref instanceof ObjectId && doc.ref.equals(ref));
      assert.ok(Array.isArray(doc.refs) && doc.refs[0] instanceof ObjectId);
    },
    'Date values round-trip exactly and compare as dates': async ({ coll }) => {
      const at = new Date('2026-03-04T05:06:07.089Z');
      await coll().insertMany([{ _id: 1, at }, { _id: 2, at: new Date('2025-01-01T00:00:00Z') }]);
      const doc = await coll().findOne({ _id: 1 });
      assert.ok(doc?.at instanceof Date);
      assert.equal(doc.at.getTime(), at.getTime());
      const recent = await coll().find({ at: { $gte: new Date('2026-01-01T00:00:00Z') } }).toArray();
      assert.deepEqual(recent.map((d) => d._id), [1]);
    },
    'GeoJSON points round-trip exactly': async ({ coll }) => {
      const location = { type: 'Point', coordinates: [9.18951, 45.46427] };
      await coll().insertOne({ _id: 'milan', location });
      assert.deepEqual((await coll().findOne({ _id: 'milan' }))?.location, location);
    },
    'nested objects, arrays, booleans, null and numbers round-trip': async ({ coll }) => {
      const doc = { _id: 'n', int: 7, neg: -3, float: 2.5, big: 2 ** 40, t: true, f: false, nil: null, s: 'é ü 😀', arr: [1, 'two', { three: 3 }, [4]], obj: { a: { b: { c: 'deep' } } }, empty: {}, none: [] };
      await coll().insertOne(doc);
      assert.deepEqual(await coll().findOne({ _id: 'n' }), doc);
    },
    'undefined values are stored as null': async ({ coll }) => {
      await coll().insertOne({ _id: 'u', a: undefined, b: 1 });
      const doc = await coll().findOne({ _id: 'u' });
      assert.ok(doc !== null && 'a' in doc && doc.a === null);
    },
  },
};
