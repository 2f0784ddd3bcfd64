import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { createTimeout } from '../../../src/resilience/timeout.js';
import { createBulkhead } from '../../../src/resilience/bulkhead.js';
import type { CallContext, CallResult } from '../../../src/resilience/types.js';

/** A call that answers only when released, exposing the signal it was given. */
function held() {
  const seen: { signal?: AbortSignal; disposed: boolean } = { disposed: false };
  let release!: (status: number) => void;
  const call = (ctx: CallContext): Promise<CallResult> => {
    seen.signal = ctx.signal;
    return new Promise((resolve) => (release = (statusCode) => resolve({ statusCode, dispose: () => void (seen.disposed = true) })));
  };
  return { call, seen, release: (s: number) => release(s) };
}

describe('timeout', () => {
  test('fails with MR_GW_UPSTREAM_TIMEOUT (504) after ms of clock time and aborts the call', async () => {
    const clock = new ManualClock();
    const up = held();
    const pending = createTimeout({ ms: 2_000, clock, name: 'payments' })(up.call)({ method: 'GET' });
    const outcome = assert.rejects(pending, (e: { code: string; statusCode: number; message: string }) => {
      assert.equal(e.code, 'MR_GW_UPSTREAM_TIMEOUT');
      assert.equal(e.statusCode, 504);
      assert.match(e.message, /payments did not answer within 2000 ms/);
      return true;
    });
    await clock.advance(1_999);
    assert.equal(up.seen.signal?.aborted, false);
    await clock.advance(1);
    await outcome;
    assert.equal(up.seen.signal?.aborted, true, 'the call is told to stop its I/O');
    up.release(200);
    await clock.advance(0);
    assert.equal(up.seen.disposed, true, 'a late answer is disposed, not leaked');
  });

  test('an answer in time clears the timer and passes through', async () => {
    const clock = new ManualClock();
    const up = held();
    const pending = createTimeout({ ms: 1_000, clock })(up.call)({ method: 'GET' });
    up.release(201);
    assert.equal((await pending).statusCode, 201);
    assert.equal(clock.pending, 0);
    assert.equal(up.seen.signal?.aborted, false);
  });

  test('the caller aborting rejects at once and aborts the call', async () => {
    const clock = new ManualClock();
    const up = held();
    const controller = new AbortController();
    const pending = createTimeout({ ms: 1_000, clock })(up.call)({ method: 'GET', signal: controller.signal });
    controller.abort(new Error('gone'));
    await assert.rejects(pending, /gone/);
    assert.equal(up.seen.signal?.aborted, true);
    assert.equal(clock.pending, 0);
  });

  test('scope picks the slot: overall outside retry, attempt inside', () => {
    const clock = new ManualClock();
    assert.equal(createTimeout({ ms: 1, clock }).kind, 'timeout');
    assert.equal(createTimeout({ ms: 1, clock, scope: 'attempt' }).kind, 'attemptTimeout');
  });
});

describe('bulkhead', () => {
  test('excess calls fail at once with MR_GW_BULKHEAD_FULL; slots free when calls settle', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 2, name: 'search' });
    const a = held();
    const b = held();
    const pa = bulkhead(a.call)({ method: 'GET' });
    const pb = bulkhead(b.call)({ method: 'GET' });
    assert.equal(bulkhead.active(), 2);
    await assert.rejects(bulkhead(held().call)({ method: 'GET' }), { code: 'MR_GW_BULKHEAD_FULL', statusCode: 503 });
    a.release(200);
    await pa;
    assert.equal(bulkhead.active(), 1);
    const c = held();
    const pc = bulkhead(c.call)({ method: 'GET' });
    b.release(200);
    c.release(200);
    await Promise.all([pb, pc]);
    assert.equal(bulkhead.active(), 0);
  });

  test('a failing call frees its slot', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1 });
    await assert.rejects(bulkhead(async () => { throw new Error('boom'); })({ method: 'GET' }), /boom/);
    assert.equal(bulkhead.active(), 0);
  });
});
