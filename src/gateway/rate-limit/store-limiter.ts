import { MiaRunError, isMiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Collection, DocumentStore } from '../../ports/document-store.js';
import { definePolicy, type Call, type CallResult, type Policy, type RateLimitInfo, type RateLimiter } from '../../resilience/index.js';

/** Collection of the shared counters in the store a rate limit names (`policies.rateLimits.*.store`). */
export const RATE_LIMIT_COLLECTION = 'mia_run_rate_limits';

export type Taken = RateLimitInfo & { readonly allowed: boolean };

/** A limiter whose decision may need a store round trip. */
export interface SharedRateLimiter extends Policy {
  take(key: string): Promise<Taken>;
}

export interface StoreRateLimiterOptions {
  readonly store: DocumentStore;
  /** Policy name and scope (endpoint or upstream): they keep the counters of each use apart. */
  readonly name: string;
  readonly scope: string;
  readonly requests: number;
  /** Milliseconds of one window. */
  readonly per: number;
  readonly clock: Clock;
  /** Decides while the store cannot be reached (the process's own token bucket), so an outage neither blocks nor unlimits callers. */
  readonly fallback: RateLimiter;
  /** Told once per outage that the store failed; default nothing. */
  readonly onStoreError?: (error: unknown) => void;
}

interface Counter {
  readonly count?: number;
}

/**
 * A rate limit shared by every process that serves the project (gateway.md §5): one counter per key and
 * fixed window in the project's store, incremented atomically (`findOneAndUpdate` with `$inc` and upsert),
 * the way @fastify/rate-limit's Redis store counts. Counters carry `expiresAt` under a TTL index, so old
 * windows disappear by themselves. A fixed window admits at most `requests` per window per key; at a
 * window boundary a caller may get up to two windows' worth in a short time (the price of one round trip
 * per request). While the store fails, the process's own token bucket decides.
 */
export function createStoreRateLimiter(options: StoreRateLimiterOptions): SharedRateLimiter {
  const { clock, requests, per } = options;
  let collection: Collection | undefined;
  let prepared: Promise<void> | undefined;
  let failing = false;

  const prepare = (): Promise<void> =>
    (prepared ??= (async () => {
      collection = options.store.collection(RATE_LIMIT_COLLECTION);
      if (options.store.features.has('ttl')) await collection.ensureIndexes([{ name: 'expiresAt_ttl', key: { expiresAt: 1 }, expireAfterSeconds: 0 }]);
    })().catch((error: unknown) => {
      prepared = undefined; // try again on the next request
      throw error;
    }));

  const increment = async (id: string, expiresAt: Date): Promise<number> => {
    const update = { $inc: { count: 1 }, $setOnInsert: { expiresAt } };
    try {
      const doc = (await collection!.findOneAndUpdate({ _id: id }, update, { upsert: true, returnDocument: 'after' })) as Counter | null;
      return doc?.count ?? 1;
    } catch (error) {
      // Two processes creating the same counter at once: one upsert loses the race; the document exists now.
      if (!isMiaRunError(error) || error.code !== 'MR_STORE_DUPLICATE_KEY') throw error;
      const doc = (await collection!.findOneAndUpdate({ _id: id }, update, { returnDocument: 'after' })) as Counter | null;
      return doc?.count ?? 1;
    }
  };

  const take = async (key: string): Promise<Taken> => {
    const now = clock.now();
    const window = Math.floor(now / per);
    const end = (window + 1) * per;
    let count: number;
    try {
      await prepare();
      count = await increment(`${options.name}|${options.scope}|${key}|${window}`, new Date(end));
      failing = false;
    } catch (error) {
      if (!failing) options.onStoreError?.(error);
      failing = true;
      return options.fallback.take(key);
    }
    const allowed = count <= requests;
    const reset = Math.max(1, Math.ceil((end - now) / 1000));
    return { allowed, limit: requests, remaining: Math.max(0, requests - count), reset, retryAfter: allowed ? 0 : reset };
  };

  const wrap = <R extends CallResult>(next: Call<R>): Call<R> => async (ctx) => {
    const { allowed, ...info } = await take(ctx.rateLimitKey ?? '');
    if (!allowed) {
      throw new MiaRunError('MR_GW_RATE_LIMITED', `rate limit of ${requests} requests per ${per} ms exceeded`, { details: { ...info, policy: options.name } });
    }
    ctx.onRateLimit?.(info);
    return next(ctx);
  };

  return definePolicy('rateLimit', wrap, { take });
}
