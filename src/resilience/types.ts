/**
 * The one shape of every resilience wrapper (STYLE §7): a call is `(ctx) => Promise<result>` and a policy
 * turns a call into a guarded call, `(next) => next'`. Policies carry their `kind` so `compose` can put them
 * in the fixed order of gateway.md §5 whatever order they are listed in.
 */

/** What a wrapped call receives. Wrappers pass a copy down with their own changes (signal, attempt). */
export interface CallContext {
  /** HTTP method of the call; retry reads it to decide idempotency. */
  readonly method: string;
  /** Aborted when the caller gives up (client gone, overall timeout); the call should stop its I/O. */
  readonly signal?: AbortSignal;
  /**
   * `true` declares the call safe to repeat whatever its method (an idempotency key), `false` forbids
   * repeating it (a streamed body that cannot be replayed); absent = decided by method.
   */
  readonly retryable?: boolean;
  /** Rate-limit bucket key (client key, user id or IP, chosen by the HTTP layer from the policy's `key`). */
  readonly rateLimitKey?: string;
  /** Receives the rate-limit state of an admitted call so the HTTP layer can set `RateLimit-*` headers. */
  readonly onRateLimit?: (info: RateLimitInfo) => void;
  /** 1 for the first attempt; set by retry. */
  readonly attempt?: number;
}

/** What a call answers. Upstream 4xx/5xx are results, not exceptions; failures to get an answer throw. */
export interface CallResult {
  readonly statusCode: number;
  /** Releases what the result holds (an unread response body) when a wrapper drops it, e.g. before a retry. */
  readonly dispose?: () => void | Promise<void>;
}

export type Call<R extends CallResult = CallResult> = (ctx: CallContext) => Promise<R>;

/** Fixed order of gateway.md §5, outermost first. `attemptTimeout` is a per-attempt timeout inside retry. */
export const POLICY_ORDER = ['rateLimit', 'timeout', 'retry', 'attemptTimeout', 'circuitBreaker', 'bulkhead'] as const;
export type PolicyKind = (typeof POLICY_ORDER)[number];

/** A wrapper of one kind. Generic over the result so a proxy's streaming result type flows through. */
export interface Policy {
  <R extends CallResult>(next: Call<R>): Call<R>;
  readonly kind: PolicyKind;
}

/** Tags a wrapper function with its kind. */
export function definePolicy<P extends object>(
  kind: PolicyKind,
  wrap: <R extends CallResult>(next: Call<R>) => Call<R>,
  extra?: P,
): Policy & P {
  // defineProperty, not assign: a function's own `name` is read-only but configurable (breakers set it).
  for (const [key, value] of Object.entries({ ...extra, kind })) Object.defineProperty(wrap, key, { value, enumerable: true });
  return wrap as Policy & P;
}

/** Limit state reported to the HTTP layer (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`, `Retry-After`). */
export interface RateLimitInfo {
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the bucket is full again. */
  readonly reset: number;
  /** Seconds until the next request would be admitted (0 when admitted). */
  readonly retryAfter: number;
}
