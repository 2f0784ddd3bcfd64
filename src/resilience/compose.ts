import { POLICY_ORDER, type Call, type CallResult, type Policy } from './types.js';

const rank = (p: Policy): number => POLICY_ORDER.indexOf(p.kind);

/**
 * Composes policies into one wrapper in the fixed order of gateway.md §5 (rate limit → timeout → retry →
 * per-attempt timeout → circuit breaker → bulkhead → call), whatever order they are given in. Built once per
 * endpoint or upstream at start-up; the returned function only wraps.
 *
 * @example
 * const guarded = compose(breaker, timeout, retry)(callUpstream); // timeout(retry(breaker(callUpstream)))
 */
export function compose(...policies: readonly Policy[]): <R extends CallResult>(call: Call<R>) => Call<R> {
  // Sort is stable, so two policies of one kind keep the order they were given in.
  const ordered = [...policies].sort((a, b) => rank(a) - rank(b));
  return <R extends CallResult>(call: Call<R>): Call<R> => ordered.reduceRight<Call<R>>((next, policy) => policy(next), call);
}
