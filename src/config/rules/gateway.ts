/**
 * Rules for `endpoints:` and `auth:` (gateway.md): each endpoint has exactly one dispatch, every name it
 * uses (upstream, collection, saga, view, aggregate, policy) is declared ("did you mean"), ACL expressions
 * parse (the column inside the expression is named), no two endpoints serve the same paths, and BFF
 * calls reference known calls and path parameters without cycles.
 */
// The ACL parser and the BFF placeholder helpers are pure functions with no imports of their own; the
// gateway compiles the same text at start-up, so validate and run can never disagree.
import { parseAcl } from '../../expressions/acl/index.js';
import { callDependencies, findCycle, parseTemplate, pathParams } from '../../expressions/template.js';
import { didYouMean } from '../diagnostics.js';
import type { Path } from '../locate.js';
import { IN_PROCESS_KINDS, type EndpointDefinition, type TargetRef } from '../sections/gateway.js';
import type { Diagnostic, ProjectConfig } from '../types.js';
import { parseDuration } from '../units.js';
import { policyKinds } from './policies.js';
import type { ConfigRule, RuleContext } from './rule.js';

const KINDS = [...IN_PROCESS_KINDS, 'upstream'] as const;
type Kind = (typeof KINDS)[number];

function names(value: unknown): string[] {
  return value !== null && typeof value === 'object' ? Object.keys(value) : [];
}

/** Declared names for each kind of target. */
function declared(config: ProjectConfig): Record<Kind, string[]> {
  const collections = config.collections.map((c) => c.name).filter((n): n is string => typeof n === 'string');
  const fastData = config.fastData as { singleViews?: unknown; systemsOfRecord?: Record<string, { projections?: unknown }> };
  const projections = Object.values(fastData.systemsOfRecord ?? {}).flatMap((s) => names(s?.projections));
  return {
    collection: collections,
    view: [...names(fastData.singleViews), ...collections],
    projection: projections,
    saga: Object.keys(config.sagas),
    aggregate: Object.keys(config.aggregates),
    upstream: Object.keys(config.upstreams),
  };
}

function checkRef(ctx: RuleContext, ref: TargetRef, path: Path, known: Record<Kind, string[]>, out: Diagnostic[]): void {
  const set = KINDS.filter((k) => ref[k] !== undefined);
  if (set.length !== 1) {
    out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path, message: set.length === 0 ? `names no target: use one of ${KINDS.join(', ')}` : `names ${set.length} targets (${set.join(', ')}); use exactly one` }));
    return;
  }
  const kind = set[0]!;
  const name = ref[kind]!;
  if (!known[kind].includes(name)) {
    out.push(ctx.report({
      code: 'MR_CONFIG_UNKNOWN_REF',
      path: [...path, kind],
      message: `"${name}" is not a declared ${kind}${didYouMean(name, known[kind])}`,
      ...(known[kind].length === 0 ? { hint: `the descriptor declares no ${kind}` } : {}),
    }));
  }
}

function checkAcl(ctx: RuleContext, text: string | undefined, path: Path, out: Diagnostic[]): void {
  if (text === undefined) return;
  const parsed = parseAcl(text);
  if (parsed.ok) return;
  out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path, message: `invalid ACL expression: ${parsed.message}`, hint: `at "${text.slice(parsed.offset, parsed.offset + 20)}"` }));
}

function checkEndpoint(ctx: RuleContext, endpoint: EndpointDefinition, i: number, known: Record<Kind, string[]>, out: Diagnostic[]): void {
  const at: Path = ['endpoints', i];
  const dispatches = (['target', 'compose', 'strangler'] as const).filter((k) => endpoint[k] !== undefined);
  if (dispatches.length !== 1) {
    out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: at, message: dispatches.length === 0 ? `endpoint ${endpoint.basePath} declares none of target, compose or strangler` : `endpoint ${endpoint.basePath} declares ${dispatches.join(' and ')}; use exactly one` }));
  }
  if (endpoint.target) {
    checkRef(ctx, endpoint.target, [...at, 'target'], known, out);
    if (endpoint.target.rewrite !== undefined && endpoint.target.upstream === undefined) {
      out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...at, 'target', 'rewrite'], message: 'rewrite applies only to an upstream target', target: 'key' }));
    }
  }
  checkAcl(ctx, endpoint.acl, [...at, 'acl'], out);
  for (const [route, settings] of Object.entries(endpoint.routes ?? {})) checkAcl(ctx, settings.acl, [...at, 'routes', route, 'acl'], out);

  const policies = policyKinds(ctx.config.policies);
  (endpoint.policies ?? []).forEach((name, j) => {
    if (!policies.has(name)) out.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: [...at, 'policies', j], message: `"${name}" is not a declared policy${didYouMean(name, policies.keys())}` }));
    else if (policies.get(name) === 'rateLimits') out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...at, 'policies', j], message: `"${name}" is a rate limit: use rateLimit: ${name}` }));
  });
  if (endpoint.rateLimit !== undefined && policies.get(endpoint.rateLimit) !== 'rateLimits') {
    const rateLimits = Object.keys(ctx.config.policies.rateLimits);
    out.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: [...at, 'rateLimit'], message: `"${endpoint.rateLimit}" is not a declared rate limit${didYouMean(endpoint.rateLimit, rateLimits)}` }));
  }
  const { timeout } = endpoint;
  if (timeout !== undefined && !(typeof timeout === 'string' && policies.get(timeout) === 'timeouts') && parseDuration(timeout) === undefined) {
    out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...at, 'timeout'], message: `"${timeout}" is neither a declared timeout nor a duration${didYouMean(String(timeout), Object.keys(ctx.config.policies.timeouts))}` }));
  }

  if (endpoint.compose) checkCompose(ctx, endpoint, at, known, out);
  if (endpoint.strangler) {
    const s = endpoint.strangler;
    if (!known.upstream.includes(s.legacy)) {
      out.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: [...at, 'strangler', 'legacy'], message: `"${s.legacy}" is not a declared upstream${didYouMean(s.legacy, known.upstream)}` }));
    }
    s.routes.forEach((route, j) => {
      const rp: Path = [...at, 'strangler', 'routes', j];
      checkRef(ctx, route.to, [...rp, 'to'], known, out);
      if (route.mode === 'split' && route.weight === undefined) out.push(ctx.report({ code: 'MR_CONFIG_MISSING_KEY', path: rp, message: 'a split route needs a weight (the share of callers sent to the new target)' }));
      if (route.mode !== 'split' && route.weight !== undefined) out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...rp, 'weight'], message: `weight applies only to mode: split (this route is ${route.mode})`, target: 'key' }));
    });
  }
  // The endpoint's decorators and those of each `routes:` entry.
  const sections: [Path, EndpointDefinition['decorators']][] = [
    [[...at, 'decorators'], endpoint.decorators],
    ...Object.entries(endpoint.routes ?? {}).map(([key, route]): [Path, EndpointDefinition['decorators']] => [[...at, 'routes', key, 'decorators'], route.decorators]),
  ];
  for (const [where, decorators] of sections) for (const phase of ['pre', 'post', 'catch'] as const) {
    (decorators?.[phase] ?? []).forEach((hook, j) => {
      const hp: Path = [...where, phase, j];
      const forms = [hook.url !== undefined, hook.upstream !== undefined, hook.module !== undefined].filter(Boolean).length;
      if (forms !== 1) out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: hp, message: 'a decorator is one of: url, upstream (+ path), module (+ export)' }));
      if (hook.upstream !== undefined && !known.upstream.includes(hook.upstream)) {
        out.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: [...hp, 'upstream'], message: `"${hook.upstream}" is not a declared upstream${didYouMean(hook.upstream, known.upstream)}` }));
      }
    });
  }
}

function checkCompose(ctx: RuleContext, endpoint: EndpointDefinition, at: Path, known: Record<Kind, string[]>, out: Diagnostic[]): void {
  const calls = endpoint.compose ?? [];
  const callNames = new Set<string>();
  const params = pathParams(endpoint.basePath);
  const graph = new Map<string, string[]>();
  calls.forEach((call, j) => {
    const cp: Path = [...at, 'compose', j];
    if (callNames.has(call.name)) out.push(ctx.report({ code: 'MR_CONFIG_DUPLICATE', path: [...cp, 'name'], message: `call "${call.name}" is declared twice` }));
    callNames.add(call.name);
  });
  calls.forEach((call, j) => {
    const cp: Path = [...at, 'compose', j];
    checkRef(ctx, call.call, [...cp, 'call'], known, out);
    const field = call.call.path !== undefined ? 'path' : 'id';
    const template = parseTemplate(call.call.path ?? call.call.id ?? '');
    const { dependsOn, unknown } = callDependencies(template, callNames, params);
    for (const ref of unknown) {
      const candidates = [...callNames, ...params];
      out.push(ctx.report({ code: 'MR_CONFIG_UNKNOWN_REF', path: [...cp, 'call', field], message: `{${ref}} is neither a call nor a path parameter${didYouMean(ref.split('.')[0]!, candidates)}` }));
    }
    if (dependsOn.includes(call.name)) out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...cp, 'call', field], message: `call "${call.name}" reads its own result` }));
    graph.set(call.name, dependsOn.filter((d) => d !== call.name));
  });
  const cycle = findCycle(graph);
  if (cycle) out.push(ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: [...at, 'compose'], message: `calls depend on each other in a cycle: ${cycle.join(' -> ')}`, target: 'key' }));
}

export const endpointChecks: ConfigRule = {
  name: 'endpoint-refs',
  check: (ctx) => {
    const known = declared(ctx.config);
    const out: Diagnostic[] = [];
    ctx.config.endpoints.forEach((endpoint, i) => checkEndpoint(ctx, endpoint, i, known, out));
    return out;
  },
};

/** `/api/:id/x` and `/api/:key/x/` serve the same requests: compare shapes with parameters blanked. */
const shape = (basePath: string): string => basePath.split('/').filter(Boolean).map((s) => (s.startsWith(':') ? ':' : s)).join('/');

export const endpointConflicts: ConfigRule = {
  name: 'endpoint-conflicts',
  check: (ctx) => {
    const seen = new Map<string, number>();
    const out: Diagnostic[] = [];
    ctx.config.endpoints.forEach((endpoint, i) => {
      const key = shape(endpoint.basePath);
      const other = seen.get(key);
      if (other === undefined) seen.set(key, i);
      else {
        out.push(ctx.report({
          code: 'MR_CONFIG_DUPLICATE',
          path: ['endpoints', i, 'basePath'],
          message: `basePath ${endpoint.basePath} serves the same requests as endpoints[${other}] (${ctx.config.endpoints[other]!.basePath})`,
          hint: 'merge them, or use routes: for per-verb differences',
        }));
      }
    });
    return out;
  },
};

export const authChecks: ConfigRule = {
  name: 'auth-jwt-keys',
  check: (ctx) => {
    const jwt = ctx.config.auth.jwt;
    if (jwt === undefined || (jwt.secret === undefined) !== (jwt.jwksUrl === undefined)) return [];
    return [ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: ['auth', 'jwt'], message: 'auth.jwt needs exactly one of secret (HS256) or jwksUrl (RS256/ES256)', target: 'key' })];
  },
};

export const gatewayRules: readonly ConfigRule[] = [authChecks, endpointChecks, endpointConflicts];
