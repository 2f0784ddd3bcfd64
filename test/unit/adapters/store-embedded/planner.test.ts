/**
 * Indexed lookups read only the matching entries (no collection scan), and results equal a scan's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalog } from '../../../../src/adapters/store-embedded/catalog.js';
import { CollectionEngine } from '../../../../src/adapters/store-embedded/engine.js';
import { ensureIndexes } from '../../../../src/adapters/store-embedded/index-admin.js';
import { ManualClock } from '../../../../src/ports/manual-clock.js';
import { MemoryKv } from './memory-kv.js';

const N = 2000;

function setup(): { kv: MemoryKv; engine: CollectionEngine } {
  const kv = new MemoryKv();
  const catalog = new Catalog();
  const engine = new CollectionEngine({ catalog, clock: new ManualClock(), database: 'db' }, 'items');
  ensureIndexes(kv, catalog, { database: 'db', collection: 'items' }, [
    { name: 'sku', key: { sku: 1 }, unique: true },
    { name: 'cat_price', key: { category: 1, price: 1 } },
  ]);
  const docs = Array.from({ length: N }, (_, i) => ({ _id: i, sku: `sku-${i}`, category: `c${i % 10}`, price: i % 100, other: i }));
  const { error } = engine.insertMany(kv, docs);
  assert.equal(error, undefined);
  return { kv, engine };
}

const ids = (it: Iterable<{ doc: Record<string, unknown> }>): unknown[] => [...it].map((h) => h.doc._id);

test('equality on a unique index is a point read', () => {
  const { kv, engine } = setup();
  kv.touched = 0;
  assert.deepEqual(ids(engine.find(kv, { sku: 'sku-1234' })), [1234]);
  assert.ok(kv.touched < 10, `touched ${kv.touched}`);
});

test('equality + range on a compound index reads only the matching entries', () => {
  const { kv, engine } = setup();
  kv.touched = 0;
  const found = ids(engine.find(kv, { category: 'c3', price: { $gte: 50, $lt: 60 } }));
  assert.equal(found.length, 20); // price = i % 100 in [50, 60) and i % 10 = 3: i % 100 = 53, 20 times in 2000
  assert.ok(kv.touched < 100, `touched ${kv.touched}`);
});

test('$in on an indexed field reads only the listed keys', () => {
  const { kv, engine } = setup();
  kv.touched = 0;
  assert.deepEqual(ids(engine.find(kv, { sku: { $in: ['sku-5', 'sku-7', 'nope'] } })).sort(), [5, 7]);
  assert.ok(kv.touched < 20, `touched ${kv.touched}`);
});

test('a sort on the index field after an equality prefix streams and stops at the limit', () => {
  const { kv, engine } = setup();
  kv.touched = 0;
  const found = [...engine.find(kv, { category: 'c1' }, { sort: { price: -1 }, limit: 3 })].map((h) => h.doc.price);
  assert.deepEqual(found, [91, 91, 91]);
  assert.ok(kv.touched < 20, `touched ${kv.touched}`);
});

test('an unindexed filter scans, with the same semantics', () => {
  const { kv, engine } = setup();
  kv.touched = 0;
  assert.deepEqual(ids(engine.find(kv, { other: { $gte: N - 2 } })), [N - 2, N - 1]);
  assert.ok(kv.touched >= N);
});

test('index entries follow updates and deletes', () => {
  const { kv, engine } = setup();
  engine.update(kv, { sku: 'sku-1' }, { update: { $set: { sku: 'renamed', category: 'zz' } }, multi: false, upsert: false });
  engine.delete(kv, { sku: 'sku-2' }, false);
  assert.deepEqual(ids(engine.find(kv, { sku: 'sku-1' })), []);
  assert.deepEqual(ids(engine.find(kv, { sku: 'renamed' })), [1]);
  assert.deepEqual(ids(engine.find(kv, { category: 'zz' })), [1]);
  assert.deepEqual(ids(engine.find(kv, { sku: 'sku-2' })), []);
  assert.equal(ids(engine.find(kv, { category: 'c1' })).length, N / 10 - 1);
});
