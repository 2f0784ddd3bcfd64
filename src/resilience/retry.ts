import type { Clock } from '../ports/clock.js';
import { isMiaRunError, type ErrorCode } from '../errors.js';
import { RollingWindow } from './rolling-window.js';
import { definePolicy, type Call, type CallContext, type CallResult, type Policy } from './types.js';

export interface RetryOptions {
  /** Total attempts including the first (resilience4j `maxAttempts`); 1 disables retrying. */
  readonly attempts: number;
  readonly backoff: 'exponential' | 'constant';
  /** Milliseconds: first back-off ceiling (exponential) or the fixed delay (constant). */
  readonly base: number;
  /** Milliseconds: ceiling of any one back-off. */
  readonly max: number;
  /** Methods safe to repeat; default the idempotent ones of RFC 9110 §9.2.2. */
  readonly methods?: readonly string[];
  /** Retries may add at most this percentage of extra load over `budgetWindow`. */
  readonly budget: number;
  /** Milliseconds; default 10 s. */
  readonly budgetWindow?: number;
  /** Retries always allowed per window so a quiet upstream can still be retried; default 10. */
  readonly minRetriesPerWindow?: number;
  readonly clock: Clock;
  /** Returns [0, 1); injectable so tests get a known jitter. */
  readonly random?: () => number;
}

export const IDEMPOTENT_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'];
const RETRIABLE_STATUS = new Set([502, 503, 504]);
// Retriable in general but not by repeating at once: the local guard would refuse again (or the caller
// was told to slow down), so a retry only adds load.
const NOT_REPEATED: ReadonlySet<ErrorCode> = new Set(['MR_GW_CIRCUIT_OPEN', 'MR_GW_BULKHEAD_FULL', 'MR_GW_RATE_LIMITED']);

/** True for errors worth another attempt: connection errors and timeouts, read from `retriable`, never from text. */
export function isRetriableError(error: unknown): boolean {
  return isMiaRunError(error) && error.retriable && !NOT_REPEATED.has(error.code);
}

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, min(max, base·2^(n-1))). */
export function backoffDelay(options: Pick<RetryOptions, 'backoff' | 'base' | 'max'>, retryNo: number, random: () => number): number {
  if (options.backoff === 'constant') return Math.min(options.base, options.max);
  const ceiling = Math.min(options.max, options.base * 2 ** (retryNo - 1));
  return Math.floor(random() * ceiling);
}

export interface Retry extends Policy {
  /** Requests and retries counted in the current budget window. */
  budgetState(): { requests: number; retries: number };
}

/**
 * Repeats a call that failed in a way another attempt may fix: connection errors, timeouts and upstream
 * 502/503/504, for idempotent methods (or calls declared retryable). Back-off waits on the Clock port; a
 * retry budget (Finagle/Envoy style) caps retries at `budget`% of the calls seen in the window, so retries
 * cannot multiply the load on an upstream that is already failing.
 */
export function createRetry(options: RetryOptions): Retry {
  const { clock } = options;
  const random = options.random ?? Math.random;
  const methods = new Set((options.methods ?? IDEMPOTENT_METHODS).map((m) => m.toUpperCase()));
  const window = new RollingWindow(clock, options.budgetWindow ?? 10_000, ['requests', 'retries'] as const);
  const minRetries = options.minRetriesPerWindow ?? 10;

  const mayRepeat = (ctx: CallContext): boolean => ctx.retryable ?? methods.has(ctx.method.toUpperCase());
  const budgetAllows = (): boolean => {
    const { requests, retries } = window.totals();
    return retries < Math.max(minRetries, Math.floor((requests * options.budget) / 100));
  };

  const wrap = <R extends CallResult>(next: Call<R>): Call<R> => async (ctx) => {
    window.add('requests');
    const repeatable = mayRepeat(ctx);
    for (let attempt = 1; ; attempt++) {
      const last = !repeatable || attempt >= options.attempts;
      let result: R;
      try {
        result = await next({ ...ctx, attempt });
      } catch (error) {
        if (last || !isRetriableError(error) || ctx.signal?.aborted || !budgetAllows()) throw error;
        await pause(attempt);
        continue;
      }
      if (last || !RETRIABLE_STATUS.has(result.statusCode) || ctx.signal?.aborted || !budgetAllows()) return result;
      await result.dispose?.();
      await pause(attempt);
    }

    async function pause(retryNo: number): Promise<void> {
      window.add('retries');
      await clock.sleep(backoffDelay(options, retryNo, random), ctx.signal);
    }
  };

  return definePolicy('retry', wrap, { budgetState: () => window.totals() });
}
