/** Contract: text search and geospatial queries. */
import assert from 'node:assert/strict';
import { pluck, rejectsWith, sorted, type CaseGroup } from './harness.js';

const articles = [
  { _id: 1, title: 'Coffee brewing guide', body: 'How to brew coffee with a french press' },
  { _id: 2, title: 'Tea ceremonies', body: 'Green tea and matcha traditions' },
  { _id: 3, title: 'Morning drinks', body: 'Coffee or tea? Coffee wins, coffee always wins' },
  { _id: 4, title: 'Gardening', body: 'Growing tomatoes on a balcony' },
];

const point = (lon: number, lat: number) => ({ type: 'Point', coordinates: [lon, lat] });
const cities = [
  { _id: 'milan', loc: point(9.19, 45.4642) },
  { _id: 'turin', loc: point(7.6869, 45.0703) },
  { _id: 'rome', loc: point(12.4964, 41.9028) },
  { _id: 'paris', loc: point(2.3522, 48.8566) },
];

export const searchCases: CaseGroup = {
  name: 'text and geo',
  cases: {
    '$text matches any term across the indexed fields': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'text', key: { title: 'text', body: 'text' } }]);
      await coll().insertMany(articles);
      assert.deepEqual(sorted(pluck(await coll().find({ $text: { $search: 'coffee tomatoes' } }).toArray(), '_id')), [1, 3, 4]);
      assert.deepEqual(sorted(pluck(await coll().find({ $text: { $search: 'TEA' } }).toArray(), '_id')), [2, 3]);
    },
    '$text score can be projected and sorted on; field weights count': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'text', key: { title: 'text', body: 'text' }, weights: { title: 10 } }]);
      await coll().insertMany(articles);
      const rows = await coll().find({ $text: { $search: 'coffee' } }, { projection: { score: { $meta: 'textScore' } }, sort: { score: { $meta: 'textScore' } } }).toArray();
      assert.deepEqual(pluck(rows, '_id'), [1, 3]);
      assert.ok(typeof rows[0]?.score === 'number' && typeof rows[1]?.score === 'number' && rows[0].score > rows[1].score);
    },
    '$text phrases are required and negated terms exclude': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'text', key: { title: 'text', body: 'text' } }]);
      await coll().insertMany(articles);
      assert.deepEqual(pluck(await coll().find({ $text: { $search: '"french press"' } }).toArray(), '_id'), [1]);
      assert.deepEqual(pluck(await coll().find({ $text: { $search: 'coffee -tea' } }).toArray(), '_id'), [1]);
    },
    '$text combines with other conditions': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'text', key: { title: 'text', body: 'text' } }]);
      await coll().insertMany(articles);
      assert.deepEqual(pluck(await coll().find({ $text: { $search: 'coffee tea' }, _id: { $gte: 3 } }).toArray(), '_id'), [3]);
    },
    '$text without a text index fails with MR_STORE_INVALID_QUERY': async ({ coll }) => {
      await coll().insertMany(articles);
      await rejectsWith(coll().find({ $text: { $search: 'coffee' } }).toArray(), 'MR_STORE_INVALID_QUERY');
    },
    '$nearSphere returns points nearest first within $maxDistance (meters)': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'loc', key: { loc: '2dsphere' } }]);
      await coll().insertMany(cities);
      const near = await coll().find({ loc: { $nearSphere: { $geometry: point(9.0, 45.3), $maxDistance: 200_000 } } }).toArray();
      assert.deepEqual(pluck(near, '_id'), ['milan', 'turin']);
      const all = await coll().find({ loc: { $nearSphere: { $geometry: point(12.0, 42.0) } } }).toArray();
      assert.deepEqual(pluck(all, '_id'), ['rome', 'milan', 'turin', 'paris']);
    },
    '$nearSphere honours $minDistance and limit': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'loc', key: { loc: '2dsphere' } }]);
      await coll().insertMany(cities);
      const rows = await coll().find({ loc: { $nearSphere: { $geometry: point(9.19, 45.4642), $minDistance: 10_000 } } }, { limit: 2 }).toArray();
      assert.deepEqual(pluck(rows, '_id'), ['turin', 'rome']);
    },
    '$geoWithin $centerSphere selects points inside a spherical cap': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'loc', key: { loc: '2dsphere' } }]);
      await coll().insertMany(cities);
      const radians = 300 / 6378.1; // 300 km
      const rows = await coll().find({ loc: { $geoWithin: { $centerSphere: [[8.5, 45.2], radians] } } }).toArray();
      assert.deepEqual(sorted(pluck(rows, '_id')), ['milan', 'turin']);
    },
    '$geoWithin a GeoJSON polygon selects points inside it': async ({ coll }) => {
      await coll().ensureIndexes([{ name: 'loc', key: { loc: '2dsphere' } }]);
      await coll().insertMany(cities);
      const northItaly = { type: 'Polygon', coordinates: [[[6, 44], [14, 44], [14, 47], [6, 47], [6, 44]]] };
      const rows = await coll().find({ loc: { $geoWithin: { $geometry: northItaly } } }).toArray();
      assert.deepEqual(sorted(pluck(rows, '_id')), ['milan', 'turin']);
    },
  },
};
