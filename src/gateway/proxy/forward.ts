import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { MiaRunError, isMiaRunError } from '../../errors.js';
import type { CallContext, CallResult, Call, RateLimitInfo } from '../../resilience/types.js';
import { createProxyCall, hasBody, sendError, sendProxyResult, type ProxyResult } from './proxy.js';
import { upstreamError } from './upstream-client.js';
import { hasDotSegments, type UpstreamClient } from './upstream-client.js';

const REQUEST_ID = /^[\w.:@/+=-]{1,200}$/;

/** The caller's `x-request-id` when it is sane, else a new one (gateway.md §3). */
export function requestIdOf(headers: IncomingMessage['headers']): string {
  const id = headers['x-request-id'];
  return typeof id === 'string' && REQUEST_ID.test(id) ? id : randomUUID();
}

export interface ForwardOptions {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly client: UpstreamClient;
  /** Name in errors and logs. */
  readonly upstream: string;
  /** Path and query to send (see `rewritePath`). */
  readonly path: string;
  readonly requestId: string;
  /** The upstream's policy stack (`PolicyStack.wrap`); identity when absent. */
  readonly wrap?: <R extends CallResult>(call: Call<R>) => Call<R>;
  /** Identity headers for the upstream. */
  readonly identityHeaders?: Readonly<Record<string, string>>;
  readonly stripCredentials?: boolean;
  readonly rateLimitKey?: string;
  /** `https` when the listener terminates TLS or a trusted proxy says so; default `http`. */
  readonly protocol?: string;
  /**
   * Bytes a body without `content-length` (chunked) may stream before the call fails with 413; a declared
   * length is checked before forwarding by the caller.
   */
  readonly bodyLimit?: number;
}

/** Passes a streamed body through, failing it with 413 once more than `limit` bytes went by. */
function limited(source: IncomingMessage, limit: number): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) return done(new MiaRunError('MR_HTTP_PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`));
      done(null, chunk);
    },
  });
  source.once('error', (error) => counter.destroy(error));
  return source.pipe(counter);
}

export interface ForwardOutcome {
  readonly statusCode: number;
  /** The error answered instead of an upstream response, if any. */
  readonly error?: MiaRunError;
}

/**
 * Proxies one request to an upstream through its policy stack and answers the client: the upstream's
 * response streamed back, or a JSON error (`Retry-After`, `RateLimit-*` where they apply). A request with
 * a body is never retried (the stream cannot be replayed); a client that goes away cancels the upstream call.
 */
export async function forward(options: ForwardOptions): Promise<ForwardOutcome> {
  const { req, res, requestId } = options;
  if (hasDotSegments(options.path)) {
    const error = new MiaRunError('MR_HTTP_BAD_REQUEST', 'the path has "." or ".." segments');
    sendError(res, error, requestId);
    return { statusCode: 400, error };
  }
  const controller = new AbortController();
  const onClose = (): void => {
    // Not a MiaRunError: nothing will be answered, and breakers and retries ignore a caller's abort.
    if (!res.writableFinished) controller.abort(Object.assign(new Error('the client closed the connection'), { name: 'AbortError' }));
  };
  res.once('close', onClose);

  const withBody = hasBody(req.headers);
  const call = createProxyCall(
    options.client,
    {
      method: req.method ?? 'GET',
      path: options.path,
      headers: req.headers,
      body: !withBody ? null : options.bodyLimit !== undefined && req.headers['content-length'] === undefined ? limited(req, options.bodyLimit) : req,
      remoteAddress: req.socket.remoteAddress,
      protocol: options.protocol ?? 'http',
      host: req.headers.host,
      requestId,
      ...(options.identityHeaders ? { extra: options.identityHeaders } : {}),
      ...(options.stripCredentials ? { stripCredentials: true } : {}),
    },
    options.upstream,
  );
  let rateLimit: RateLimitInfo | undefined;
  const ctx: CallContext = {
    method: req.method ?? 'GET',
    signal: controller.signal,
    ...(withBody ? { retryable: false } : {}),
    ...(options.rateLimitKey === undefined ? {} : { rateLimitKey: options.rateLimitKey }),
    onRateLimit: (info) => (rateLimit = info),
  };
  let result: ProxyResult;
  try {
    result = await (options.wrap ? options.wrap(call) : call)(ctx);
  } catch (caught) {
    res.off('close', onClose);
    if (controller.signal.aborted && caught === controller.signal.reason) {
      res.destroy();
      return { statusCode: 499 }; // nginx's "client closed request": nobody is left to answer
    }
    const error = isMiaRunError(caught) ? caught : upstreamError(caught, options.upstream);
    sendError(res, error, requestId);
    return { statusCode: error.statusCode ?? 500, error };
  }
  if (rateLimit) {
    res.setHeader('ratelimit-limit', String(rateLimit.limit));
    res.setHeader('ratelimit-remaining', String(rateLimit.remaining));
    res.setHeader('ratelimit-reset', String(rateLimit.reset));
  }
  await sendProxyResult(res, result, requestId);
  res.off('close', onClose);
  return { statusCode: result.statusCode };
}
