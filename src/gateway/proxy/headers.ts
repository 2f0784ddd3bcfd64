import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1 and the legacy ones proxies still see); never forwarded. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
/** Credentials of the caller an external upstream must not see unless declared (gateway.md §3, as Mia). */
const CALLER_CREDENTIALS: ReadonlySet<string> = new Set(['cookie', 'client-key', 'secret']);

export type OutgoingHeaders = Record<string, string | string[]>;

/** The names a `Connection` header lists as hop-by-hop for this message. */
function connectionListed(value: string | string[] | undefined): Set<string> {
  const listed = new Set<string>();
  for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
    for (const token of v.split(',')) if (token.trim()) listed.add(token.trim().toLowerCase());
  }
  return listed;
}

export interface ForwardInfo {
  /** Address of the peer that connected to us. */
  readonly remoteAddress: string | undefined;
  /** `http` or `https` as the client used it. */
  readonly protocol: string;
  /** Host the client asked for. */
  readonly host: string | undefined;
  readonly requestId: string;
  /** Headers added last (identity headers), overriding anything incoming. */
  readonly extra?: Readonly<Record<string, string>>;
  /** Drop the caller's cookies and client key (external upstreams). */
  readonly stripCredentials?: boolean;
}

/**
 * Headers for the upstream request: the incoming ones minus hop-by-hop headers (and any the `Connection`
 * header names) and `host` (undici sets the upstream's), plus `x-forwarded-for` (appended),
 * `x-forwarded-proto`, `x-forwarded-host` and `x-request-id` (gateway.md §3).
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, info: ForwardInfo): OutgoingHeaders {
  const listed = connectionListed(incoming.connection);
  const out: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || name === 'host' || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (info.stripCredentials && CALLER_CREDENTIALS.has(name)) continue;
    out[name] = value;
  }
  const prior = incoming['x-forwarded-for'];
  const chain = Array.isArray(prior) ? prior.join(', ') : prior;
  if (info.remoteAddress) out['x-forwarded-for'] = chain ? `${chain}, ${info.remoteAddress}` : info.remoteAddress;
  out['x-forwarded-proto'] = info.protocol;
  if (info.host) out['x-forwarded-host'] = info.host;
  out['x-request-id'] = info.requestId;
  if (info.extra) Object.assign(out, info.extra);
  return out;
}

/** Headers for the client's response: the upstream's minus hop-by-hop, with our `x-request-id`. */
export function clientResponseHeaders(upstream: Readonly<Record<string, string | string[] | undefined>>, requestId: string): OutgoingHeaders {
  const listed = connectionListed(upstream.connection);
  const out: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  out['x-request-id'] = requestId;
  return out;
}
