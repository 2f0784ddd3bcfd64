import type { Clock } from '../ports/clock.js';
import type { PoliciesConfig } from '../config/types.js';
import { MiaRunError } from '../errors.js';
import { createBulkhead } from './bulkhead.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import { compose } from './compose.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { createRetry } from './retry.js';
import { createTimeout } from './timeout.js';
import type { Call, CallResult, Policy, PolicyKind } from './types.js';

export interface BuildPoliciesOptions {
  readonly clock: Clock;
  /** Jitter source for retries; default Math.random. */
  readonly random?: () => number;
}

/** The composed guard of one endpoint or upstream, built once at start-up. */
export interface PolicyStack {
  /** Wraps a call with every policy, in the fixed order of gateway.md §5. */
  readonly wrap: <R extends CallResult>(call: Call<R>) => Call<R>;
  readonly policies: readonly Policy[];
  readonly breaker?: CircuitBreaker;
  readonly rateLimiter?: RateLimiter;
  /** What the HTTP layer uses as `ctx.rateLimitKey` when a rate limit is in the stack. */
  readonly rateLimitKey?: 'client' | 'user' | 'ip';
}

export interface PolicyRegistry {
  /** Kind of a declared name (`timeout`, `retry`, ...), or undefined. */
  kindOf(name: string): PolicyKind | undefined;
  /**
   * The stack for a list of policy names, e.g. an upstream's `[fast, idempotent, upstream]`. Stateful
   * policies (breaker, bulkhead, retry budget, rate-limit buckets) get one instance per (name, scope), so
   * each upstream has its own breaker; asking again for the same scope returns the same instances.
   * Throws MR_CONFIG_UNKNOWN_REF / MR_CONFIG_INVALID_VALUE for names the config rules should have caught.
   */
  resolve(names: readonly string[], scope?: string): PolicyStack;
  /** Every breaker built so far (for `/-/metrics` and status). */
  breakers(): readonly CircuitBreaker[];
}

type Section = keyof PoliciesConfig;
const SECTION_KIND: Record<Section, PolicyKind> = {
  timeouts: 'timeout',
  retries: 'retry',
  circuitBreakers: 'circuitBreaker',
  rateLimits: 'rateLimit',
  bulkheads: 'bulkhead',
};

/** Builds the named policies of the `policies:` section (normalized ProjectConfig) once. */
export function buildPolicies(config: PoliciesConfig, options: BuildPoliciesOptions): PolicyRegistry {
  const { clock } = options;
  const sections = new Map<string, Section>();
  for (const section of Object.keys(SECTION_KIND) as Section[]) {
    for (const name of Object.keys(config[section] ?? {})) {
      const other = sections.get(name);
      if (other) {
        throw new MiaRunError('MR_CONFIG_DUPLICATE', `policy "${name}" is declared in both policies.${other} and policies.${section}`);
      }
      sections.set(name, section);
    }
  }
  const instances = new Map<string, Policy>();
  const breakers: CircuitBreaker[] = [];

  const instantiate = (name: string, section: Section, scope: string): Policy => {
    const label = scope || name;
    switch (section) {
      case 'timeouts':
        return createTimeout({ ms: config.timeouts[name]!, clock, name: label });
      case 'retries':
        return createRetry({ ...config.retries[name]!, clock, ...(options.random ? { random: options.random } : {}) });
      case 'circuitBreakers': {
        const breaker = createCircuitBreaker({ ...config.circuitBreakers[name]!, name: label, clock });
        breakers.push(breaker);
        return breaker;
      }
      case 'rateLimits':
        return createRateLimiter({ ...config.rateLimits[name]!, clock, name });
      case 'bulkheads':
        return createBulkhead({ ...config.bulkheads[name]!, name: label });
    }
  };

  const instance = (name: string, scope: string): Policy => {
    const section = sections.get(name);
    if (!section) throw new MiaRunError('MR_CONFIG_UNKNOWN_REF', `"${name}" is not a declared policy`);
    // Timeouts hold no state, so one instance serves every scope.
    const id = section === 'timeouts' ? `${name}\u0000` : `${name}\u0000${scope}`;
    let policy = instances.get(id);
    if (!policy) instances.set(id, (policy = instantiate(name, section, scope)));
    return policy;
  };

  return {
    kindOf: (name) => {
      const section = sections.get(name);
      return section && SECTION_KIND[section];
    },
    resolve(names, scope = '') {
      const policies = names.map((name) => instance(name, scope));
      const seen = new Map<PolicyKind, string>();
      names.forEach((name, i) => {
        const kind = policies[i]!.kind;
        const previous = seen.get(kind);
        if (previous !== undefined && previous !== name) {
          throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `policies "${previous}" and "${name}" are both of kind ${kind}; list at most one`);
        }
        seen.set(kind, name);
      });
      const unique = [...new Set(policies)];
      const rateLimitName = seen.get('rateLimit');
      return {
        wrap: compose(...unique),
        policies: unique,
        ...(seen.has('circuitBreaker') ? { breaker: unique.find((p) => p.kind === 'circuitBreaker') as CircuitBreaker } : {}),
        ...(rateLimitName === undefined
          ? {}
          : { rateLimiter: unique.find((p) => p.kind === 'rateLimit') as RateLimiter, rateLimitKey: config.rateLimits[rateLimitName]!.key }),
      };
    },
    breakers: () => breakers,
  };
}
