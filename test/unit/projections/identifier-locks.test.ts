// Per-identifier locks: one holder per key, waiters in arrival order, overlapping key sets without deadlock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdentifierLocks } from '../../../src/projections/single-view/identifier-locks.js';

test('a key has one holder at a time; the next waits for the release', async () => {
  const locks = createIdentifierLocks();
  const order: string[] = [];
  const releaseA = await locks.acquire(['v\u0000{"id":1}']);
  const b = locks.acquire(['v\u0000{"id":1}']).then((release) => (order.push('b'), release));
  const c = locks.acquire(['v\u0000{"id":2}']).then((release) => (order.push('c'), release));
  (await c)();
  assert.deepEqual(order, ['c'], 'another key is free');
  order.push('a released');
  releaseA();
  (await b)();
  assert.deepEqual(order, ['c', 'a released', 'b']);
});

test('overlapping key sets taken in opposite orders do not deadlock', async () => {
  const locks = createIdentifierLocks();
  const done: number[] = [];
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const release = await locks.acquire(i % 2 === 0 ? ['x', 'y', 'z'] : ['z', 'y', 'x']);
      await Promise.resolve();
      done.push(i);
      release();
    }),
  );
  assert.equal(done.length, 20);
  const after = await locks.acquire(['x', 'y', 'z']);
  after();
});
