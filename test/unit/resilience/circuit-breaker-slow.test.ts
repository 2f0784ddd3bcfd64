import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { createCircuitBreaker } from '../../../src/resilience/circuit-breaker.js';
import type { MiaRunError } from '../../../src/errors.js';

/** A call that answers 200 after `ms` of clock time. */
const takes = (clock: ManualClock, ms: number) => async () => {
  await clock.sleep(ms);
  return { statusCode: 200 };
};

async function run(clock: ManualClock, call: () => Promise<unknown>, ms: number): Promise<void> {
  const pending = call();
  await clock.advance(ms);
  await pending;
}

describe('circuit breaker: slow-call rate (resilience4j slowCallRateThreshold)', () => {
  test('successful but slow calls open the breaker once their share reaches slowCallRate', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ name: 'search', failureRate: 50, minRequests: 4, window: 60_000, openFor: 10_000, slowCallDuration: 500, slowCallRate: 50, clock });
    await run(clock, () => breaker(takes(clock, 100))({ method: 'GET' }), 100);
    await run(clock, () => breaker(takes(clock, 100))({ method: 'GET' }), 100);
    await run(clock, () => breaker(takes(clock, 800))({ method: 'GET' }), 800);
    assert.equal(breaker.state(), 'closed', 'below minRequests nothing is judged');
    await run(clock, () => breaker(takes(clock, 900))({ method: 'GET' }), 900);
    assert.equal(breaker.state(), 'open', '2 of 4 calls slow: 50%');
    await assert.rejects(breaker(takes(clock, 1))({ method: 'GET' }), (e: MiaRunError) => e.code === 'MR_GW_CIRCUIT_OPEN');
  });

  test('a slow probe re-opens a half-open breaker; a fast one closes it', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ name: 'search', failureRate: 100, minRequests: 1, window: 60_000, openFor: 10_000, slowCallDuration: 500, clock });
    await run(clock, () => breaker(takes(clock, 600))({ method: 'GET' }), 600);
    assert.equal(breaker.state(), 'open', 'default slowCallRate 100%: one slow call of one');
    await clock.advance(10_000);
    assert.equal(breaker.state(), 'half-open');
    await run(clock, () => breaker(takes(clock, 700))({ method: 'GET' }), 700);
    assert.equal(breaker.state(), 'open');
    await clock.advance(10_000);
    await run(clock, () => breaker(takes(clock, 50))({ method: 'GET' }), 50);
    assert.equal(breaker.state(), 'closed');
  });

  test('without slowCallDuration, duration is not judged', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ name: 'search', failureRate: 50, minRequests: 1, window: 60_000, openFor: 10_000, clock });
    for (let i = 0; i < 3; i++) await run(clock, () => breaker(takes(clock, 5_000))({ method: 'GET' }), 5_000);
    assert.equal(breaker.state(), 'closed');
    assert.equal(breaker.stats().slow, 0);
  });
});
