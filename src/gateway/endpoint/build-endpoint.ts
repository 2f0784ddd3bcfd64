import type { FastifyInstance } from 'fastify';
import type { EndpointDefinition } from '../../config/sections/gateway.js';
import type { ServerConfig } from '../../config/types.js';
import { parseDuration, parseSize } from '../../config/units.js';
import { MiaRunError } from '../../errors.js';
import type { TargetDirectory } from '../../ports/capability-context.js';
import type { Clock } from '../../ports/clock.js';
import type { PolicyRegistry } from '../../resilience/index.js';
import { findTarget, mountNotServed, targetOf } from '../dispatch/in-process.js';
import { endpointDecorated, installDecorators } from '../decorators/index.js';
import { createBufferedProxyHandler, createProxyHandler } from '../dispatch/upstream.js';
import type { RateLimits } from '../rate-limit/index.js';
import type { Upstreams } from '../upstreams.js';
import { buildAccess, segmentCount } from './access.js';
import { compileCors } from './cors.js';
import { createCrudAclHeaders } from './crud-acl.js';
import { createGuard, type GuardShared } from './guard.js';

/** What endpoint builders share, created once by the gateway factory. */
export interface EndpointDeps {
  readonly server: ServerConfig;
  readonly policies: PolicyRegistry;
  readonly upstreams: Upstreams;
  /** Limiters of `rateLimit:` (in-process, or shared through a store). */
  readonly rateLimits: RateLimits;
  readonly guard: GuardShared;
  /** Directory of the descriptor: code decorators resolve their modules from it. */
  readonly baseDir: string;
  /** The runtime clock (decorator call deadlines). */
  readonly clock: Clock;
  /** Warnings found while mounting (a target nobody serves). */
  readonly warn: (message: string, details: Record<string, unknown>) => void;
}

/** One endpoint, built from config at start-up: mounted into the gateway's scope once targets are known. */
export interface BuiltEndpoint {
  readonly basePath: string;
  /** Fastify prefix (`''` for `/`). */
  readonly prefix: string;
  mount(scope: FastifyInstance, targets: TargetDirectory): Promise<void>;
}

/** Mounts the dispatch of an endpoint inside its guarded scope (compose, strangler, ...). */
export type DispatchMounter = (scope: FastifyInstance, targets: TargetDirectory) => void;

/** Timeout of an endpoint: a `policies.timeouts` name (returned as a policy name) or an inline duration. */
export function endpointTimeout(definition: EndpointDefinition, policies: PolicyRegistry): { names: string[]; ms?: number } {
  const { timeout } = definition;
  if (timeout === undefined) return { names: [] };
  if (typeof timeout === 'string' && policies.kindOf(timeout) === 'timeout') return { names: [timeout] };
  const ms = parseDuration(timeout);
  if (ms === undefined) throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `endpoint ${definition.basePath}: timeout "${timeout}" is neither a timeout policy nor a duration`);
  return { names: [], ms };
}

/** Lets a proxied body through unread, so it streams to the upstream (no parsing, no buffering). */
export function passThroughBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
}

/**
 * Builds one endpoint's stack once (STYLE §7): access rules with compiled ACLs, the guard hook (auth,
 * identity headers, rate limit, body limit, CORS), and its dispatch: an upstream proxy, an in-process
 * target mounted in the endpoint's own encapsulated scope (no network hop), or a given dispatch
 * (composition, strangler).
 */
export function buildEndpoint(definition: EndpointDefinition, deps: EndpointDeps, dispatch?: DispatchMounter): BuiltEndpoint {
  const { basePath } = definition;
  const baseSegments = segmentCount(basePath);
  const bodyLimit = definition.bodyLimit === undefined ? deps.server.bodyLimit : (parseSize(definition.bodyLimit) ?? deps.server.bodyLimit);
  const rateLimit = definition.rateLimit === undefined ? undefined : deps.rateLimits.endpoint(definition.rateLimit, basePath);
  const listeners = definition.listeners ?? ['application', 'backoffice'];
  const cors = compileCors(definition.cors === undefined ? deps.server.cors : definition.cors);
  const guard = createGuard({
    shared: deps.guard,
    access: buildAccess(definition),
    baseSegments,
    listeners: { application: listeners.includes('application'), backoffice: listeners.includes('backoffice') },
    bodyLimit,
    ...(cors ? { cors } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(definition.crudAcl ? { extraHeaders: createCrudAclHeaders(definition.crudAcl) } : {}),
  });

  let mountDispatch: DispatchMounter;
  const target = definition.target === undefined ? undefined : targetOf(definition.target);
  if (dispatch) {
    mountDispatch = dispatch;
  } else if (target?.kind === 'upstream') {
    const timeout = endpointTimeout(definition, deps.policies);
    const route = deps.upstreams.route(target.name, [...(definition.policies ?? []), ...timeout.names], timeout.ms);
    const handlerOptions = { route, baseSegments, bodyLimit, ...(definition.target?.rewrite === undefined ? {} : { rewrite: definition.target.rewrite }) };
    mountDispatch = endpointDecorated(definition)
      ? (scope) => {
          // Decorators read and may replace bodies both ways: buffer them (within the body limit).
          scope.removeAllContentTypeParsers();
          scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
          const handler = createBufferedProxyHandler(handlerOptions);
          scope.all('/', handler);
          scope.all('/*', handler);
        }
      : (scope) => {
          passThroughBodies(scope);
          const handler = createProxyHandler(handlerOptions);
          scope.all('/', handler);
          scope.all('/*', handler);
        };
  } else if (target !== undefined) {
    const { kind, name } = target;
    mountDispatch = (scope, targets) => {
      const plugin = findTarget(targets, kind, name);
      if (plugin === undefined) {
        deps.warn(`endpoint ${basePath}: ${kind} "${name}" is not served by this process; it answers 503`, { basePath, kind, target: name });
        return mountNotServed(scope, kind, name);
      }
      // Routes the target adds get the endpoint's body limit unless they set their own.
      scope.addHook('onRoute', (route) => {
        route.bodyLimit ??= bodyLimit;
      });
      if (cors) {
        const preflight = async (): Promise<void> => undefined; // reached only by an OPTIONS that is not a preflight
        scope.options('/', preflight);
        scope.options('/*', preflight);
      }
      void scope.register(plugin);
    };
  } else {
    throw new MiaRunError('MR_CONFIG_INVALID_VALUE', `endpoint ${basePath} declares none of target, compose or strangler`);
  }

  return {
    basePath,
    prefix: basePath === '/' ? '' : basePath.replace(/\/+$/, ''),
    async mount(scope, targets) {
      scope.addHook('onRequest', guard);
      if (endpointDecorated(definition)) await installDecorators(scope, definition, { upstreams: deps.upstreams, baseDir: deps.baseDir, baseSegments, clock: deps.clock });
      mountDispatch(scope, targets);
    },
  };
}
