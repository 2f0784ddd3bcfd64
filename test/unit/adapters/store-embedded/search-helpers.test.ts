import assert from 'node:assert/strict';
import { test } from 'node:test';
import { angularDistance, compileWithin, EARTH_RADIUS_M, parseNear, nearDistance } from '../../../../src/adapters/store-embedded/geo.js';
import { parseTextQuery, textScore, tokenize } from '../../../../src/adapters/store-embedded/text-search.js';

const index = { name: 't', key: { title: 'text', body: 'text' } } as const;

test('haversine distance Milan-Rome is about 477 km', () => {
  const km = (angularDistance([9.19, 45.4642], [12.4964, 41.9028]) * EARTH_RADIUS_M) / 1000;
  assert.ok(km > 470 && km < 485, String(km));
});

test('$nearSphere: GeoJSON form in meters, legacy pairs in radians', () => {
  const meters = parseNear('loc', { $nearSphere: { $geometry: { type: 'Point', coordinates: [0, 0] }, $maxDistance: 1000 } });
  assert.equal(meters.unit, 'meters');
  assert.equal(meters.max, 1000);
  assert.ok(Math.abs(nearDistance(meters, { type: 'Point', coordinates: [0, 1] })! - 111_317) < 100);
  const radians = parseNear('loc', { $nearSphere: [0, 0], $maxDistance: 0.1 });
  assert.equal(radians.unit, 'radians');
  assert.ok(Math.abs(nearDistance(radians, [0, 1])! - Math.PI / 180) < 1e-9);
  assert.equal(nearDistance(radians, 'nowhere'), undefined);
});

test('$geoWithin polygon with a hole, box and centerSphere', () => {
  const square = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]];
  const hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]];
  const within = compileWithin('loc', { $geometry: { type: 'Polygon', coordinates: [square, hole] } });
  assert.equal(within({ type: 'Point', coordinates: [1, 1] }), true);
  assert.equal(within({ type: 'Point', coordinates: [5, 5] }), false);
  assert.equal(within({ type: 'Point', coordinates: [11, 5] }), false);
  assert.equal(compileWithin('loc', { $box: [[0, 0], [2, 2]] })([1, 1]), true);
  assert.equal(compileWithin('loc', { $centerSphere: [[0, 0], 0.01] })([0, 0.5]), true);
  assert.equal(compileWithin('loc', { $centerSphere: [[0, 0], 0.01] })([0, 1]), false);
  assert.throws(() => compileWithin('loc', { $nonsense: 1 }), { code: 'MR_STORE_INVALID_QUERY' });
});

test('the tokenizer folds case and diacritics and drops English stop words', () => {
  assert.deepEqual(tokenize('The Café and the CRÈME brûlée', { caseSensitive: false, language: 'english' }), ['cafe', 'creme', 'brulee']);
  assert.deepEqual(tokenize('the end', { caseSensitive: false, language: 'none' }), ['the', 'end']);
});

test('text score: any term matches, phrases required, negations exclude, weights count', () => {
  const doc = { title: 'Espresso guide', body: 'Espresso needs finely ground coffee' };
  assert.ok(textScore(doc, index, parseTextQuery({ $search: 'coffee tea' }, index)) > 0);
  assert.equal(textScore(doc, index, parseTextQuery({ $search: 'tea' }, index)), 0);
  assert.ok(textScore(doc, index, parseTextQuery({ $search: '"ground coffee"' }, index)) > 0);
  assert.equal(textScore(doc, index, parseTextQuery({ $search: '"coffee ground"' }, index)), 0);
  assert.equal(textScore(doc, index, parseTextQuery({ $search: 'coffee -espresso' }, index)), 0);
  const weighted = { ...index, weights: { title: 5 } };
  assert.ok(textScore(doc, weighted, parseTextQuery({ $search: 'espresso' }, weighted)) > textScore(doc, index, parseTextQuery({ $search: 'espresso' }, index)));
  assert.throws(() => parseTextQuery({ nope: 1 }, index), { code: 'MR_STORE_INVALID_QUERY' });
});
