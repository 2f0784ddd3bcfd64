import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import { MiaRunError } from '../../errors.js';
import type { Call, CallResult } from '../../resilience/types.js';
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardInfo, type OutgoingHeaders } from './headers.js';
import { sendUpstream, type UpstreamClient } from './upstream-client.js';

/** What reached the upstream's door: status, headers, and a body stream not yet read. */
export interface ProxyResult extends CallResult {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
  readonly dispose: () => void;
}

export interface ProxyRequest extends Omit<ForwardInfo, 'remoteAddress' | 'protocol' | 'host'> {
  readonly method: string;
  /** Path and query as sent upstream (already rewritten, see `rewritePath`). */
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The incoming body stream, or null when the request has none. */
  readonly body: Readable | null;
  readonly remoteAddress: string | undefined;
  readonly protocol: string;
  readonly host: string | undefined;
}

/** Whether an incoming request carries a body (so it cannot be replayed by a retry). */
export function hasBody(headers: IncomingMessage['headers']): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/**
 * The innermost call of an upstream's policy stack: sends the request through the upstream's pool and
 * resolves when the response headers arrive. Bodies stream both ways with backpressure; nothing is
 * buffered. The call's AbortSignal (timeouts, a client that went away) cancels the upstream request.
 */
export function createProxyCall(client: UpstreamClient, request: ProxyRequest, upstreamName = client.origin): Call<ProxyResult> {
  const headers = upstreamRequestHeaders(request.headers, request);
  return async (ctx) => {
    const response = await sendUpstream(client, { method: request.method, path: request.path, headers, body: request.body }, ctx.signal, upstreamName, (r) => r);
    const body = response.body;
    return {
      statusCode: response.statusCode,
      headers: response.headers,
      body: body as unknown as Readable,
      // dump() reads a small unread body to the end so the keep-alive connection is reused (a large one
      // is cut); a bare destroy() would make undici emit an unhandled "Request aborted" error.
      dispose: () => void body.dump().catch(() => {}),
    };
  };
}

/**
 * Writes a proxied answer to the client: status and headers (hop-by-hop removed), then the body streamed
 * with backpressure. If the upstream body fails midway the client connection is cut (the status is gone),
 * and a client that goes away stops the upstream body.
 */
export function sendProxyResult(res: ServerResponse, result: ProxyResult, requestId: string): Promise<void> {
  res.writeHead(result.statusCode, clientResponseHeaders(result.headers, requestId));
  // `pipe` with explicit clean-up rather than stream/promises' pipeline: pipeline builds an AbortController
  // per call and aborts it on finish (a DOMException each time), about 5% of the CPU of a proxied request.
  const { body } = result;
  return new Promise<void>((resolve) => {
    const fail = (): void => {
      body.destroy();
      res.destroy();
    };
    body.on('error', fail);
    res.once('error', fail);
    // The error listener stays: an aborted upstream body may still emit one after the client is gone.
    res.once('close', () => {
      if (!body.readableEnded) body.destroy(); // the client went away: stop reading the upstream
      resolve();
    });
    body.pipe(res);
  });
}

/** The JSON error body of every gateway error (STYLE §5): `{ statusCode, code, error, message }`. */
export function errorBody(error: MiaRunError): { statusCode: number; code: string; error: string; message: string } {
  const statusCode = error.statusCode ?? 500;
  return { statusCode, code: error.code, error: STATUS_CODES[statusCode] ?? 'Error', message: error.message };
}

/**
 * Headers an error answer carries: `Retry-After` for an open breaker or a rate limit, `RateLimit-*` for a
 * rate limit (values from the error's details), and the request id.
 */
export function errorHeaders(error: MiaRunError, requestId: string): OutgoingHeaders {
  const headers: OutgoingHeaders = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId };
  const details = error.details ?? {};
  if (typeof details.retryAfter === 'number') headers['retry-after'] = String(details.retryAfter);
  if (error.code === 'MR_GW_RATE_LIMITED') {
    for (const key of ['limit', 'remaining', 'reset'] as const) {
      if (typeof details[key] === 'number') headers[`ratelimit-${key}`] = String(details[key]);
    }
  }
  return headers;
}

/** Answers a raw response with a gateway error as JSON (used where Fastify's error handler is not in the path). */
export function sendError(res: ServerResponse, error: MiaRunError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(error));
  res.writeHead(error.statusCode ?? 500, { ...errorHeaders(error, requestId), 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}
