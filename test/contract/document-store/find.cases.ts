/** Contract: filters, projection, sort, skip/limit, counts and streaming cursors. */
import assert from 'node:assert/strict';
import { pluck, rejectsWith, seedNumbers, sorted, type CaseGroup } from './harness.js';

const people = [
  { _id: 1, name: 'ada', age: 36, tags: ['math', 'code'], address: { city: 'London' }, pets: [{ kind: 'cat', age: 3 }] },
  { _id: 2, name: 'bob', age: 25, tags: ['code'], address: { city: 'Paris' }, pets: [{ kind: 'dog', age: 5 }, { kind: 'cat', age: 1 }] },
  { _id: 3, name: 'cyd', age: 41, tags: [], address: { city: 'London' }, nick: null },
  { _id: 4, name: 'dee', tags: ['art', 'math', 'code'] },
];

export const findCases: CaseGroup = {
  name: 'find',
  cases: {
    'empty filter returns every document': async ({ coll }) => {
      await seedNumbers(coll(), 5);
      assert.equal((await coll().find().toArray()).length, 5);
      assert.equal((await coll().find({}).toArray()).length, 5);
    },
    'equality and $ne': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(pluck(await coll().find({ name: 'bob' }).toArray(), '_id'), [2]);
      assert.deepEqual(sorted(pluck(await coll().find({ name: { $ne: 'bob' } }).toArray(), '_id')), [1, 3, 4]);
    },
    'comparison operators $gt $gte $lt $lte skip other types': async ({ coll }) => {
      await coll().insertMany(people);
      await coll().insertOne({ _id: 5, age: 'forty' });
      assert.deepEqual(sorted(pluck(await coll().find({ age: { $gt: 30 } }).toArray(), '_id')), [1, 3]);
      assert.deepEqual(sorted(pluck(await coll().find({ age: { $gte: 25, $lt: 37 } }).toArray(), '_id')), [1, 2]);
      assert.deepEqual(pluck(await coll().find({ age: { $lte: 25 } }).toArray(), '_id'), [2]);
    },
    '$in and $nin': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(sorted(pluck(await coll().find({ name: { $in: ['ada', 'dee', 'zed'] } }).toArray(), '_id')), [1, 4]);
      assert.deepEqual(sorted(pluck(await coll().find({ name: { $nin: ['ada', 'dee'] } }).toArray(), '_id')), [2, 3]);
    },
    '$exists': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(sorted(pluck(await coll().find({ age: { $exists: false } }).toArray(), '_id')), [4]);
      assert.deepEqual(sorted(pluck(await coll().find({ nick: { $exists: true } }).toArray(), '_id')), [3]);
    },
    'null matches null and missing fields': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(sorted(pluck(await coll().find({ nick: null }).toArray(), '_id')), [1, 2, 3, 4]);
      assert.deepEqual(sorted(pluck(await coll().find({ age: null }).toArray(), '_id')), [4]);
    },
    '$regex with options': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(sorted(pluck(await coll().find({ name: { $regex: '^[AB]', $options: 'i' } }).toArray(), '_id')), [1, 2]);
      assert.deepEqual(pluck(await coll().find({ name: /^c/ }).toArray(), '_id'), [3]);
    },
    '$and, $or, $nor and $not': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(pluck(await coll().find({ $and: [{ age: { $gt: 30 } }, { 'address.city': 'London' }, { name: { $ne: 'ada' } }] }).toArray(), '_id'), [3]);
      assert.deepEqual(sorted(pluck(await coll().find({ $or: [{ name: 'ada' }, { age: { $lt: 30 } }] }).toArray(), '_id')), [1, 2]);
      assert.deepEqual(sorted(pluck(await coll().find({ $nor: [{ name: 'ada' }, { age: { $lt: 30 } }] }).toArray(), '_id')), [3, 4]);
      assert.deepEqual(sorted(pluck(await coll().find({ age: { $not: { $gt: 30 } } }).toArray(), '_id')), [2, 4]);
    },
    'array operators: element equality, $all, $size, $elemMatch': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(sorted(pluck(await coll().find({ tags: 'math' }).toArray(), '_id')), [1, 4]);
      assert.deepEqual(sorted(pluck(await coll().find({ tags: { $all: ['code', 'math'] } }).toArray(), '_id')), [1, 4]);
      assert.deepEqual(pluck(await coll().find({ tags: { $size: 0 } }).toArray(), '_id'), [3]);
      assert.deepEqual(pluck(await coll().find({ pets: { $elemMatch: { kind: 'cat', age: { $lt: 2 } } } }).toArray(), '_id'), [2]);
    },
    'dotted paths into objects and arrays of objects': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(sorted(pluck(await coll().find({ 'address.city': 'London' }).toArray(), '_id')), [1, 3]);
      assert.deepEqual(sorted(pluck(await coll().find({ 'pets.kind': 'cat' }).toArray(), '_id')), [1, 2]);
      assert.deepEqual(pluck(await coll().find({ 'pets.1.kind': 'cat' }).toArray(), '_id'), [2]);
    },
    'an unknown operator fails with MR_STORE_INVALID_QUERY, not retriable': async ({ coll }) => {
      await coll().insertMany(people);
      const error = await rejectsWith(coll().find({ age: { $bogus: 1 } }).toArray(), 'MR_STORE_INVALID_QUERY');
      assert.equal(error.retriable, false);
    },
    'inclusion projection keeps _id unless excluded': async ({ coll }) => {
      await coll().insertMany(people);
      assert.deepEqual(await coll().findOne({ _id: 1 }, { projection: { name: 1, 'address.city': 1 } }), { _id: 1, name: 'ada', address: { city: 'London' } });
      assert.deepEqual(await coll().findOne({ _id: 1 }, { projection: { name: 1, _id: 0 } }), { name: 'ada' });
    },
    'exclusion projection drops the named fields': async ({ coll }) => {
      await coll().insertMany(people);
      const doc = await coll().findOne({ _id: 2 }, { projection: { pets: 0, tags: 0, address: 0 } });
      assert.deepEqual(doc, { _id: 2, name: 'bob', age: 25 });
    },
    'a projection mixing inclusion and exclusion is invalid': async ({ coll }) => {
      await coll().insertMany(people);
      await rejectsWith(coll().find({}, { projection: { name: 1, age: 0 } }).toArray(), 'MR_STORE_INVALID_QUERY');
    },
    'sort ascending, descending and on two keys': async ({ coll }) => {
      await seedNumbers(coll(), 9);
      assert.deepEqual(pluck(await coll().find({}, { sort: { n: -1 } }).toArray(), 'n'), [8, 7, 6, 5, 4, 3, 2, 1, 0]);
      assert.deepEqual(pluck(await coll().find({}, { sort: { group: 1, n: -1 } }).toArray(), 'n'), [6, 3, 0, 7, 4, 1, 8, 5, 2]);
    },
    'sort puts missing and null first ascending, and mixes types in BSON order': async ({ coll }) => {
      await coll().insertMany([{ _id: 1, v: 'text' }, { _id: 2, v: 5 }, { _id: 3 }, { _id: 4, v: 1 }]);
      assert.deepEqual(pluck(await coll().find({}, { sort: { v: 1 } }).toArray(), '_id'), [3, 4, 2, 1]);
    },
    'skip and limit page through sorted results': async ({ coll }) => {
      await seedNumbers(coll(), 10);
      assert.deepEqual(pluck(await coll().find({}, { sort: { n: 1 }, skip: 3, limit: 4 }).toArray(), 'n'), [3, 4, 5, 6]);
      assert.deepEqual(pluck(await coll().find({}, { sort: { n: 1 }, skip: 8, limit: 5 }).toArray(), 'n'), [8, 9]);
    },
    'findOne returns the first in sort order, or null': async ({ coll }) => {
      await seedNumbers(coll(), 5);
      assert.equal((await coll().findOne({ group: 1 }, { sort: { n: -1 } }))?.n, 4);
      assert.equal(await coll().findOne({ n: 99 }), null);
    },
    'a cursor streams a large result in order with for await': async ({ coll }) => {
      await seedNumbers(coll(), 3000);
      let expected = 0;
      for await (const doc of coll().find({}, { sort: { n: 1 } })) assert.equal(doc.n, expected++);
      assert.equal(expected, 3000);
    },
    'leaving a cursor loop early closes it and the store stays usable': async ({ coll }) => {
      await seedNumbers(coll(), 1000);
      const seen: unknown[] = [];
      for await (const doc of coll().find({}, { sort: { n: 1 } })) {
        seen.push(doc.n);
        if (seen.length === 3) break;
      }
      assert.deepEqual(seen, [0, 1, 2]);
      const cursor = coll().find({});
      await cursor.close();
      await coll().insertOne({ _id: 'after' });
      assert.equal(await coll().count(), 1001);
    },
    'count with a filter, skip and limit': async ({ coll }) => {
      await seedNumbers(coll(), 10);
      assert.equal(await coll().count({ group: 0 }), 4);
      assert.equal(await coll().count({}, { skip: 7 }), 3);
      assert.equal(await coll().count({}, { skip: 2, limit: 5 }), 5);
      assert.equal(await coll('missing').count(), 0);
    },
    'estimatedCount counts every document': async ({ coll }) => {
      await seedNumbers(coll(), 7);
      assert.equal(await coll().estimatedCount(), 7);
      assert.equal(await coll('missing').estimatedCount(), 0);
    },
  },
};
