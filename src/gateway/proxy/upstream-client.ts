import { Pool } from 'undici';

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
