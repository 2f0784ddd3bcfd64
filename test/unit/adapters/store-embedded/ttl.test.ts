/**
 * TTL expiry on the embedded store, driven by a manual clock: an expired document disappears from reads at
 * once, and the sweeper (every `ttlMonitorMs` of the store's clock) deletes it from disk.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EmbeddedDocumentStore } from '../../../../src/adapters/store-embedded/index.js';
import { ManualClock } from '../../../../src/ports/manual-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'mia-run-ttl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('expired documents vanish from reads, then the sweeper deletes them', async () => {
  const clock = new ManualClock();
  const store = new EmbeddedDocumentStore('db', { path: join(dir, 'sweep'), clock, ttlMonitorMs: 1000 });
  await store.start();
  try {
    const sessions = store.collection('sessions');
    await sessions.ensureIndexes([{ name: 'ttl', key: { lastSeen: 1 }, expireAfterSeconds: 30 }]);
    await sessions.insertMany([
      { _id: 'a', lastSeen: new Date(clock.now()) },
      { _id: 'b', lastSeen: new Date(clock.now() + 20_000) },
      { _id: 'keep', lastSeen: 'not a date' },
    ]);
    await clock.advance(30_500); // past a's expiry (30 s), before b's (50 s); the sweeper has run by now
    await waitFor('a swept', async () => (await sessions.estimatedCount()) === 2);
    assert.deepEqual((await sessions.find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id), ['b', 'keep']);

    await clock.advance(19_600); // b expired at 50 s; reads hide it before the next sweep
    assert.deepEqual((await sessions.find().toArray()).map((d) => d._id), ['keep']);
    assert.equal(await sessions.count(), 1);
    await clock.advance(1000);
    await waitFor('b swept', async () => (await sessions.estimatedCount()) === 1);
  } finally {
    await store.close();
  }
});

test('an expired document no longer blocks its unique key or _id', async () => {
  const clock = new ManualClock();
  const store = new EmbeddedDocumentStore('db', { path: join(dir, 'unique'), clock, ttlMonitorMs: 3_600_000 });
  await store.start();
  try {
    const locks = store.collection('locks');
    await locks.ensureIndexes([{ name: 'ttl', key: { at: 1 }, expireAfterSeconds: 10 }, { name: 'res', key: { resource: 1 }, unique: true }]);
    await locks.insertOne({ _id: 'l1', resource: 'r', at: new Date(clock.now()) });
    await assert.rejects(locks.insertOne({ _id: 'l2', resource: 'r', at: new Date(clock.now()) }), { code: 'MR_STORE_DUPLICATE_KEY' });
    await clock.advance(11_000);
    await locks.insertOne({ _id: 'l2', resource: 'r', at: new Date(clock.now()) });
    await locks.insertOne({ _id: 'l1', resource: 'other', at: new Date(clock.now()) });
    assert.deepEqual((await locks.find({}, { sort: { _id: 1 } }).toArray()).map((d) => [d._id, d.resource]), [['l1', 'other'], ['l2', 'r']]);
  } finally {
    await store.close();
  }
});
