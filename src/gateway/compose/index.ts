import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComposeCallDefinition, EndpointDefinition, InProcessKind } from '../../config/sections/gateway.js';
import { parseDuration } from '../../config/units.js';
import { MiaRunError, isMiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import { createMetricEmitter } from '../../ports/telemetry.js';
import { createTimeout, type Call, type CallResult, type Policy } from '../../resilience/index.js';
import type { IdentityHeaderNames } from '../auth/index.js';
import { findTarget, notServedError, targetOf } from '../dispatch/in-process.js';
import { createTargetHost, type TargetHost } from '../dispatch/target-host.js';
import type { DispatchMounter, EndpointDeps } from '../endpoint/build-endpoint.js';
import { endpointTimeout } from '../endpoint/build-endpoint.js';
import { identityOf } from '../endpoint/guard.js';
import { upstreamRateKey } from '../dispatch/upstream.js';
import { deadline, inProcessCall, upstreamCall, type CallAnswer, type CallRequest } from './call.js';
import { callDependencies, findCycle, parseTemplate, pathParams, readPath, type Template } from '../../expressions/template.js';

/** Header telling whether every call of a composed answer succeeded (KrakenD's `X-KrakenD-Completed`). */
export const COMPLETED_HEADER = 'x-mia-completed';
const DEFAULT_CALL_TIMEOUT = 10_000;
/** Whole-composition deadline when the endpoint declares no `timeout` (a chain of dependent calls adds up). */
export const DEFAULT_COMPOSE_TIMEOUT = 30_000;

interface PlannedCall {
  readonly definition: ComposeCallDefinition;
  readonly name: string;
  readonly template: Template;
  readonly dependsOn: readonly string[];
  readonly timeoutMs: number;
  /** This call's own deadline, built once. */
  readonly deadline: Policy;
  readonly method: string;
  /** What a rate limit in the called upstream's policies counts by. */
  rateLimitKind?: 'client' | 'user' | 'ip';
  /** `omit` paths, split once. */
  readonly omit: readonly (readonly string[])[];
  /** Builds the guarded call for one request (upstream route or in-process host resolved at mount). */
  invoke?: (request: CallRequest) => Call<CallAnswer>;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: MiaRunError };

/** What the composition as a whole produced, as a call result so the endpoint's timeout policy can wrap it. */
interface Composition extends CallResult {
  readonly results: Map<string, Outcome>;
}

export interface ComposeDeps extends EndpointDeps {
  readonly clock: Clock;
  readonly identityNames: IdentityHeaderNames;
}

/** The error of a call that answered with an error status. */
function statusError(name: string, answer: CallAnswer): MiaRunError {
  const code = readPath(answer.body, ['code']);
  return new MiaRunError('MR_GW_COMPOSE_FAILED', `call "${name}" answered ${answer.statusCode}`, {
    statusCode: answer.statusCode,
    details: { call: name, ...(typeof code === 'string' ? { upstreamCode: code } : {}) },
  });
}

/** A copy of `value` without the fields at the given paths (`a.b` drops `b` inside `a`); lists element-wise. */
function omit(value: unknown, paths: readonly (readonly string[])[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => omit(v, paths));
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const path of paths) {
    const [head, ...rest] = path;
    if (head === undefined || !Object.hasOwn(out, head)) continue;
    if (rest.length === 0) delete out[head];
    else out[head] = omit(out[head], [rest]);
  }
  return out;
}

function pick(value: unknown, fields: readonly string[] | undefined): unknown {
  if (fields === undefined || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => pick(v, fields));
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const v = readPath(value, field.split('.'));
    if (v !== undefined) out[field] = v;
  }
  return out;
}

/**
 * Backend For Frontend (gateway.md §4): the endpoint's calls run in parallel, each waiting only for the
 * calls its placeholders read. Results are merged keyed by call name (or `as`, or flattened). Optional
 * calls that fail leave a partial answer (`x-mia-completed: false` and `errors`); a required call failing
 * gives 502 (504 for a timeout) naming the call. In-process calls use `inject`: no network.
 */
export function createCompose(definition: EndpointDefinition, deps: ComposeDeps): { mount: DispatchMounter; close: () => Promise<void> } {
  const definitions = definition.compose ?? [];
  const names = new Set(definitions.map((c) => c.name));
  const params = pathParams(definition.basePath);
  const endpointDefault = endpointTimeout(definition, deps.policies);
  const calls: PlannedCall[] = definitions.map((c) => {
    const template = parseTemplate(c.call.path ?? (c.call.id === undefined ? '/' : `/${c.call.id}`));
    const { dependsOn, unknown } = callDependencies(template, names, params);
    if (unknown.length > 0) throw new MiaRunError('MR_CONFIG_UNKNOWN_REF', `endpoint ${definition.basePath}: call "${c.name}" reads {${unknown[0]}}, which is neither a call nor a path parameter`);
    const timeoutMs = c.timeout === undefined ? DEFAULT_CALL_TIMEOUT : (parseDuration(c.timeout) ?? DEFAULT_CALL_TIMEOUT);
    return { definition: c, name: c.name, template, dependsOn, timeoutMs, deadline: deadline(timeoutMs, deps.clock, c.name), method: c.call.method ?? 'GET', omit: (c.omit ?? []).map((p) => p.split('.')) };
  });
  const cycle = findCycle(new Map(calls.map((c) => [c.name, c.dependsOn])));
  if (cycle) throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `endpoint ${definition.basePath}: compose calls depend on each other in a cycle: ${cycle.join(' -> ')}`);
  const byName = new Map(calls.map((c) => [c.name, c]));
  // The endpoint's timeout bounds the whole composition (every call and every dependent chain); each call
  // keeps its own deadline inside it. A named timeout policy works as well as an inline duration.
  const overall: Policy =
    endpointDefault.names.length > 0
      ? deps.policies.resolve(endpointDefault.names).policies[0]!
      : createTimeout({ ms: endpointDefault.ms ?? DEFAULT_COMPOSE_TIMEOUT, clock: deps.clock, name: `endpoint ${definition.basePath}` });

  // Upstream routes are built now (start-up); in-process hosts when the targets are known (mount).
  for (const call of calls) {
    const target = targetOf(call.definition.call);
    if (target?.kind === 'upstream') {
      const route = deps.upstreams.route(target.name, definition.policies ?? [], undefined, call.timeoutMs);
      call.invoke = (request) => upstreamCall(route, request);
      if (route.rateLimitKey !== undefined) call.rateLimitKind = route.rateLimitKey;
    }
  }
  const hosts: TargetHost[] = [];
  const metrics = createMetricEmitter('gateway');

  /** Runs every call; `finished` receives the name of each call that settled before the deadline. */
  const run = async (request: FastifyRequest, signal: AbortSignal | undefined, finished: Set<string>): Promise<Composition> => {
    const headers: Record<string, string> = { 'x-request-id': request.id };
    for (const name of Object.values(deps.identityNames)) {
      const value = request.raw.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const requestParams = request.params as Record<string, string>;
    const outcomes = new Map<string, Promise<Outcome>>();
    const settle = (call: PlannedCall): Promise<Outcome> => {
      let pending = outcomes.get(call.name);
      if (pending) return pending;
      pending = (async (): Promise<Outcome> => {
        const upstreamResults = new Map<string, unknown>();
        for (const dep of call.dependsOn) {
          const outcome = await settle(byName.get(dep)!);
          if (!outcome.ok) {
            return { ok: false, error: new MiaRunError('MR_GW_COMPOSE_FAILED', `call "${call.name}" needs "${dep}", which failed`, { details: { call: call.name } }) };
          }
          upstreamResults.set(dep, outcome.value);
        }
        try {
          const path = call.template.render((ref) => (ref.length === 1 && params.has(ref[0]!) ? requestParams[ref[0]!] : readPath(upstreamResults.get(ref[0]!), ref.slice(1))));
          if (call.invoke === undefined) throw new MiaRunError('MR_INTERNAL', `call "${call.name}" has no dispatch`);
          const guarded = call.deadline(call.invoke({ method: call.method, path, headers }));
          const rateLimitKey = upstreamRateKey(call.rateLimitKind, identityOf(request), request.ip);
          const answer = await guarded({ method: call.method, ...(signal ? { signal } : {}), ...(rateLimitKey === undefined ? {} : { rateLimitKey }) });
          return answer.statusCode >= 400 ? { ok: false, error: statusError(call.name, answer) } : { ok: true, value: answer.body };
        } catch (error) {
          if (isMiaRunError(error)) return { ok: false, error };
          const message = error instanceof Error ? error.message : String(error);
          return { ok: false, error: new MiaRunError('MR_GW_COMPOSE_FAILED', `call "${call.name}": ${message}`, { details: { call: call.name } }) };
        }
      })();
      // A call cut short by the overall deadline did not finish: only earlier settlements count.
      void pending.then(() => signal?.aborted || finished.add(call.name));
      outcomes.set(call.name, pending);
      return pending;
    };
    const settled = await Promise.all(calls.map(settle));
    return { statusCode: 200, results: new Map(calls.map((c, i) => [c.name, settled[i]!])) };
  };

  const compose = async (request: FastifyRequest): Promise<Map<string, Outcome>> => {
    const finished = new Set<string>();
    try {
      const { results } = await overall<Composition>((ctx) => run(request, ctx.signal, finished))({ method: request.method });
      return results;
    } catch (error) {
      if (!isMiaRunError(error) || error.code !== 'MR_GW_UPSTREAM_TIMEOUT') throw error;
      const unfinished = calls.filter((c) => !finished.has(c.name)).map((c) => c.name);
      const ms = error.details?.timeoutMs;
      throw new MiaRunError('MR_GW_UPSTREAM_TIMEOUT', `the composition did not finish within ${String(ms)} ms; unfinished calls: ${unfinished.map((n) => `"${n}"`).join(', ')}`, {
        details: { unfinished, timeoutMs: ms },
      });
    }
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const results = await compose(request);
    const answer: Record<string, unknown> = {};
    const errors: Record<string, { statusCode: number; code: string; message: string }> = {};
    let succeeded = 0;
    for (const call of calls) {
      const outcome = results.get(call.name)!;
      if (outcome.ok) {
        succeeded++;
        const picked = pick(outcome.value, call.definition.fields);
        const value = call.omit.length === 0 ? picked : omit(picked, call.omit);
        if (call.definition.flatten && value !== null && typeof value === 'object' && !Array.isArray(value)) Object.assign(answer, value);
        else answer[call.definition.as ?? call.name] = value;
        continue;
      }
      const { error } = outcome;
      if (!call.definition.optional) {
        const timeout = error.code === 'MR_GW_UPSTREAM_TIMEOUT';
        throw new MiaRunError(timeout ? 'MR_GW_UPSTREAM_TIMEOUT' : 'MR_GW_COMPOSE_FAILED', `required call "${call.name}" failed: ${error.message}`, {
          statusCode: timeout ? 504 : 502,
          details: { call: call.name },
        });
      }
      errors[call.name] = { statusCode: error.statusCode ?? 502, code: (error.details?.upstreamCode as string | undefined) ?? error.code, message: error.message };
    }
    if (succeeded === 0 && calls.length > 0) throw new MiaRunError('MR_GW_COMPOSE_FAILED', 'no call of the composition succeeded', { details: { errors } });
    const complete = Object.keys(errors).length === 0;
    if (!complete) {
      answer.errors = errors;
      metrics.count('bff_partial_responses', 'Composed answers with failed optional calls', { endpoint: definition.basePath });
    }
    reply.header(COMPLETED_HEADER, String(complete));
    return answer;
  };

  const mount: DispatchMounter = (scope, targets) => {
    for (const call of calls) {
      if (call.invoke) continue;
      const target = targetOf(call.definition.call);
      if (target === undefined || target.kind === 'upstream') continue;
      const kind: InProcessKind = target.kind;
      const plugin = findTarget(targets, kind, target.name);
      if (plugin === undefined) {
        deps.warn(`endpoint ${definition.basePath}: call "${call.name}" targets ${kind} "${target.name}", which this process does not serve`, { call: call.name });
        const error = notServedError(kind, target.name);
        call.invoke = () => async () => {
          throw error;
        };
        continue;
      }
      const host = createTargetHost(plugin, '/target', deps.server.bodyLimit);
      hosts.push(host);
      call.invoke = (request) => inProcessCall(host, request);
    }
    scope.get('/', handler);
  };

  return {
    mount,
    close: async () => {
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}
