/**
 * The gateway capability (gateway.md): the public routes of the project. Every endpoint of the descriptor
 * gets one stack built at start-up (auth, ACL, identity headers, rate limit, body limit, CORS, then the
 * dispatch: an in-process target mounted in the endpoint's scope, an upstream proxy with its policies, a
 * composition or a strangler). Collections with their own `endpointBasePath` that no endpoint targets are
 * mounted there through an implicit public endpoint.
 */
import { dirname } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { EndpointDefinition } from '../config/sections/gateway.js';
import type { ProjectConfig } from '../config/types.js';
import type { CapabilityContext } from '../ports/capability-context.js';
import type { Capability } from '../ports/lifecycle.js';
import { buildPolicies } from '../resilience/index.js';
import { DEFAULT_IDENTITY_HEADERS } from './auth/index.js';
import { createCompose } from './compose/index.js';
import { createCredentialReader } from './credentials.js';
import { buildEndpoint, type BuiltEndpoint, type EndpointDeps } from './endpoint/build-endpoint.js';
import { observeBreakers } from './observe.js';
import { createStrangler, createStranglerReport, type StranglerRuntime } from './strangler/index.js';
import { createRateLimits } from './rate-limit/index.js';
import { createUpstreams } from './upstreams.js';
import { named } from '../http/plugin-name.js';

export { createCredentialReader } from './credentials.js';

/**
 * Endpoints the gateway serves: the declared ones, then one implicit public endpoint per collection that
 * declares an `endpointBasePath` and that no endpoint targets or shadows with the same base path.
 */
export function effectiveEndpoints(config: Pick<ProjectConfig, 'endpoints' | 'collections'>): EndpointDefinition[] {
  const declared = [...config.endpoints];
  const targeted = new Set(declared.map((e) => e.target?.collection).filter((n): n is string => n !== undefined));
  const basePaths = new Set(declared.map((e) => e.basePath));
  for (const collection of config.collections) {
    const name = collection.name;
    const basePath = collection.endpointBasePath;
    if (typeof name !== 'string' || typeof basePath !== 'string' || targeted.has(name) || basePaths.has(basePath)) continue;
    basePaths.add(basePath);
    declared.push({ basePath, target: { collection: name }, public: true });
  }
  return declared;
}

/** Creates the gateway capability. Wiring only: pools open lazily, nothing listens here (the runtime does). */
export function createGateway(ctx: CapabilityContext): Capability {
  const { config, clock, logger } = ctx;
  const policies = buildPolicies(config.policies, { clock });
  const warn = (message: string, details: Record<string, unknown>): void => logger.warn(details, message);
  const rateLimits = createRateLimits({ config: config.policies, registry: policies, stores: ctx.stores, clock, warn });
  const upstreams = createUpstreams(config.upstreams, policies, clock, rateLimits, config.policies);
  const identityNames = { ...DEFAULT_IDENTITY_HEADERS, userId: config.server.userIdHeader };
  const trustIdentityHeaders = config.server.trustIdentityHeaders;
  const authenticate = createCredentialReader({ auth: config.auth, clock, trustIdentityHeaders, identityNames });
  const deps: EndpointDeps = {
    server: config.server,
    policies,
    upstreams,
    rateLimits,
    guard: {
      authenticate,
      trustIdentityHeaders,
      identityNames,
    },
    baseDir: dirname(config.sourceFile),
    clock,
    warn,
  };
  const stranglers: StranglerRuntime[] = [];
  const closers: (() => Promise<void>)[] = [authenticate.close];
  const endpoints: BuiltEndpoint[] = effectiveEndpoints(config).map((definition) => {
    if (definition.compose) {
      const compose = createCompose(definition, { ...deps, clock, identityNames });
      closers.push(compose.close);
      return buildEndpoint(definition, deps, compose.mount);
    }
    if (definition.strangler) {
      const strangler = createStrangler(definition, { ...deps, clock, identityNames, logger });
      stranglers.push(strangler);
      closers.push(strangler.close);
      return buildEndpoint(definition, deps, strangler.mount);
    }
    return buildEndpoint(definition, deps);
  });

  const plugin: FastifyPluginAsync = async (app) => {
    if (stranglers.length > 0) app.get('/-/strangler', async () => createStranglerReport(stranglers));
    for (const endpoint of endpoints) {
      await app.register(named(`endpoint ${endpoint.prefix}`, async (scope: FastifyInstance) => endpoint.mount(scope, ctx.targets)), { prefix: endpoint.prefix });
    }
  };

  let unsubscribe: (() => void) | undefined;
  return {
    name: 'gateway',
    routes: new Map([['/', plugin]]),
    async start() {
      unsubscribe ??= observeBreakers(() => policies.breakers(), logger);
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      await Promise.all([upstreams.close(), ...closers.map((close) => close())]);
    },
    health: async () => ({ name: 'gateway', status: 'OK' }),
  };
}
