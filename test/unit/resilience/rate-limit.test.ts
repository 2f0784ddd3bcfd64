import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { createRateLimiter } from '../../../src/resilience/rate-limit.js';
import { MiaRunError } from '../../../src/errors.js';
import type { RateLimitInfo } from '../../../src/resilience/types.js';

const ok = async () => ({ statusCode: 200 });

describe('rate limit (token bucket per key)', () => {
  test('admits a burst of `requests`, then 429 with Retry-After and RateLimit-* values', async () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({ requests: 3, per: 3_000, clock, name: 'perClient' });
    const seen: RateLimitInfo[] = [];
    const guarded = limiter(ok);
    for (let i = 0; i < 3; i++) await guarded({ method: 'GET', rateLimitKey: 'web', onRateLimit: (info) => seen.push(info) });
    assert.deepEqual(seen.map((s) => s.remaining), [2, 1, 0]);
    assert.deepEqual(seen[2], { limit: 3, remaining: 0, reset: 3, retryAfter: 0 });
    await assert.rejects(guarded({ method: 'GET', rateLimitKey: 'web' }), (e: MiaRunError) => {
      assert.equal(e.code, 'MR_GW_RATE_LIMITED');
      assert.equal(e.statusCode, 429);
      assert.deepEqual(e.details, { limit: 3, remaining: 0, reset: 3, retryAfter: 1, policy: 'perClient' });
      return true;
    });
  });

  test('refills continuously over clock time', async () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({ requests: 10, per: 1_000, clock });
    for (let i = 0; i < 10; i++) assert.equal(limiter.take('k').allowed, true);
    assert.equal(limiter.take('k').allowed, false);
    await clock.advance(99);
    assert.equal(limiter.take('k').allowed, false, '0.99 token is not a token');
    await clock.advance(1);
    assert.equal(limiter.take('k').allowed, true);
    assert.equal(limiter.take('k').allowed, false);
    await clock.advance(10_000);
    const info = limiter.take('k');
    assert.equal(info.remaining, 9, 'never more than the bucket size');
  });

  test('keys are independent', () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({ requests: 1, per: 60_000, clock });
    assert.equal(limiter.take('alice').allowed, true);
    assert.equal(limiter.take('alice').allowed, false);
    assert.equal(limiter.take('bob').allowed, true);
    const denied = limiter.take('alice');
    assert.equal(denied.retryAfter, 60);
  });

  test('memory is bounded: idle (refilled) keys are dropped first, then the least recently used', async () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({ requests: 2, per: 1_000, clock, maxKeys: 100 });
    for (let i = 0; i < 100; i++) limiter.take(`ip-${i}`);
    assert.equal(limiter.size(), 100);
    await clock.advance(1_000); // every bucket is full again: they carry no information
    limiter.take('newcomer');
    assert.equal(limiter.size(), 1);

    // A flood of distinct active keys never grows the map past maxKeys.
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`flood-${i}`);
      limiter.take(`flood-${i}`);
    }
    assert.ok(limiter.size() <= 100, `size ${limiter.size()}`);
    // The most recent keys are still limited.
    assert.equal(limiter.take('flood-9999').allowed, false);
  });
});
