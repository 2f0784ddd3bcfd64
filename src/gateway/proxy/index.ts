/** Proxying to upstreams with undici (gateway.md §3). */
export { clientResponseHeaders, upstreamRequestHeaders, type ForwardInfo, type OutgoingHeaders } from './headers.js';
export {
  createUpstreamClient,
  rewritePath,
  hasDotSegments,
  sendUpstream,
  upstreamError,
  type UpstreamRequest,
  DEFAULT_BODY_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_HEADERS_TIMEOUT,
  type UpstreamClient,
  type UpstreamClientOptions,
} from './upstream-client.js';
export { createProxyCall, errorBody, errorHeaders, hasBody, sendError, sendProxyResult, type ProxyRequest, type ProxyResult } from './proxy.js';
export { forward, requestIdOf, type ForwardOptions, type ForwardOutcome } from './forward.js';
