import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { systemClock } from '../../../src/ports/clock.js';

test('ManualClock fires due timers in time order and only when advanced', async () => {
  const clock = new ManualClock(1_000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b@300'), 300);
  clock.setTimeout(() => fired.push('a@100'), 100);
  const cancelled = clock.setTimeout(() => fired.push('never'), 200);
  clock.clearTimeout(cancelled);
  await clock.advance(99);
  assert.deepEqual(fired, []);
  assert.equal(clock.now(), 1_099);
  await clock.advance(250);
  assert.deepEqual(fired, ['a@100', 'b@300']);
  assert.equal(clock.now(), 1_349);
  assert.equal(clock.pending, 0);
});

test('ManualClock runs timers scheduled by timers within the same advance', async () => {
  const clock = new ManualClock(0);
  const at: number[] = [];
  clock.setTimeout(() => {
    at.push(clock.now());
    clock.setTimeout(() => at.push(clock.now()), 50);
  }, 50);
  await clock.advance(100);
  assert.deepEqual(at, [50, 100]);
});

test('ManualClock.sleep resolves on advance and rejects on abort', async () => {
  const clock = new ManualClock(0);
  let done = false;
  const slept = clock.sleep(10).then(() => { done = true; });
  await clock.advance(9);
  assert.equal(done, false);
  await clock.advance(1);
  await slept;
  assert.equal(done, true);

  const ac = new AbortController();
  const aborted = clock.sleep(1_000, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(aborted, /stop/);
  assert.equal(clock.pending, 0);
});

test('systemClock.sleep honours an abort signal', async () => {
  const ac = new AbortController();
  const p = systemClock.sleep(60_000, ac.signal);
  ac.abort(new Error('cancelled'));
  await assert.rejects(p, /cancelled/);
});
