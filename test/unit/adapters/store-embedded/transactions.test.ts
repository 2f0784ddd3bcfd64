/**
 * `withTransaction` on the embedded store is optimistic: a write committed by someone else to a document the
 * transaction read makes its commit fail validation, and the callback runs again on fresh data.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EmbeddedDocumentStore } from '../../../../src/adapters/store-embedded/index.js';
import { systemClock } from '../../../../src/ports/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'mia-run-tx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a concurrent write to a document the transaction read makes it run again', async () => {
  const store = new EmbeddedDocumentStore('db', { path: join(dir, 'retry'), clock: systemClock });
  await store.start();
  try {
    const accounts = store.collection('accounts');
    await accounts.insertOne({ _id: 'a', balance: 100 });
    let runs = 0;
    await store.withTransaction(async (tx) => {
      runs++;
      const doc = await tx.collection('accounts').findOne({ _id: 'a' });
      if (runs === 1) await accounts.updateOne({ _id: 'a' }, { $inc: { balance: 50 } }); // someone else commits meanwhile
      await tx.collection('accounts').updateOne({ _id: 'a' }, { $set: { balance: Number(doc?.balance) - 30 } });
    });
    assert.equal(runs, 2);
    assert.equal((await accounts.findOne({ _id: 'a' }))?.balance, 120);
  } finally {
    await store.close();
  }
});

test('a transaction that keeps conflicting fails with a retriable MR_STORE_WRITE_CONFLICT and writes nothing', async () => {
  const store = new EmbeddedDocumentStore('db', { path: join(dir, 'conflict'), clock: systemClock, transactionAttempts: 3 });
  await store.start();
  try {
    const items = store.collection('items');
    await items.insertOne({ _id: 'x', n: 0 });
    await assert.rejects(
      store.withTransaction(async (tx) => {
        await tx.collection('items').findOne({ _id: 'x' });
        await items.updateOne({ _id: 'x' }, { $inc: { n: 1 } });
        await tx.collection('log').insertOne({ attempt: true });
      }),
      (error: { code?: string; retriable?: boolean }) => error.code === 'MR_STORE_WRITE_CONFLICT' && error.retriable === true,
    );
    assert.equal(await store.collection('log').count(), 0);
    assert.equal((await items.findOne({ _id: 'x' }))?.n, 3);
  } finally {
    await store.close();
  }
});

test('a read-only transaction returns its value; counts inside a transaction include its own writes', async () => {
  const store = new EmbeddedDocumentStore('db', { path: join(dir, 'readonly'), clock: systemClock });
  await store.start();
  try {
    await store.collection('c').insertMany([{ v: 1 }, { v: 2 }]);
    assert.equal(await store.withTransaction(async (tx) => tx.collection('c').count()), 2);
    const inside = await store.withTransaction(async (tx) => {
      await tx.collection('c').insertOne({ v: 3 });
      await tx.collection('c').deleteOne({ v: 1 });
      return tx.collection('c').count();
    });
    assert.equal(inside, 2);
    assert.equal(await store.collection('c').count(), 2);
    assert.deepEqual((await store.collection('c').find({}, { sort: { v: 1 } }).toArray()).map((d) => d.v), [2, 3]);
  } finally {
    await store.close();
  }
});
