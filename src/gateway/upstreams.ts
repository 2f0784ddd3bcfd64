import type { PoliciesConfig, UpstreamConfig } from '../config/types.js';
import { MiaRunError, isMiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { createMetricEmitter, type MetricEmitter } from '../ports/telemetry.js';
import { compose, createTimeout, type Call, type CallResult, type Policy, type PolicyRegistry } from '../resilience/index.js';
import { createUpstreamClient, type UpstreamClient } from './proxy/index.js';
import type { RateLimits } from './rate-limit/index.js';

/** The guarded way to call one upstream from one endpoint, built once at start-up. */
export interface UpstreamRoute {
  readonly name: string;
  readonly client: UpstreamClient;
  readonly wrap: <R extends CallResult>(call: Call<R>) => Call<R>;
  /** What a rate limit in the upstream's policies keys on. */
  readonly rateLimitKey?: 'client' | 'user' | 'ip';
  readonly forwardCredentials: boolean;
}

export interface Upstreams {
  has(name: string): boolean;
  /**
   * The call route to `name` for an endpoint: the upstream's policies, where the endpoint's own policies
   * (and inline timeout) replace those of the same kind. Stateful policies (breaker, retry budget,
   * bulkhead) are scoped by upstream, so every endpoint that calls an upstream shares its breaker.
   * `callTimeoutMs`: a deadline the caller enforces itself (a BFF call's own timeout); it only keeps undici's
   * response-headers timeout from cutting the call sooner.
   */
  route(name: string, endpointPolicies?: readonly string[], timeoutMs?: number, callTimeoutMs?: number): UpstreamRoute;
  /** Closes every keep-alive pool. */
  close(): Promise<void>;
}

/**
 * Counts what went wrong on the way to an upstream (gateway.md §7), by upstream and code: 5xx answers
 * (`upstream_5xx`), failures to get an answer (`MR_GW_UPSTREAM_UNAVAILABLE`, `MR_GW_UPSTREAM_TIMEOUT`) and
 * local refusals (`MR_GW_CIRCUIT_OPEN`, `MR_GW_BULKHEAD_FULL`, `MR_GW_RATE_LIMITED`). Successful calls cost one
 * comparison; latency per endpoint is `mia_run_http_request_duration_seconds` by route.
 */
function instrument(name: string, guarded: <R extends CallResult>(call: Call<R>) => Call<R>, metrics: MetricEmitter): <R extends CallResult>(call: Call<R>) => Call<R> {
  const help = 'Upstream calls that failed, by upstream and code';
  const onError = (error: unknown): never => {
    const code = isMiaRunError(error) ? error.code : 'error';
    metrics.count('upstream_errors', help, { upstream: name, code });
    if (code === 'MR_GW_RATE_LIMITED') {
      const policy = isMiaRunError(error) && typeof error.details?.policy === 'string' ? error.details.policy : '';
      metrics.count('rate_limit_rejections', 'Requests refused by a rate limit, by policy and scope', { policy, scope: `upstream ${name}` });
    }
    throw error;
  };
  return <R extends CallResult>(call: Call<R>): Call<R> => {
    const inner = guarded(call);
    return (ctx) =>
      inner(ctx).then((result) => {
        if (result.statusCode >= 500) metrics.count('upstream_errors', help, { upstream: name, code: 'upstream_5xx' });
        return result;
      }, onError);
  };
}

/**
 * One keep-alive pool per `upstreams` entry (no I/O until the first request). `declared` gives the
 * `policies.timeouts` in ms (a route whose timeout is longer than the pool's response-headers default of
 * 30 s gets that much from undici too, so a declared 60 s timeout is not cut at 30 s) and the retries, whose
 * `attemptTimeout` becomes a per-attempt timeout inside the retry (gateway.md §5: per attempt and overall).
 */
export function createUpstreams(
  config: Readonly<Record<string, UpstreamConfig>>,
  registry: PolicyRegistry,
  clock: Clock,
  rateLimits?: RateLimits,
  declared: Partial<Pick<PoliciesConfig, 'timeouts' | 'retries'>> = {},
): Upstreams {
  const timeouts = declared.timeouts ?? {};
  const retries = declared.retries ?? {};
  const attemptTimeouts = new Map<string, Policy>();
  /** The per-attempt timeout of a retry policy, one instance per (retry, upstream): it holds no state. */
  const attemptTimeout = (retry: string, upstream: string): Policy | undefined => {
    const ms = retries[retry]?.attemptTimeout;
    if (ms === undefined) return undefined;
    const id = `${retry}\u0000${upstream}`;
    let policy = attemptTimeouts.get(id);
    if (!policy) attemptTimeouts.set(id, (policy = createTimeout({ ms, scope: 'attempt', clock, name: upstream })));
    return policy;
  };
  const clients = new Map<string, UpstreamClient>();
  const metrics = createMetricEmitter('gateway');
  for (const [name, upstream] of Object.entries(config)) clients.set(name, createUpstreamClient({ url: upstream.url }));

  return {
    has: (name) => clients.has(name),
    route(name, endpointPolicies = [], timeoutMs, callTimeoutMs) {
      const client = clients.get(name);
      const upstream = config[name];
      if (client === undefined || upstream === undefined) throw new MiaRunError('MR_CONFIG_UNKNOWN_REF', `"${name}" is not a declared upstream`);
      const overridden = new Set(endpointPolicies.map((p) => registry.kindOf(p)));
      if (timeoutMs !== undefined) overridden.add('timeout');
      const names = [...upstream.policies.filter((p) => !overridden.has(registry.kindOf(p))), ...endpointPolicies];
      const stack = registry.resolve(names, name);
      // A rate limit shared through a store replaces the in-process one (scoped by upstream, like a breaker).
      const policies: Policy[] = rateLimits ? rateLimits.policies(names, stack.policies, name) : [...stack.policies];
      if (timeoutMs !== undefined) policies.push(createTimeout({ ms: timeoutMs, clock, name }));
      const retry = names.find((n) => registry.kindOf(n) === 'retry');
      const perAttempt = retry === undefined ? undefined : attemptTimeout(retry, name);
      if (perAttempt) policies.push(perAttempt);
      const named = names.find((n) => registry.kindOf(n) === 'timeout');
      const longest =
        Math.max(timeoutMs ?? (named === undefined ? 0 : (timeouts[named] ?? 0)), retry === undefined ? 0 : (retries[retry]?.attemptTimeout ?? 0), callTimeoutMs ?? 0) || undefined;
      return {
        name,
        // Same pool, with undici's response-headers timeout raised to the route's own (the policy decides).
        client: longest !== undefined && longest > client.headersTimeout ? { ...client, headersTimeout: longest } : client,
        wrap: instrument(name, compose(...policies), metrics),
        ...(stack.rateLimitKey === undefined ? {} : { rateLimitKey: stack.rateLimitKey }),
        forwardCredentials: upstream.forwardCredentials === true,
      };
    },
    close: async () => {
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}
