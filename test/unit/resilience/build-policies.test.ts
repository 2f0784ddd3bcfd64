import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { buildPolicies } from '../../../src/resilience/build-policies.js';
import { compose } from '../../../src/resilience/compose.js';
import { createRetry } from '../../../src/resilience/retry.js';
import { createTimeout } from '../../../src/resilience/timeout.js';
import { definePolicy, type Call, type CallResult, type PolicyKind } from '../../../src/resilience/types.js';
import type { PoliciesConfig } from '../../../src/config/types.js';

const config: PoliciesConfig = {
  timeouts: { fast: 2_000, slow: 30_000 },
  retries: { idempotent: { attempts: 3, backoff: 'exponential', base: 100, max: 1_000, methods: ['GET', 'HEAD'], budget: 20 } },
  circuitBreakers: { upstream: { failureRate: 50, minRequests: 2, window: 10_000, openFor: 30_000, halfOpenRequests: 1 } },
  rateLimits: { perClient: { requests: 2, per: 1_000, key: 'client' } },
  bulkheads: { small: { maxConcurrent: 1 } },
};

/** A policy that records when it is entered, to observe the composed order. */
const tracer = (kind: PolicyKind, log: string[]) =>
  definePolicy(kind, <R extends CallResult>(next: Call<R>): Call<R> => (ctx) => {
    log.push(kind);
    return next(ctx);
  });

describe('compose', () => {
  test('runs rate limit → timeout → retry → attempt timeout → breaker → bulkhead whatever the listed order', async () => {
    const log: string[] = [];
    const kinds: PolicyKind[] = ['bulkhead', 'circuitBreaker', 'attemptTimeout', 'retry', 'timeout', 'rateLimit'];
    const wrap = compose(...kinds.map((k) => tracer(k, log)));
    await wrap(async () => ({ statusCode: 200 }))({ method: 'GET' });
    assert.deepEqual(log, ['rateLimit', 'timeout', 'retry', 'attemptTimeout', 'circuitBreaker', 'bulkhead']);
  });

  test('a per-attempt timeout inside retry: a hung attempt is cut and the next one answers', async () => {
    const clock = new ManualClock();
    const signals: AbortSignal[] = [];
    let calls = 0;
    const up = async (ctx: { signal?: AbortSignal }): Promise<CallResult> => {
      signals.push(ctx.signal!);
      if (++calls === 1) return new Promise<never>(() => {}); // hangs
      return { statusCode: 200 };
    };
    const guarded = compose(
      createTimeout({ ms: 10_000, clock }),
      createRetry({ attempts: 3, backoff: 'constant', base: 10, max: 10, budget: 100, clock }),
      createTimeout({ ms: 1_000, clock, scope: 'attempt' }),
    )(up);
    const pending = guarded({ method: 'GET' });
    await clock.advance(1_000);
    assert.equal(signals[0]!.aborted, true, 'the hung attempt was told to stop');
    await clock.advance(10);
    assert.equal((await pending).statusCode, 200);
    assert.equal(calls, 2);
  });

  test('no policies is the call itself', async () => {
    const call = async () => ({ statusCode: 204 });
    assert.equal((await compose()(call)({ method: 'GET' })).statusCode, 204);
  });
});

describe('buildPolicies', () => {
  test('resolves a name list to one stack in the fixed order and reports the rate-limit key', () => {
    const registry = buildPolicies(config, { clock: new ManualClock() });
    const stack = registry.resolve(['small', 'upstream', 'idempotent', 'fast', 'perClient'], 'payments');
    assert.deepEqual(stack.policies.map((p) => p.kind).sort(), ['bulkhead', 'circuitBreaker', 'rateLimit', 'retry', 'timeout']);
    assert.equal(stack.rateLimitKey, 'client');
    assert.equal(stack.breaker?.name, 'payments');
    assert.equal(registry.kindOf('fast'), 'timeout');
    assert.equal(registry.kindOf('nope'), undefined);
  });

  test('stateful policies are built once per scope: each upstream its own breaker', async () => {
    const clock = new ManualClock();
    const registry = buildPolicies(config, { clock });
    const a = registry.resolve(['upstream'], 'payments');
    const again = registry.resolve(['upstream'], 'payments');
    const b = registry.resolve(['upstream'], 'legacy');
    assert.equal(a.breaker, again.breaker);
    assert.notEqual(a.breaker, b.breaker);
    const failing = a.wrap(async () => ({ statusCode: 500 }));
    await failing({ method: 'POST' });
    await failing({ method: 'POST' });
    assert.equal(a.breaker?.state(), 'open');
    assert.equal(b.breaker?.state(), 'closed');
    assert.deepEqual(registry.breakers().map((x) => x.name), ['payments', 'legacy']);
  });

  test('the composed stack behaves: retry inside the timeout, breaker counting each attempt', async () => {
    const clock = new ManualClock();
    const registry = buildPolicies(config, { clock, random: () => 0 });
    const { wrap, breaker } = registry.resolve(['upstream', 'idempotent', 'slow'], 'search');
    let calls = 0;
    const up = wrap(async () => ({ statusCode: (++calls, 503) }));
    const outcome = assert.rejects(up({ method: 'GET' }), { code: 'MR_GW_CIRCUIT_OPEN' });
    await clock.advance(0);
    await clock.advance(0);
    await outcome;
    assert.equal(calls, 2, 'the breaker opened after two failed attempts, so the third was refused at once');
    assert.equal(breaker?.state(), 'open');
  });

  test('unknown names, two policies of one kind and names reused across sections are errors', () => {
    const registry = buildPolicies(config, { clock: new ManualClock() });
    assert.throws(() => registry.resolve(['fastt']), { code: 'MR_CONFIG_UNKNOWN_REF' });
    assert.throws(() => registry.resolve(['fast', 'slow']), { code: 'MR_CONFIG_INVALID_VALUE' });
    assert.throws(
      () => buildPolicies({ ...config, bulkheads: { fast: { maxConcurrent: 1 } } }, { clock: new ManualClock() }),
      { code: 'MR_CONFIG_DUPLICATE' },
    );
  });
});
