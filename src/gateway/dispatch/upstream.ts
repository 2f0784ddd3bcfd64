import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../auth/index.js';
import { splitPath } from '../endpoint/access.js';
import { identityOf } from '../endpoint/guard.js';
import { forward, rewritePath } from '../proxy/index.js';
import type { UpstreamRoute } from '../upstreams.js';

export interface ProxyHandlerOptions {
  readonly route: UpstreamRoute;
  /** Mia `pathRewrite`: replaces the matched base path. */
  readonly rewrite?: string;
  readonly baseSegments: number;
}

/** The rate-limit bucket of an upstream policy for this caller. */
export function upstreamRateKey(kind: 'client' | 'user' | 'ip' | undefined, identity: Identity | undefined, ip: string): string | undefined {
  if (kind === undefined) return undefined;
  if (kind === 'client' && identity?.clientType !== undefined) return `c:${identity.clientType}`;
  if (kind === 'user' && identity?.userId !== undefined) return `u:${identity.userId}`;
  return `i:${ip}`;
}

/**
 * The route handler of an upstream endpoint: the request is streamed to the upstream through its policy
 * stack (gateway.md §3) with the base path rewritten, and the answer streamed back. The reply is hijacked:
 * the proxy writes the raw response itself.
 */
export function createProxyHandler(options: ProxyHandlerOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const { route } = options;
  return async (request, reply) => {
    reply.hijack();
    const url = request.raw.url ?? '/';
    const [prefix] = splitPath(url.split('?', 1)[0]!, options.baseSegments);
    const rateLimitKey = upstreamRateKey(route.rateLimitKey, identityOf(request), request.ip);
    await forward({
      req: request.raw,
      res: reply.raw,
      client: route.client,
      upstream: route.name,
      path: rewritePath(url, prefix, options.rewrite, route.client.basePath),
      requestId: request.id,
      wrap: route.wrap,
      stripCredentials: !route.forwardCredentials,
      protocol: request.protocol,
      ...(rateLimitKey === undefined ? {} : { rateLimitKey }),
    });
  };
}
