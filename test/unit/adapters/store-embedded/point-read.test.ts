/**
 * Reads by `_id` with more top-level equalities (the CRUD's get by id: `{ _id, __STATE__ }`) take a point read
 * on the embedded store; they must answer exactly what the full filter answers (arrays, numeric types,
 * missing fields, expired documents), and cursors drained with `toArray` return every result.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ObjectId } from 'bson';
import { EmbeddedDocumentStore } from '../../../../src/adapters/store-embedded/index.js';
import type { Collection } from '../../../../src/ports/document-store.js';
import { ManualClock } from '../../../../src/ports/manual-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'mia-run-point-read-'));
const clock = new ManualClock();
const store = new EmbeddedDocumentStore('db', { path: join(dir, 'db'), clock });
let items: Collection;
const id = new ObjectId();

before(async () => {
  await store.start();
  items = store.collection('items');
  await items.insertMany([
    { _id: id, state: 'PUBLIC', n: 1, flag: true },
    { _id: 'tagged', state: ['DRAFT', 'PUBLIC'], n: 2.0 },
    { _id: 'missing', n: 3 },
    { _id: 'old', state: 'PUBLIC', seen: new Date(clock.now() - 120_000) },
  ]);
  await items.ensureIndexes([{ name: 'ttl', key: { seen: 1 }, expireAfterSeconds: 60 }]);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('an id with equal primitives matches; a different value does not', async () => {
  assert.deepEqual(await items.findOne({ _id: id, state: 'PUBLIC', n: 1, flag: true }), { _id: id, state: 'PUBLIC', n: 1, flag: true });
  assert.equal(await items.findOne({ _id: id, state: 'DRAFT' }), null);
  assert.equal(await items.findOne({ _id: id, flag: false }), null);
  assert.equal(await items.findOne({ _id: new ObjectId(), state: 'PUBLIC' }), null);
});

test('MongoDB equality semantics hold: an array holding the value matches, a missing field does not', async () => {
  assert.equal((await items.findOne({ _id: 'tagged', state: 'PUBLIC' }))?._id, 'tagged');
  assert.equal((await items.findOne({ _id: 'tagged', n: 2 }))?._id, 'tagged');
  assert.equal(await items.findOne({ _id: 'missing', state: 'PUBLIC' }), null);
});

test('an expired document is not found by id', async () => {
  assert.equal(await items.findOne({ _id: 'old', state: 'PUBLIC' }), null);
  assert.deepEqual(await items.find({ _id: 'old', state: 'PUBLIC' }).toArray(), []);
});

test('find by id with equalities and toArray over more than one chunk agree with a scan', async () => {
  assert.deepEqual((await items.find({ _id: id, state: 'PUBLIC' }).toArray()).map((d) => d._id), [id]);
  const many = store.collection('many');
  await many.insertMany(Array.from({ length: 600 }, (_, i) => ({ _id: i, even: i % 2 === 0 })));
  assert.equal((await many.find({}).toArray()).length, 600);
  assert.deepEqual((await many.find({ even: true }, { sort: { _id: -1 }, limit: 3 }).toArray()).map((d) => d._id), [598, 596, 594]);
});
