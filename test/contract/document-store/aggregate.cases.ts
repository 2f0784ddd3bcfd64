/** Contract: read-only aggregation pipelines (views). */
import assert from 'node:assert/strict';
import { rejectsWith, seedNumbers, type CaseGroup } from './harness.js';

export const aggregateCases: CaseGroup = {
  name: 'aggregate',
  cases: {
    '$match, $group and $sort': async ({ coll }) => {
      await seedNumbers(coll(), 10);
      const rows = await coll().aggregate([{ $match: { n: { $gte: 1 } } }, { $group: { _id: '$group', total: { $sum: '$n' }, count: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
      assert.deepEqual(rows, [
        { _id: 0, total: 18, count: 3 },
        { _id: 1, total: 12, count: 3 },
        { _id: 2, total: 15, count: 3 },
      ]);
    },
    '$project, $sort, $skip and $limit': async ({ coll }) => {
      await seedNumbers(coll(), 10);
      const rows = await coll().aggregate([{ $sort: { n: -1 } }, { $skip: 1 }, { $limit: 2 }, { $project: { _id: 0, double: { $multiply: ['$n', 2] } } }]).toArray();
      assert.deepEqual(rows, [{ double: 16 }, { double: 14 }]);
    },
    '$unwind and $count': async ({ coll }) => {
      await coll().insertMany([{ _id: 1, tags: ['a', 'b'] }, { _id: 2, tags: ['c'] }]);
      assert.deepEqual(await coll().aggregate([{ $unwind: '$tags' }, { $count: 'n' }]).toArray(), [{ n: 3 }]);
      assert.deepEqual(await coll().aggregate([{ $match: { tags: 'zzz' } }, { $count: 'n' }]).toArray(), []);
    },
    '$lookup joins another collection of the same database': async ({ coll }) => {
      await coll('customers').insertMany([{ _id: 'c1', name: 'Ada' }, { _id: 'c2', name: 'Bob' }]);
      await coll('orders').insertMany([{ _id: 1, customerId: 'c2', total: 5 }]);
      const rows = await coll('orders').aggregate([{ $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } }]).toArray();
      assert.deepEqual(rows, [{ _id: 1, customerId: 'c2', total: 5, customer: [{ _id: 'c2', name: 'Bob' }] }]);
    },
    'writing stages are rejected with MR_STORE_INVALID_QUERY': async ({ coll }) => {
      await seedNumbers(coll(), 2);
      await rejectsWith(coll().aggregate([{ $match: {} }, { $out: 'copy' }]).toArray(), 'MR_STORE_INVALID_QUERY');
      await rejectsWith(coll().aggregate([{ $merge: { into: 'copy' } }]).toArray(), 'MR_STORE_INVALID_QUERY');
    },
  },
};
