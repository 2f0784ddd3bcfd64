// Full refresh of a single view (fast-data.md §7) on a real embedded store: every base record recomputed in
// key order, orphans deleted, and an interrupted refresh resuming after its last checkpoint.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { DocumentStore } from '../../../src/ports/document-store.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { refreshView, type RefreshCheckpoint } from '../../../src/projections/operations/refresh.js';
import { compileView } from '../../../src/projections/single-view/model.js';
import { recompute, type WriterDeps } from '../../../src/projections/single-view/writer.js';

let dir: string;
let store: DocumentStore;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-refresh-'));
  store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: dir }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await store.start();
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

it('recomputes every base record in key order, deletes orphans, and resumes after its checkpoint', async () => {
  await store.collection('customers').insertMany([5, 3, 1, 4, 2].map((id) => ({ id, name: `c${id}`, __STATE__: 'PUBLIC' })));
  await store.collection('c360').insertOne({ customerId: 9, name: 'orphan', __STATE__: 'PUBLIC' });
  const view = compileView('c360', { key: { customerId: 'customers.id' }, aggregation: { customerId: 'customers.id', name: 'customers.name' } });
  const writer: WriterDeps & { collection: ReturnType<DocumentStore['collection']> } = {
    projection: (name) => ({ collection: store.collection(name), primaryKey: ['id'] }), functions: new Map(), logger: silentLogger,
    collection: store.collection('c360'), now: () => new Date(), origin: 'test',
  };
  let saved: Readonly<Record<string, unknown>> | undefined;
  const checkpoint: RefreshCheckpoint = { load: async () => saved, save: async (last) => void (saved = last), clear: async () => void (saved = undefined) };
  const seen: unknown[] = [];
  let failOn: number | undefined = 4;
  const counting: typeof recompute = async (v, id, d) => {
    if (id.customerId === failOn) throw new Error('interrupted');
    seen.push(id.customerId);
    return recompute(v, id, d);
  };
  await assert.rejects(refreshView({ view, writer, recompute: counting, checkpoint, chunk: 2 }), /interrupted/);
  assert.deepEqual(saved, { id: 2 });
  assert.deepEqual(seen, [1, 2, 3]);
  failOn = undefined;
  seen.length = 0;
  const result = await refreshView({ view, writer, recompute: counting, checkpoint, chunk: 2 });
  assert.deepEqual(seen, [3, 4, 5, 9]);
  // 3 was computed before the interruption, in the chunk that never reached the store.
  assert.deepEqual(result.results, { insert: 3, delete: 1 });
  assert.equal(saved, undefined);
  const docs = await store.collection('c360').find({}, { sort: { customerId: 1 } }).toArray();
  assert.deepEqual(docs.map((d) => [d.customerId, d.name]), [[1, 'c1'], [2, 'c2'], [3, 'c3'], [4, 'c4'], [5, 'c5']]);
});
