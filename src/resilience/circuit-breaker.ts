import { channel } from 'node:diagnostics_channel';
import type { Clock } from '../ports/clock.js';
import { MiaRunError, isMiaRunError } from '../errors.js';
import { RollingWindow } from './rolling-window.js';
import { definePolicy, type Call, type CallResult, type Policy } from './types.js';

// Why not cockatiel (installed): its breaker reads Date.now() directly (CircuitBreakerPolicy, SamplingBreaker)
// and takes no clock, so tests could not drive open → half-open → closed without sleeping (STYLE §8), and
// it publishes no diagnostics channel. The state machine below is small and mirrors resilience4j.

/** Channel of every state change, `{ name, from, to }` (STYLE §11); the runtime's metrics subscribe. */
export const BREAKER_CHANNEL = 'mia-run:gateway:breaker';
const breakerChannel = channel(BREAKER_CHANNEL);

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerStateChange {
  readonly name: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
}

export interface CircuitBreakerOptions {
  /** Upstream (or policy) name: in errors, diagnostics and metrics. */
  readonly name: string;
  /** Percentage 0-100 of failed calls in the window that opens the breaker (`failureRateThreshold`). */
  readonly failureRate: number;
  /** Calls the window must hold before the rate is judged (`minimumNumberOfCalls`, `volumeThreshold`). */
  readonly minRequests: number;
  /** Milliseconds of the rolling window. */
  readonly window: number;
  /** Milliseconds the breaker stays open (`waitDurationInOpenState`, `resetTimeout`). */
  readonly openFor: number;
  /** Probes let through when half-open (`permittedNumberOfCallsInHalfOpenState`); default 1. */
  readonly halfOpenRequests?: number;
  /** Milliseconds past which a call is slow (`slowCallDurationThreshold`); duration is judged only when set. */
  readonly slowCallDuration?: number;
  /** Percentage 0-100 of slow calls in the window that opens the breaker (`slowCallRateThreshold`); default 100. */
  readonly slowCallRate?: number;
  readonly clock: Clock;
}

export interface CircuitBreaker extends Policy {
  readonly name: string;
  /** Current state; an open breaker whose `openFor` has passed reports (and becomes) half-open. */
  state(): BreakerState;
  stats(): { state: BreakerState; successes: number; failures: number; slow: number; rejected: number };
}

type Outcome = 'success' | 'failure' | 'ignored';

/** 5xx results count as failures; 4xx never do (the upstream answered, the caller was wrong). */
function judgeResult(result: CallResult): Outcome {
  return result.statusCode >= 500 ? 'failure' : 'success';
}

// Refusals by a local guard (a bulkhead inside the breaker) never reached the upstream.
const LOCAL_REFUSALS: ReadonlySet<string> = new Set(['MR_GW_BULKHEAD_FULL', 'MR_GW_CIRCUIT_OPEN', 'MR_GW_RATE_LIMITED']);

/**
 * Timeouts and connection errors count; a 4xx-class error, a local refusal or the caller going away says
 * nothing about the upstream.
 */
function judgeError(error: unknown, signal: AbortSignal | undefined): Outcome {
  if (isMiaRunError(error)) {
    if (LOCAL_REFUSALS.has(error.code)) return 'ignored';
    if (error.code === 'MR_GW_UPSTREAM_TIMEOUT') return 'failure';
    return (error.statusCode ?? 500) >= 500 ? 'failure' : 'ignored';
  }
  return signal?.aborted ? 'ignored' : 'failure';
}

/**
 * A circuit breaker with a time-based rolling window (resilience4j semantics): closed → open when at least
 * `minRequests` calls were seen in the window and the failure rate reaches `failureRate`, or, with
 * `slowCallDuration`, the share of calls slower than it reaches `slowCallRate` (a slow probe re-opens a
 * half-open breaker); open → every call
 * fails at once with MR_GW_CIRCUIT_OPEN (503, `details.retryAfter` in seconds) without being made; after
 * `openFor` → half-open, letting exactly `halfOpenRequests` probes through; all probes succeeding closes it,
 * any probe failing re-opens it. Transitions to half-open happen on the next call or state read (no timers).
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const { clock, name } = options;
  const probes = Math.max(1, options.halfOpenRequests ?? 1);
  const window = new RollingWindow(clock, options.window, ['successes', 'failures', 'slow'] as const);
  const slowAfter = options.slowCallDuration;
  const slowRate = options.slowCallRate ?? 100;
  let current: BreakerState = 'closed';
  let openedAt = 0;
  let probesStarted = 0;
  let probesSucceeded = 0;
  let rejected = 0;

  const transition = (to: BreakerState): void => {
    const from = current;
    if (from === to) return;
    current = to;
    if (to === 'open') openedAt = clock.now();
    if (to === 'half-open') probesStarted = probesSucceeded = 0;
    window.reset(); // a new state judges only calls made in it
    if (breakerChannel.hasSubscribers) breakerChannel.publish({ name, from, to } satisfies BreakerStateChange);
  };

  const state = (): BreakerState => {
    if (current === 'open' && clock.now() - openedAt >= options.openFor) transition('half-open');
    return current;
  };

  const reject = (retryAfterMs: number): MiaRunError => {
    rejected++;
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return new MiaRunError('MR_GW_CIRCUIT_OPEN', `the circuit breaker of ${name} is open; retry in ${retryAfter} s`, {
      details: { breaker: name, retryAfter },
    });
  };

  const record = (outcome: Outcome, probe: boolean, slow = false): void => {
    if (probe) {
      if (current !== 'half-open') return; // another probe already decided
      if (outcome === 'failure' || (slow && outcome === 'success')) return transition('open');
      if (outcome === 'ignored') return void probesStarted--; // no verdict: free the slot for another probe
      if (++probesSucceeded >= probes) transition('closed');
      return;
    }
    if (current !== 'closed' || outcome === 'ignored') return;
    window.add(outcome === 'success' ? 'successes' : 'failures');
    if (slow) window.add('slow');
    const totals = window.totals();
    const total = totals.successes + totals.failures;
    if (total < options.minRequests) return;
    if ((totals.failures * 100) / total >= options.failureRate || (slowAfter !== undefined && (totals.slow * 100) / total >= slowRate)) transition('open');
  };

  const wrap = <R extends CallResult>(next: Call<R>): Call<R> => async (ctx) => {
    const now = state();
    if (now === 'open') throw reject(openedAt + options.openFor - clock.now());
    const probe = now === 'half-open';
    if (probe) {
      // Probes still in flight: everyone else waits; a second or so is a fair hint.
      if (probesStarted >= probes) throw reject(1000);
      probesStarted++;
    }
    // Duration is read only when the breaker judges it (two clock reads per call).
    const started = slowAfter === undefined ? 0 : clock.now();
    let result: R;
    try {
      result = await next(ctx);
    } catch (error) {
      record(judgeError(error, ctx.signal), probe, slowAfter !== undefined && clock.now() - started > slowAfter);
      throw error;
    }
    record(judgeResult(result), probe, slowAfter !== undefined && clock.now() - started > slowAfter);
    return result;
  };

  return definePolicy('circuitBreaker', wrap, {
    name,
    state,
    stats: () => ({ state: state(), ...window.totals(), rejected }),
  });
}
