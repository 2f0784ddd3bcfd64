import type { Clock } from '../ports/clock.js';
import { MiaRunError } from '../errors.js';
import { definePolicy, type Call, type CallResult, type Policy, type RateLimitInfo } from './types.js';

export interface RateLimitOptions {
  /** Bucket size: requests allowed in a burst, and per `per` on average. */
  readonly requests: number;
  /** Milliseconds in which a bucket refills completely. */
  readonly per: number;
  readonly clock: Clock;
  /** Most keys kept; past it idle (full) buckets are dropped, then the least recently used. Default 10000. */
  readonly maxKeys?: number;
  readonly name?: string;
}

export interface RateLimiter extends Policy {
  /** Takes one token for `key`; `allowed` false when the bucket is empty (no token is taken then). */
  take(key: string): RateLimitInfo & { readonly allowed: boolean };
  /** Keys currently tracked (bounded by `maxKeys`). */
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key (client key, user id or IP). Tokens refill continuously at `requests / per`; a
 * request takes one or fails at once with MR_GW_RATE_LIMITED (429) whose `details` carry the header values
 * (`limit`, `remaining`, `reset`, `retryAfter`). Memory is bounded: a full bucket is the same as no bucket,
 * so idle keys are forgotten first; only under pressure from more than `maxKeys` active keys is the least
 * recently used bucket dropped (that key then starts full: lenient, never stricter).
 */
export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const { clock, requests: capacity } = options;
  const rate = capacity / options.per; // tokens per millisecond
  const maxKeys = options.maxKeys ?? 10_000;
  // Map iteration order is insertion order; re-inserting on use keeps it least-recently-used first.
  const buckets = new Map<string, Bucket>();

  const refill = (bucket: Bucket, now: number): void => {
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
  };

  const evict = (now: number): void => {
    for (const [key, bucket] of buckets) {
      refill(bucket, now);
      if (bucket.tokens >= capacity) buckets.delete(key);
    }
    // Still full of active keys (a flood of distinct IPs): drop a tenth at once so the scan above is rare.
    const target = Math.floor(maxKeys * 0.9);
    for (const key of buckets.keys()) {
      if (buckets.size <= target) break;
      buckets.delete(key);
    }
  };

  const take = (key: string): RateLimitInfo & { allowed: boolean } => {
    const now = clock.now();
    let bucket = buckets.get(key);
    if (bucket) {
      buckets.delete(key);
      refill(bucket, now);
    } else {
      if (buckets.size >= maxKeys) evict(now);
      bucket = { tokens: capacity, at: now };
    }
    buckets.set(key, bucket);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const remaining = Math.floor(bucket.tokens);
    return {
      allowed,
      limit: capacity,
      remaining,
      reset: Math.ceil((capacity - bucket.tokens) / rate / 1000),
      retryAfter: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000)),
    };
  };

  const wrap = <R extends CallResult>(next: Call<R>): Call<R> => async (ctx) => {
    const { allowed, ...info } = take(ctx.rateLimitKey ?? '');
    if (!allowed) {
      throw new MiaRunError('MR_GW_RATE_LIMITED', `rate limit of ${capacity} requests per ${options.per} ms exceeded`, {
        details: { ...info, ...(options.name === undefined ? {} : { policy: options.name }) },
      });
    }
    ctx.onRateLimit?.(info);
    return next(ctx);
  };

  return definePolicy('rateLimit', wrap, { take, size: () => buckets.size });
}
