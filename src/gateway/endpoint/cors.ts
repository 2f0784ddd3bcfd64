import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CorsDefinition } from '../../config/sections/gateway.js';

/** A compiled CORS setting (gateway.md §5): allowed origins and whether credentials may cross. */
export interface CorsPolicy {
  readonly anyOrigin: boolean;
  readonly origins: ReadonlySet<string>;
  readonly credentials: boolean;
}

const DEFAULT_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE';

export function compileCors(definition: CorsDefinition | false | undefined): CorsPolicy | undefined {
  if (definition === undefined || definition === false) return undefined;
  return { anyOrigin: definition.origins.includes('*'), origins: new Set(definition.origins), credentials: definition.credentials === true };
}

/**
 * Headers go on the raw response so they also travel with answers the proxy writes itself.
 * Sets the CORS response headers for an allowed `Origin`, and answers a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) at once with 204. Returns true when the request was answered.
 */
export function applyCors(policy: CorsPolicy, request: FastifyRequest, reply: FastifyReply): boolean {
  const origin = request.headers.origin;
  const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  if (origin !== undefined && (policy.anyOrigin || policy.origins.has(origin))) {
    // With credentials the browser refuses `*`: echo the origin, and tell caches the answer varies by it.
    reply.raw.setHeader('access-control-allow-origin', policy.anyOrigin && !policy.credentials ? '*' : origin);
    reply.raw.setHeader('vary', 'origin');
    if (policy.credentials) reply.raw.setHeader('access-control-allow-credentials', 'true');
    if (preflight) {
      const requestedHeaders = request.headers['access-control-request-headers'];
      reply.raw.setHeader('access-control-allow-methods', DEFAULT_METHODS);
      if (typeof requestedHeaders === 'string') reply.raw.setHeader('access-control-allow-headers', requestedHeaders);
      reply.raw.setHeader('access-control-max-age', '600');
    }
  }
  if (!preflight) return false;
  void reply.code(204).send();
  return true;
}
