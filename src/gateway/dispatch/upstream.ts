import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../auth/index.js';
import { rateLimitKey } from '../rate-limit/index.js';
import { splitPath } from '../endpoint/access.js';
import { identityOf } from '../endpoint/guard.js';
import { overriddenBody } from '../decorators/index.js';
import { clientResponseHeaders, forward, rewritePath } from '../proxy/index.js';
import { bufferedUpstreamCall } from '../strangler/buffered.js';
import type { UpstreamRoute } from '../upstreams.js';

export interface ProxyHandlerOptions {
  readonly route: UpstreamRoute;
  /** Mia `pathRewrite`: replaces the matched base path. */
  readonly rewrite?: string;
  readonly baseSegments: number;
  /** Bytes a chunked request body may stream (a declared length is checked by the guard). */
  readonly bodyLimit?: number;
}

/** The rate-limit bucket of an upstream policy for this caller. */
export function upstreamRateKey(kind: 'client' | 'user' | 'ip' | undefined, identity: Identity | undefined, ip: string): string | undefined {
  return kind === undefined ? undefined : rateLimitKey(kind, identity, ip);
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
      ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
      ...(rateLimitKey === undefined ? {} : { rateLimitKey }),
    });
  };
}

/**
 * The handler of an upstream endpoint with decorators: the body is read (decorators see and may replace
 * it) and the answer is buffered, so `post` and `catch` decorators can change it before it leaves.
 */
export function createBufferedProxyHandler(options: ProxyHandlerOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  const { route } = options;
  return async (request, reply) => {
    const url = request.raw.url ?? '/';
    const [prefix] = splitPath(url.split('?', 1)[0]!, options.baseSegments);
    const replaced = overriddenBody(request);
    const body = replaced !== undefined ? Buffer.from(typeof replaced === 'string' ? replaced : JSON.stringify(replaced)) : Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : null;
    const answer = await bufferedUpstreamCall(route, {
      req: request.raw,
      path: rewritePath(url, prefix, options.rewrite, route.client.basePath),
      body,
      requestId: request.id,
      protocol: request.protocol,
    })({ method: request.method, ...(body ? { retryable: false } : {}) });
    const headers = clientResponseHeaders(answer.headers, request.id);
    delete headers['content-length'];
    return reply.code(answer.statusCode).headers(headers).send(answer.body);
  };
}
