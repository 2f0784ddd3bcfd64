/**
 * `replaceOne({ _id, version }, doc)` (the optimistic-concurrency write of sagas and aggregates) stores the
 * replacement encoded once and reads only the filter's and the indexes' fields of the stored document; it must
 * answer exactly what the full filter answers and keep every index right. `decodeFields` decodes what
 * `decodeDocument` would, for the fields asked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { decodeDocument, decodeFields, encodeDocument } from '../../../../src/adapters/store-embedded/codec.js';
import { EmbeddedDocumentStore } from '../../../../src/adapters/store-embedded/index.js';
import type { Collection } from '../../../../src/ports/document-store.js';
import { ManualClock } from '../../../../src/ports/manual-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'mia-run-replace-path-'));
const clock = new ManualClock();
const store = new EmbeddedDocumentStore('db', { path: join(dir, 'db'), clock });
let sagas: Collection;

before(async () => {
  await store.start();
  sagas = store.collection('sagas');
  await sagas.ensureIndexes([
    { name: 'sagaId', key: { sagaId: 1 }, unique: true },
    { name: 'state', key: { state: 1 } },
    { name: 'nested', key: { 'meta.owner': 1 } },
  ]);
  await sagas.insertMany([
    { _id: 's1', sagaId: 'A', state: 'NEW', version: 1, meta: { owner: 'ann' }, history: [{ at: new Date(1), event: 'created' }] },
    { _id: 's2', sagaId: 'B', state: 'NEW', version: [1, 2] },
  ]);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('decodeFields decodes the asked fields of every BSON type and skips the others', () => {
  const doc = {
    _id: new ObjectId(), s: 'x', d: 1.5, i: 3, l: Long.fromString('9007199254740993'), dec: Decimal128.fromString('1.10'), b: true,
    n: null, date: new Date(5), re: /a+b/i, bin: new Binary(Buffer.from([1, 2])), ts: new Timestamp({ t: 1, i: 2 }), o: { a: [1, { b: 2 }] }, last: 'end',
  };
  const bytes = encodeDocument(doc);
  const all = decodeDocument(bytes);
  for (const name of Object.keys(doc)) assert.deepEqual(decodeFields(bytes, new Set([name])), { [name]: all[name] }, name);
  assert.deepEqual(decodeFields(bytes, new Set(['last', 'o', 'nope'])), { o: all.o, last: 'end' });
  assert.deepEqual(decodeFields(bytes, new Set(Object.keys(doc))), all);
});

test('a replacement by id and version applies when the version matches and updates the indexes', async () => {
  const r = await sagas.replaceOne({ _id: 's1', version: 1 }, { sagaId: 'A', state: 'PAID', version: 2, meta: { owner: 'bob' }, history: [] });
  assert.deepEqual(r, { matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
  assert.deepEqual(await sagas.findOne({ _id: 's1' }), { _id: 's1', sagaId: 'A', state: 'PAID', version: 2, meta: { owner: 'bob' }, history: [] });
  assert.deepEqual((await sagas.find({ state: 'PAID' }).toArray()).map((d) => d._id), ['s1']);
  assert.deepEqual(await sagas.find({ state: 'NEW' }).toArray().then((ds) => ds.map((d) => d._id)), ['s2']);
  assert.deepEqual((await sagas.find({ 'meta.owner': 'bob' }).toArray()).map((d) => d._id), ['s1']);
  assert.deepEqual(await sagas.find({ 'meta.owner': 'ann' }).toArray(), []);
});

test('a stale version matches nothing and changes nothing', async () => {
  const r = await sagas.replaceOne({ _id: 's1', version: 1 }, { sagaId: 'A', state: 'LOST', version: 2 });
  assert.deepEqual(r, { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 });
  assert.equal((await sagas.findOne({ _id: 's1' }))?.state, 'PAID');
  assert.deepEqual(await sagas.replaceOne({ _id: 'none', version: 1 }, { sagaId: 'Z', version: 2 }), { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 });
});

test('the same document again matches without modifying; an array field matches as MongoDB does', async () => {
  const same = { sagaId: 'A', state: 'PAID', version: 2, meta: { owner: 'bob' }, history: [] };
  assert.deepEqual(await sagas.replaceOne({ _id: 's1', version: 2 }, same), { matchedCount: 1, modifiedCount: 0, upsertedCount: 0 });
  assert.deepEqual(await sagas.replaceOne({ _id: 's2', version: 2 }, { sagaId: 'B', state: 'DONE', version: 3 }), { matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
  assert.equal((await sagas.findOne({ _id: 's2' }))?.state, 'DONE');
});

test('a replacement taking a unique value of another document fails and writes nothing', async () => {
  await assert.rejects(sagas.replaceOne({ _id: 's2', version: 3 }, { sagaId: 'A', state: 'X', version: 4 }), { code: 'MR_STORE_DUPLICATE_KEY' });
  assert.equal((await sagas.findOne({ _id: 's2' }))?.state, 'DONE');
  await assert.rejects(sagas.replaceOne({ _id: 's2', version: 3 }, { _id: 'other', version: 4 }), { code: 'MR_STORE_INVALID_DOCUMENT' });
});

test('bulkWrite replacements by id and version count matches and modifications', async () => {
  const r = await sagas.bulkWrite(
    [
      { replaceOne: { filter: { _id: 's1', version: 2 }, replacement: { sagaId: 'A', state: 'SHIPPED', version: 3 } } },
      { replaceOne: { filter: { _id: 's2', version: 99 }, replacement: { sagaId: 'B', state: 'NO', version: 100 } } },
    ],
    { ordered: false },
  );
  assert.equal(r.matchedCount, 1);
  assert.equal(r.modifiedCount, 1);
  assert.deepEqual((await sagas.find({ state: 'SHIPPED' }).toArray()).map((d) => d._id), ['s1']);
  assert.equal((await sagas.findOne({ _id: 's2' }))?.state, 'DONE');
});

test('index entries stay right when indexed values are kept, changed to equal dates, or emptied', async () => {
  await sagas.ensureIndexes([{ name: 'due', key: { due: 1 } }]);
  await sagas.insertOne({ _id: 't1', sagaId: 'T', state: 'WAIT', version: 1, due: new Date(1000) });
  await sagas.replaceOne({ _id: 't1', version: 1 }, { sagaId: 'T', state: 'WAIT', version: 2, due: new Date(1000) });
  assert.deepEqual((await sagas.find({ due: new Date(1000) }).toArray()).map((d) => d._id), ['t1']);
  await sagas.replaceOne({ _id: 't1', version: 2 }, { sagaId: 'T', state: 'WAIT', version: 3, due: new Date(2000) });
  assert.deepEqual(await sagas.find({ due: new Date(1000) }).toArray(), []);
  assert.deepEqual((await sagas.find({ due: { $gte: new Date(2000) } }).toArray()).map((d) => d._id), ['t1']);
  await sagas.replaceOne({ _id: 't1', version: 3 }, { sagaId: 'T', version: 4 });
  assert.deepEqual(await sagas.find({ due: { $gte: new Date(0) } }).toArray(), []);
  assert.deepEqual(await sagas.find({ state: 'WAIT' }).toArray(), []);
  assert.deepEqual((await sagas.find({ sagaId: 'T' }).toArray()).map((d) => d.version), [4]);
});
