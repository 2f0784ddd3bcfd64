import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { MiaRunError, isMiaRunError } from '../../errors.js';

/** Defaults of gateway.md §3: undici's own 300 s header/body timeouts must never apply. */
export const DEFAULT_CONNECT_TIMEOUT = 5_000;
export const DEFAULT_HEADERS_TIMEOUT = 30_000;
export const DEFAULT_BODY_TIMEOUT = 30_000;

export interface UpstreamClientOptions {
  /** Base URL; a path in it is prefixed to every proxied path (`http://legacy:8080/app`). */
  readonly url: string;
  /** Keep-alive connections in the pool; default 128. */
  readonly connections?: number;
  /** ms to establish a connection; default 5 s. */
  readonly connectTimeout?: number;
  /** ms to receive the response headers; default 30 s. */
  readonly headersTimeout?: number;
  /** ms of silence allowed between body chunks; default 30 s. */
  readonly bodyTimeout?: number;
}

export interface UpstreamClient {
  readonly origin: string;
  /** Path prefix from the URL, without a trailing slash ('' for none). */
  readonly basePath: string;
  readonly pool: Pool;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  close(): Promise<void>;
}

/** One keep-alive pool per upstream, built at start-up; `close()` on shutdown. */
export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const url = new URL(options.url);
  const headersTimeout = options.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT;
  const bodyTimeout = options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT;
  const pool = new Pool(url.origin, {
    connections: options.connections ?? 128,
    connect: { timeout: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT },
    headersTimeout,
    bodyTimeout,
  });
  return {
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    pool,
    headersTimeout,
    bodyTimeout,
    close: () => pool.close(),
  };
}

/**
 * Mia's `pathRewrite` (gateway.md §1): the matched base-path prefix is replaced by `rewrite`, then the
 * upstream URL's own path is put in front. `/api/orders/1?x=1` matched by `/api/orders` with rewrite `/v2`
 * → `/v2/1?x=1`; without a rewrite the path is kept whole.
 */
export function rewritePath(requestUrl: string, matchedPrefix: string, rewrite: string | undefined, basePath = ''): string {
  let path = requestUrl;
  if (rewrite !== undefined && requestUrl.startsWith(matchedPrefix)) {
    path = rewrite.replace(/\/+$/, '') + requestUrl.slice(matchedPrefix.length);
    if (!path.startsWith('/')) path = `/${path}`;
  }
  if (basePath === '') return path;
  return path === '/' || path.startsWith('/?') ? basePath + path.slice(1) : basePath + path;
}

/**
 * True when a path has `.` or `..` segments, also percent-encoded: the gateway matched (and authorised) the
 * path as written, and an upstream that normalises it could serve another resource.
 */
export function hasDotSegments(requestUrl: string): boolean {
  const path = requestUrl.split('?', 1)[0]!;
  return /(?:^|\/)(?:\.|%2e){1,2}(?:\/|%2f|$)/i.test(path);
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Maps what undici throws to the gateway's codes (gateway.md §3): timeouts → 504 MR_GW_UPSTREAM_TIMEOUT,
 * anything else that kept us from an answer (refused, reset, DNS, closed socket) → 502
 * MR_GW_UPSTREAM_UNAVAILABLE. Decided by undici's stable `code`s, never by message text.
 */
export function upstreamError(error: unknown, upstream: string): MiaRunError {
  if (isMiaRunError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const cause = error;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new MiaRunError('MR_GW_UPSTREAM_TIMEOUT', `${upstream} did not answer in time (${code})`, { cause, details: { upstream, reason: code } });
  }
  return new MiaRunError('MR_GW_UPSTREAM_UNAVAILABLE', `${upstream} cannot be reached`, {
    cause,
    details: { upstream, ...(typeof code === 'string' ? { reason: code } : {}) },
  });
}


/** What the gateway sends to an upstream; `path` is the full path and query on the upstream. */
export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body?: Readable | Buffer | string | null;
}

/**
 * Sends one request through the upstream's pool with its explicit timeouts and hands the response to
 * `read` (which may read the whole body, or return the response to stream it later). The signal cancels it
 * (its reason is rethrown); any other failure while sending or reading becomes `upstreamError`. Proxying,
 * strangler calls and BFF calls all go through here.
 */
export async function sendUpstream<T>(
  client: UpstreamClient,
  request: UpstreamRequest,
  signal: AbortSignal | undefined,
  upstreamName: string,
  read: (response: Dispatcher.ResponseData) => T | Promise<T>,
): Promise<T> {
  try {
    const response = await client.pool.request({
      origin: client.origin,
      method: request.method as Dispatcher.HttpMethod,
      path: request.path,
      headers: request.headers,
      body: request.body ?? null,
      signal,
      headersTimeout: client.headersTimeout,
      bodyTimeout: client.bodyTimeout,
    });
    return await read(response);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw upstreamError(error, upstreamName);
  }
}
