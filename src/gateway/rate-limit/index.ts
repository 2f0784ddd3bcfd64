/**
 * Rate limits of the gateway (gateway.md §5): what a caller is counted by, and the limiter of each use of a
 * `policies.rateLimits` entry, in-process (a token bucket per key, the default) or shared by every process
 * through the project's store (`store: <database>`).
 */
// Why not @fastify/rate-limit (installed): its stores read Date.now() (LocalStore), so limits could not be
// tested on the Clock port without sleeping (STYLE §8); it runs as a hook of its own before our guard has
// authenticated the caller, while `key: client | user` needs the identity; and its shared stores are Redis
// ones, whereas a project's shared state lives in its DocumentStore. The token bucket and the store counter
// here are small and run inside the one guard hook of an endpoint.
import type { PoliciesConfig, RateLimitPolicy } from '../../config/types.js';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import { createMetricEmitter } from '../../ports/telemetry.js';
import { isDocumentStore } from '../../ports/document-store.js';
import type { Backend } from '../../ports/lifecycle.js';
import type { Policy, PolicyRegistry } from '../../resilience/index.js';
import type { Identity } from '../auth/index.js';
import { createStoreRateLimiter, type Taken } from './store-limiter.js';

export { RATE_LIMIT_COLLECTION, createStoreRateLimiter, type SharedRateLimiter, type Taken } from './store-limiter.js';

export type RateLimitKeyKind = RateLimitPolicy['key'];

/**
 * The bucket a caller is counted in: `client` by its client key (a non-secret id of the key, so two
 * keys of one client type are limited apart), `user` by user id, `ip` by address. A caller without what the
 * policy counts by (no key, anonymous) is counted by its address.
 */
export function rateLimitKey(kind: RateLimitKeyKind, identity: Identity | undefined, ip: string): string {
  if (kind === 'client' && identity?.clientKeyId !== undefined) return `c:${identity.clientKeyId}`;
  if (kind === 'user' && identity?.userId !== undefined) return `u:${identity.userId}`;
  return `i:${ip}`;
}

/** The limiter of an endpoint's `rateLimit:`; `take` is synchronous unless the limit lives in a store. */
export interface EndpointRateLimit {
  readonly key: RateLimitKeyKind;
  take(key: string): Taken | Promise<Taken>;
}

export interface RateLimits {
  /** The limiter of `endpoint.rateLimit` for the endpoint at `scope` (its base path). */
  endpoint(name: string, scope: string): EndpointRateLimit;
  /** An upstream's policy list with a store-backed rate limit in place of the in-process one, where declared. */
  policies(names: readonly string[], built: readonly Policy[], scope: string): Policy[];
}

export interface RateLimitsOptions {
  readonly config: PoliciesConfig;
  readonly registry: PolicyRegistry;
  readonly stores: ReadonlyMap<string, Backend>;
  readonly clock: Clock;
  readonly warn: (message: string, details: Record<string, unknown>) => void;
}

/** Builds the rate limiters at start-up; shared ones touch their store on the first request only. */
export function createRateLimits(options: RateLimitsOptions): RateLimits {
  const { config, registry, clock } = options;
  const shared = new Map<string, ReturnType<typeof createStoreRateLimiter>>();
  const metrics = createMetricEmitter('gateway');
  /** `take` that counts refusals (`rate_limit_rejections_total{policy,scope}`); admitted requests cost one test. */
  const counted = (name: string, scope: string, take: EndpointRateLimit['take']): EndpointRateLimit['take'] => {
    const labels = { policy: name, scope };
    const help = 'Requests refused by a rate limit, by policy and scope';
    const judge = (taken: Taken): Taken => {
      if (!taken.allowed) metrics.count('rate_limit_rejections', help, labels);
      return taken;
    };
    return (key) => {
      const taken = take(key);
      return taken instanceof Promise ? taken.then(judge) : judge(taken);
    };
  };

  const sharedLimiter = (name: string, scope: string, policy: RateLimitPolicy & { readonly store: string }) => {
    const id = `${name}\u0000${scope}`;
    let limiter = shared.get(id);
    if (limiter) return limiter;
    const store = options.stores.get(policy.store);
    if (store === undefined || !isDocumentStore(store)) {
      throw new MiaRunError('MR_CONFIG_UNKNOWN_REF', `rate limit "${name}": "${policy.store}" is not a declared database with a document store`);
    }
    const fallback = registry.resolve([name], scope).rateLimiter!;
    limiter = createStoreRateLimiter({
      store,
      name,
      scope,
      requests: policy.requests,
      per: policy.per,
      clock,
      fallback,
      onStoreError: (error) => options.warn(`rate limit "${name}": the store "${policy.store}" failed; this process counts on its own until it answers`, { err: error, policy: name }),
    });
    shared.set(id, limiter);
    return limiter;
  };

  const declared = (name: string): RateLimitPolicy => {
    const policy = config.rateLimits[name];
    if (policy === undefined) throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `"${name}" is not a rate limit policy`);
    return policy;
  };

  return {
    endpoint(name, scope) {
      const policy = declared(name);
      const where = `endpoint ${scope}`;
      if (policy.store !== undefined) return { key: policy.key, take: counted(name, where, sharedLimiter(name, where, { ...policy, store: policy.store }).take) };
      const limiter = registry.resolve([name], where).rateLimiter!;
      return { key: policy.key, take: counted(name, where, limiter.take) };
    },
    policies(names, built, scope) {
      const name = names.find((n) => registry.kindOf(n) === 'rateLimit');
      const policy = name === undefined ? undefined : config.rateLimits[name];
      if (name === undefined || policy?.store === undefined) return [...built];
      const limiter = sharedLimiter(name, scope, { ...policy, store: policy.store });
      return built.map((p) => (p.kind === 'rateLimit' ? limiter : p));
    },
  };
}
