/** Resilience wrappers of one shape, `(next) => next'` (STYLE §7), and the registry built from `policies:`. */
export * from './types.js';
export { compose } from './compose.js';
export { createTimeout, type TimeoutOptions } from './timeout.js';
export { createRetry, backoffDelay, isRetriableError, IDEMPOTENT_METHODS, type Retry, type RetryOptions } from './retry.js';
export {
  createCircuitBreaker,
  BREAKER_CHANNEL,
  type BreakerState,
  type BreakerStateChange,
  type CircuitBreaker,
  type CircuitBreakerOptions,
} from './circuit-breaker.js';
export { createBulkhead, type Bulkhead, type BulkheadOptions } from './bulkhead.js';
export { createRateLimiter, type RateLimiter, type RateLimitOptions } from './rate-limit.js';
export { buildPolicies, type PolicyRegistry, type PolicyStack, type BuildPoliciesOptions } from './build-policies.js';
