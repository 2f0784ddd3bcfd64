/** Contract: deletes and bulk writes. */
import assert from 'node:assert/strict';
import { pluck, rejectsWith, seedNumbers, type CaseGroup } from './harness.js';

export const writeCases: CaseGroup = {
  name: 'delete and bulk',
  cases: {
    'deleteOne deletes one matching document': async ({ coll }) => {
      await seedNumbers(coll(), 6);
      assert.deepEqual(await coll().deleteOne({ group: 0 }), { deletedCount: 1 });
      assert.equal(await coll().count({ group: 0 }), 1);
    },
    'deleteMany deletes every match and reports how many': async ({ coll }) => {
      await seedNumbers(coll(), 9);
      assert.deepEqual(await coll().deleteMany({ n: { $gte: 5 } }), { deletedCount: 4 });
      assert.equal(await coll().count(), 5);
      assert.deepEqual(await coll().deleteMany({ n: 100 }), { deletedCount: 0 });
    },
    'findOneAndDelete returns the deleted document': async ({ coll }) => {
      await seedNumbers(coll(), 3);
      const doc = await coll().findOneAndDelete({ _id: 1 });
      assert.equal(doc?.n, 1);
      assert.equal(await coll().findOne({ _id: 1 }), null);
      assert.equal(await coll().findOneAndDelete({ _id: 1 }), null);
    },
    'findOneAndDelete with sort takes the first in that order (a queue pop)': async ({ coll }) => {
      await seedNumbers(coll(), 5);
      const doc = await coll().findOneAndDelete({ group: { $in: [0, 1] } }, { sort: { n: -1 }, projection: { n: 1, _id: 0 } });
      assert.deepEqual(doc, { n: 4 });
      assert.equal(await coll().count(), 4);
    },
    'bulkWrite applies mixed operations and reports counts': async ({ coll }) => {
      await coll().insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }, { _id: 3, a: 3 }]);
      const r = await coll().bulkWrite([
        { insertOne: { document: { _id: 4, a: 4 } } },
        { updateOne: { filter: { _id: 1 }, update: { $set: { a: 10 } } } },
        { updateMany: { filter: { a: { $gte: 3 } }, update: { $set: { big: true } } } },
        { replaceOne: { filter: { _id: 2 }, replacement: { b: 2 } } },
        { deleteOne: { filter: { _id: 3 } } },
        { updateOne: { filter: { _id: 9 }, update: { $set: { a: 9 } }, upsert: true } },
      ]);
      assert.equal(r.insertedCount, 1);
      assert.equal(r.insertedIds[0], 4);
      assert.equal(r.matchedCount, 5); // _id 1; _id 1, 3 and 4 (a >= 3); _id 2
      assert.equal(r.modifiedCount, 5);
      assert.equal(r.deletedCount, 1);
      assert.equal(r.upsertedCount, 1);
      assert.equal(r.upsertedIds[5], 9);
      assert.deepEqual(await coll().find({}, { sort: { _id: 1 } }).toArray(), [
        { _id: 1, a: 10, big: true },
        { _id: 2, b: 2 },
        { _id: 4, a: 4, big: true },
        { _id: 9, a: 9 },
      ]);
    },
    'ordered bulkWrite stops at the first error; earlier operations stay': async ({ coll }) => {
      await coll().insertOne({ _id: 1 });
      await rejectsWith(coll().bulkWrite([{ insertOne: { document: { _id: 2 } } }, { insertOne: { document: { _id: 1 } } }, { insertOne: { document: { _id: 3 } } }]), 'MR_STORE_DUPLICATE_KEY');
      assert.deepEqual(pluck(await coll().find({}, { sort: { _id: 1 } }).toArray(), '_id'), [1, 2]);
    },
    'unordered bulkWrite attempts every operation, then reports the error': async ({ coll }) => {
      await coll().insertOne({ _id: 1 });
      await rejectsWith(coll().bulkWrite([{ insertOne: { document: { _id: 2 } } }, { insertOne: { document: { _id: 1 } } }, { insertOne: { document: { _id: 3 } } }], { ordered: false }), 'MR_STORE_DUPLICATE_KEY');
      assert.deepEqual(pluck(await coll().find({}, { sort: { _id: 1 } }).toArray(), '_id'), [1, 2, 3]);
    },
    'bulkWrite deleteMany removes every match': async ({ coll }) => {
      await seedNumbers(coll(), 6);
      const r = await coll().bulkWrite([{ deleteMany: { filter: { group: 2 } } }]);
      assert.equal(r.deletedCount, 2);
      assert.equal(await coll().count(), 4);
    },
  },
};
