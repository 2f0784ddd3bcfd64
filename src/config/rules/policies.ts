/**
 * Rules for `policies:` and `upstreams:`: policy names are unique across kinds, every name an upstream
 * lists is a declared policy, an upstream lists at most one policy of each kind, a retry's longest
 * delay is not shorter than its first, and timeouts, rate-limit periods and breaker windows are not zero.
 */
import { didYouMean } from '../diagnostics.js';
import type { PoliciesConfig } from '../types.js';
import type { ConfigRule } from './rule.js';

const KINDS: Readonly<Record<keyof PoliciesConfig, string>> = {
  timeouts: 'timeout',
  retries: 'retry',
  circuitBreakers: 'circuit breaker',
  rateLimits: 'rate limit',
  bulkheads: 'bulkhead',
};

/** Declared policy names and the section of each (the first one when a name is reused). */
export function policyKinds(policies: PoliciesConfig): Map<string, keyof PoliciesConfig> {
  const out = new Map<string, keyof PoliciesConfig>();
  for (const section of Object.keys(KINDS) as (keyof PoliciesConfig)[]) {
    for (const name of Object.keys(policies[section])) if (!out.has(name)) out.set(name, section);
  }
  return out;
}

export const uniquePolicyNames: ConfigRule = {
  name: 'unique-policy-names',
  check: (ctx) => {
    const first = new Map<string, keyof PoliciesConfig>();
    const found = [];
    for (const section of Object.keys(KINDS) as (keyof PoliciesConfig)[]) {
      for (const name of Object.keys(ctx.config.policies[section])) {
        const other = first.get(name);
        if (other === undefined) {
          first.set(name, section);
          continue;
        }
        found.push(ctx.report({
          code: 'MR_CONFIG_DUPLICATE',
          path: ['policies', section, name],
          target: 'key',
          message: `policy "${name}" is also declared in policies.${other}`,
          hint: 'policies are referenced by name alone, so names are unique across kinds',
        }));
      }
    }
    return found;
  },
};

export const upstreamPolicyRefs: ConfigRule = {
  name: 'upstream-policy-refs',
  check: (ctx) => {
    const declared = policyKinds(ctx.config.policies);
    const found = [];
    for (const [upstream, config] of Object.entries(ctx.config.upstreams)) {
      const kindsSeen = new Map<string, string>();
      for (const [i, name] of config.policies.entries()) {
        const path = ['upstreams', upstream, 'policies', i];
        const section = declared.get(name);
        if (section === undefined) {
          found.push(ctx.report({
            code: 'MR_CONFIG_UNKNOWN_REF',
            path,
            message: `"${name}" is not a declared policy${didYouMean(name, declared.keys())}`,
            hint: declared.size === 0 ? 'declare it under policies: (timeouts, retries, circuitBreakers, rateLimits, bulkheads)' : `declared policies: ${[...declared.keys()].join(', ')}`,
          }));
          continue;
        }
        const kind = KINDS[section];
        const previous = kindsSeen.get(kind);
        if (previous !== undefined) {
          found.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path, message: `"${name}" and "${previous}" are both a ${kind}; list at most one of each kind` }));
        }
        kindsSeen.set(kind, name);
      }
    }
    return found;
  },
};

export const retryDelays: ConfigRule = {
  name: 'retry-delays',
  check: (ctx) =>
    Object.entries(ctx.config.policies.retries)
      .filter(([, r]) => r.max < r.base)
      .map(([name, r]) =>
        ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: ['policies', 'retries', name, 'max'], message: `the longest delay (${r.max} ms) is shorter than the first (${r.base} ms)`, hint: 'raise max or lower base' }),
      ),
};

/** Durations that divide or bound work must not be zero: a 0 ms timeout fails every call. */
export const positiveDurations: ConfigRule = {
  name: 'positive-durations',
  check: (ctx) => {
    const { policies } = ctx.config;
    const zero: (string | number)[][] = [
      ...Object.entries(policies.timeouts).filter(([, ms]) => ms <= 0).map(([name]) => ['policies', 'timeouts', name]),
      ...Object.entries(policies.rateLimits).filter(([, r]) => r.per <= 0).map(([name]) => ['policies', 'rateLimits', name, 'per']),
      ...Object.entries(policies.circuitBreakers).filter(([, c]) => c.window <= 0).map(([name]) => ['policies', 'circuitBreakers', name, 'window']),
    ];
    return zero.map((path) => ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path, message: 'must be longer than 0 ms' }));
  },
};

/** A rate limit shared through a store names a declared database (gateway.md §5). */
export const rateLimitStores: ConfigRule = {
  name: 'rate-limit-stores',
  check: (ctx) => {
    const databases = Object.keys(ctx.config.databases);
    return Object.entries(ctx.config.policies.rateLimits)
      .filter(([, r]) => r.store !== undefined && !databases.includes(r.store))
      .map(([name, r]) =>
        ctx.report({
          code: 'MR_CONFIG_UNKNOWN_REF',
          path: ['policies', 'rateLimits', name, 'store'],
          message: `"${r.store!}" is not a declared database${didYouMean(r.store!, databases)}`,
          hint: 'the counters of a shared rate limit live in one of the databases: entries',
        }),
      );
  },
};

export const policyRules: readonly ConfigRule[] = [uniquePolicyNames, upstreamPolicyRefs, retryDelays, positiveDurations, rateLimitStores];
