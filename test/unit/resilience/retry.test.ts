import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { backoffDelay, createRetry, type RetryOptions } from '../../../src/resilience/retry.js';
import { MiaRunError } from '../../../src/errors.js';
import type { CallContext, CallResult } from '../../../src/resilience/types.js';

/** Runs `promise` while advancing the manual clock until it settles (back-off waits on the clock). */
async function drive<T>(clock: ManualClock, promise: Promise<T>, step = 1_000): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => (settled = true));
  watched.catch(() => {}); // the caller asserts on it; do not let it count as unhandled meanwhile
  for (let i = 0; i < 1000 && !settled; i++) await clock.advance(step);
  return watched;
}

/** A fake upstream answering from a script, recording each call's attempt number. */
function scripted(script: (number | Error)[]) {
  const attempts: number[] = [];
  const disposed: number[] = [];
  const call = async (ctx: CallContext): Promise<CallResult> => {
    attempts.push(ctx.attempt ?? 0);
    const step = script[Math.min(attempts.length - 1, script.length - 1)]!;
    if (step instanceof Error) throw step;
    return { statusCode: step, dispose: () => void disposed.push(attempts.length) };
  };
  return { call, attempts, disposed };
}

const base = (clock: ManualClock, extra: Partial<RetryOptions> = {}): RetryOptions => ({
  attempts: 3, backoff: 'exponential', base: 100, max: 2_000, budget: 20, minRetriesPerWindow: 100, clock, random: () => 0.5, ...extra,
});
const unavailable = (): MiaRunError => new MiaRunError('MR_GW_UPSTREAM_UNAVAILABLE', 'ECONNREFUSED');

describe('retry', () => {
  test('retries 502/503/504 for GET up to the attempts cap, disposing dropped answers', async () => {
    const clock = new ManualClock();
    const up = scripted([503, 502, 504, 200]);
    const result = await drive(clock, createRetry(base(clock))(up.call)({ method: 'GET' }));
    assert.equal(result.statusCode, 504, 'the last answer is returned when attempts run out');
    assert.deepEqual(up.attempts, [1, 2, 3]);
    assert.deepEqual(up.disposed, [1, 2]);
  });

  test('stops at the first answer that is not retriable', async () => {
    const clock = new ManualClock();
    for (const status of [200, 404, 500, 429]) {
      const up = scripted([status]);
      const result = await drive(clock, createRetry(base(clock))(up.call)({ method: 'GET' }));
      assert.equal(result.statusCode, status);
      assert.equal(up.attempts.length, 1, `${status} is not retried`);
    }
  });

  test('retries connection errors and timeouts, read from the retriable flag', async () => {
    const clock = new ManualClock();
    const up = scripted([unavailable(), new MiaRunError('MR_GW_UPSTREAM_TIMEOUT', 'slow'), 200]);
    const result = await drive(clock, createRetry(base(clock))(up.call)({ method: 'DELETE' }));
    assert.equal(result.statusCode, 200);
    assert.equal(up.attempts.length, 3);
  });

  test('never retries a non-retriable error, an unknown error, or a refusal of a local guard', async () => {
    const clock = new ManualClock();
    for (const error of [
      new MiaRunError('MR_GW_FORBIDDEN', 'no'),
      new Error('the message says ECONNREFUSED but it is not a MiaRunError'),
      new MiaRunError('MR_GW_CIRCUIT_OPEN', 'open'),
      new MiaRunError('MR_GW_RATE_LIMITED', 'slow down'),
    ]) {
      const up = scripted([error]);
      await assert.rejects(drive(clock, createRetry(base(clock))(up.call)({ method: 'GET' })));
      assert.equal(up.attempts.length, 1, error.message);
    }
  });

  test('non-idempotent methods are not retried unless declared', async () => {
    const clock = new ManualClock();
    const post = scripted([503, 200]);
    assert.equal((await drive(clock, createRetry(base(clock))(post.call)({ method: 'POST' }))).statusCode, 503);
    assert.equal(post.attempts.length, 1);
    const declared = scripted([503, 200]);
    assert.equal((await drive(clock, createRetry(base(clock))(declared.call)({ method: 'POST', retryable: true }))).statusCode, 200);
    assert.equal(declared.attempts.length, 2);
    const streamed = scripted([503, 200]);
    await drive(clock, createRetry(base(clock))(streamed.call)({ method: 'PUT', retryable: false }));
    assert.equal(streamed.attempts.length, 1);
    const custom = scripted([503, 200]);
    await drive(clock, createRetry(base(clock, { methods: ['GET'] }))(custom.call)({ method: 'PUT' }));
    assert.equal(custom.attempts.length, 1, 'methods: [GET] narrows the list');
  });

  test('waits the back-off on the clock between attempts', async () => {
    const clock = new ManualClock();
    const up = scripted([503, 200]);
    const pending = createRetry(base(clock, { random: () => 0.999 }))(up.call)({ method: 'GET' });
    await clock.advance(0);
    assert.equal(up.attempts.length, 1);
    await clock.advance(98);
    assert.equal(up.attempts.length, 1, 'still backing off');
    await clock.advance(1);
    assert.equal((await pending).statusCode, 200);
    assert.equal(up.attempts.length, 2);
  });

  test('full jitter: uniform below min(max, base·2^(n-1)); constant back-off is fixed', () => {
    const o = { backoff: 'exponential', base: 100, max: 1_000 } as const;
    assert.equal(backoffDelay(o, 1, () => 0.5), 50);
    assert.equal(backoffDelay(o, 3, () => 0.5), 200);
    assert.equal(backoffDelay(o, 10, () => 0.999), 999);
    assert.equal(backoffDelay(o, 2, () => 0), 0);
    assert.equal(backoffDelay({ ...o, backoff: 'constant' }, 5, () => 0.1), 100);
  });

  test('an aborted caller stops the back-off and gets no further attempt', async () => {
    const clock = new ManualClock();
    const up = scripted([503, 200]);
    const controller = new AbortController();
    const pending = createRetry(base(clock))(up.call)({ method: 'GET', signal: controller.signal });
    await clock.advance(0);
    controller.abort(new Error('client went away'));
    await assert.rejects(pending, /client went away/);
    assert.equal(up.attempts.length, 1);
  });

  test('the retry budget caps retries at the declared share of traffic', async () => {
    const clock = new ManualClock();
    const retry = createRetry(base(clock, { budget: 20, minRetriesPerWindow: 0, attempts: 5, backoff: 'constant', base: 0 }));
    const up = scripted([503]);
    const guarded = retry(up.call);
    for (let i = 0; i < 10; i++) await drive(clock, guarded({ method: 'GET' }), 0);
    // 10 requests: at most 20 % = 2 retries in the window, whatever the attempts cap.
    assert.equal(up.attempts.length, 12);
    assert.deepEqual(retry.budgetState(), { requests: 10, retries: 2 });
  });

  test('the budget refills as the window rolls', async () => {
    const clock = new ManualClock();
    const retry = createRetry(base(clock, { budget: 50, minRetriesPerWindow: 0, attempts: 2, backoff: 'constant', base: 0, budgetWindow: 10_000 }));
    const up = scripted([503]);
    const guarded = retry(up.call);
    await drive(clock, guarded({ method: 'GET' }), 0);
    assert.equal(up.attempts.length, 1, '1 request: 50 % rounds down to no retry');
    await drive(clock, guarded({ method: 'GET' }), 0);
    assert.equal(up.attempts.length, 3, '2 requests: one retry');
    await clock.advance(20_000);
    assert.deepEqual(retry.budgetState(), { requests: 0, retries: 0 });
  });
});
