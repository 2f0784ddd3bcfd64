import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { BREAKER_CHANNEL, createCircuitBreaker, type BreakerStateChange } from '../../../src/resilience/circuit-breaker.js';
import { MiaRunError } from '../../../src/errors.js';
import type { CallContext, CallResult } from '../../../src/resilience/types.js';

const ctx: CallContext = { method: 'GET' };

/** An upstream stand-in whose next answer the test sets, counting the calls that reach it. */
function upstream() {
  const state = { status: 200, throws: undefined as unknown, calls: 0 };
  const call = async (): Promise<CallResult> => {
    state.calls++;
    if (state.throws !== undefined) throw state.throws;
    return { statusCode: state.status };
  };
  return { state, call };
}

function setup(overrides: Partial<Parameters<typeof createCircuitBreaker>[0]> = {}) {
  const clock = new ManualClock();
  const breaker = createCircuitBreaker({ name: 'payments', failureRate: 50, minRequests: 4, window: 10_000, openFor: 30_000, clock, ...overrides });
  const up = upstream();
  return { clock, breaker, up, guarded: breaker(up.call) };
}

describe('circuit breaker', () => {
  test('opens when the failure rate reaches the threshold after minRequests, then fails fast without calling', async () => {
    const { breaker, up, guarded } = setup();
    up.state.status = 503;
    for (let i = 0; i < 3; i++) assert.equal((await guarded(ctx)).statusCode, 503);
    assert.equal(breaker.state(), 'closed', 'below minRequests nothing is judged');
    up.state.status = 200;
    await guarded(ctx); // 3 failures of 4 = 75 % ≥ 50 %
    assert.equal(breaker.state(), 'open');
    const before = up.state.calls;
    await assert.rejects(guarded(ctx), (e: MiaRunError) => {
      assert.equal(e.code, 'MR_GW_CIRCUIT_OPEN');
      assert.equal(e.statusCode, 503);
      assert.equal(e.details?.retryAfter, 30);
      return true;
    });
    assert.equal(up.state.calls, before, 'an open breaker never calls the upstream');
  });

  test('4xx answers, 4xx-class errors and local refusals never count as failures', async () => {
    const { breaker, up, guarded } = setup({ minRequests: 2 });
    up.state.status = 404;
    for (let i = 0; i < 10; i++) await guarded(ctx);
    up.state.status = 429;
    for (let i = 0; i < 10; i++) await guarded(ctx);
    up.state.throws = new MiaRunError('MR_GW_FORBIDDEN', 'no');
    for (let i = 0; i < 10; i++) await assert.rejects(guarded(ctx));
    up.state.throws = new MiaRunError('MR_GW_BULKHEAD_FULL', 'a local guard refused: the upstream was not called');
    for (let i = 0; i < 10; i++) await assert.rejects(guarded(ctx));
    assert.equal(breaker.state(), 'closed');
  });

  test('timeouts and connection errors count as failures', async () => {
    const { breaker, up, guarded } = setup({ minRequests: 2 });
    up.state.throws = new MiaRunError('MR_GW_UPSTREAM_TIMEOUT', 'slow');
    await assert.rejects(guarded(ctx));
    up.state.throws = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await assert.rejects(guarded(ctx));
    assert.equal(breaker.state(), 'open');
  });

  test('failures older than the rolling window are forgotten', async () => {
    const { clock, breaker, up, guarded } = setup({ minRequests: 4 });
    up.state.status = 500;
    for (let i = 0; i < 3; i++) await guarded(ctx);
    await clock.advance(11_000);
    up.state.status = 200;
    for (let i = 0; i < 3; i++) await guarded(ctx);
    up.state.status = 500;
    await guarded(ctx); // window: 3 ok + 1 failure = 25 %
    assert.equal(breaker.state(), 'closed');
  });

  test('after openFor it lets exactly one probe through; success closes', async () => {
    const { clock, breaker, up, guarded } = setup({ minRequests: 1 });
    up.state.status = 500;
    await guarded(ctx);
    assert.equal(breaker.state(), 'open');
    await clock.advance(29_999);
    await assert.rejects(guarded(ctx), { code: 'MR_GW_CIRCUIT_OPEN' });
    await clock.advance(1);
    assert.equal(breaker.state(), 'half-open');

    // Hold the probe in flight: concurrent calls are refused without reaching the upstream.
    let release!: (r: CallResult) => void;
    const slowUp = async (): Promise<CallResult> => {
      up.state.calls++;
      return new Promise((resolve) => (release = resolve));
    };
    const guardedSlow = breaker(slowUp);
    const probe = guardedSlow(ctx);
    const calls = up.state.calls;
    await assert.rejects(guardedSlow(ctx), { code: 'MR_GW_CIRCUIT_OPEN' });
    await assert.rejects(guardedSlow(ctx), { code: 'MR_GW_CIRCUIT_OPEN' });
    assert.equal(up.state.calls, calls);
    release({ statusCode: 200 });
    await probe;
    assert.equal(breaker.state(), 'closed');
  });

  test('a failing probe re-opens for another openFor', async () => {
    const { clock, breaker, up, guarded } = setup({ minRequests: 1 });
    up.state.status = 502;
    await guarded(ctx);
    await clock.advance(30_000);
    await guarded(ctx); // the probe fails
    assert.equal(breaker.state(), 'open');
    await clock.advance(29_000);
    assert.equal(breaker.state(), 'open');
    await clock.advance(1_000);
    up.state.status = 200;
    await guarded(ctx);
    assert.equal(breaker.state(), 'closed');
  });

  test('halfOpenRequests probes must all succeed to close', async () => {
    const { clock, breaker, up, guarded } = setup({ minRequests: 1, halfOpenRequests: 3 });
    up.state.status = 500;
    await guarded(ctx);
    await clock.advance(30_000);
    up.state.status = 200;
    await guarded(ctx);
    await guarded(ctx);
    assert.equal(breaker.state(), 'half-open');
    await guarded(ctx);
    assert.equal(breaker.state(), 'closed');
  });

  test('a probe abandoned by the caller frees its slot instead of wedging half-open', async () => {
    const { clock, breaker, up, guarded } = setup({ minRequests: 1 });
    up.state.status = 500;
    await guarded(ctx);
    await clock.advance(30_000);
    const controller = new AbortController();
    controller.abort();
    up.state.throws = new Error('aborted');
    await assert.rejects(guarded({ method: 'GET', signal: controller.signal }), /aborted/);
    assert.equal(breaker.state(), 'half-open');
    up.state.throws = undefined;
    up.state.status = 200;
    await guarded(ctx);
    assert.equal(breaker.state(), 'closed');
  });

  test('publishes every state change on the diagnostics channel', async () => {
    const seen: BreakerStateChange[] = [];
    const onMessage = (m: unknown): void => void seen.push(m as BreakerStateChange);
    subscribe(BREAKER_CHANNEL, onMessage);
    try {
      const { clock, up, guarded } = setup({ minRequests: 1, name: 'billing' });
      up.state.status = 500;
      await guarded(ctx);
      await clock.advance(30_000);
      up.state.status = 200;
      await guarded(ctx);
      assert.deepEqual(seen, [
        { name: 'billing', from: 'closed', to: 'open' },
        { name: 'billing', from: 'open', to: 'half-open' },
        { name: 'billing', from: 'half-open', to: 'closed' },
      ]);
    } finally {
      unsubscribe(BREAKER_CHANNEL, onMessage);
    }
  });

  test('stats report state, window counts and rejections', async () => {
    const { breaker, up, guarded } = setup({ minRequests: 3 });
    await guarded(ctx);
    up.state.status = 500;
    await guarded(ctx);
    assert.deepEqual(breaker.stats(), { state: 'closed', successes: 1, failures: 1, slow: 0, rejected: 0 });
    await guarded(ctx);
    await assert.rejects(guarded(ctx));
    assert.equal(breaker.stats().state, 'open');
    assert.equal(breaker.stats().rejected, 1);
  });
});
