import type { Clock } from '../../ports/clock.js';
import { createTimeout, type Call, type CallResult, type Policy } from '../../resilience/index.js';
import type { TargetHost } from '../dispatch/target-host.js';
import { sendUpstream } from '../proxy/index.js';
import type { UpstreamRoute } from '../upstreams.js';

/** What one BFF call answered, body read. */
export interface CallAnswer extends CallResult {
  readonly body: unknown;
}

export interface CallRequest {
  readonly method: string;
  /** Path under the target, placeholders filled. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return null;
  if (contentType === undefined || contentType.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A call to an upstream through its policy stack (breaker, retries), reading the whole body. */
export function upstreamCall(route: UpstreamRoute, request: CallRequest): Call<CallAnswer> {
  const { client } = route;
  const inner: Call<CallAnswer> = (ctx) =>
    sendUpstream(client, { method: request.method, path: client.basePath + request.path, headers: request.headers }, ctx.signal, route.name, async (response) => {
      const text = await response.body.text();
      const type = response.headers['content-type'];
      return { statusCode: response.statusCode, body: parseBody(text, Array.isArray(type) ? type[0] : type) };
    });
  return route.wrap(inner);
}

/** A call to an in-process target through `inject` on its private instance: no socket, no network. */
export function inProcessCall(host: TargetHost, request: CallRequest): Call<CallAnswer> {
  return async () => {
    const app = await host.ready();
    const response = await app.inject({ method: request.method as 'GET', url: host.prefix + request.path, headers: request.headers });
    return { statusCode: response.statusCode, body: parseBody(response.payload, response.headers['content-type'] as string | undefined) };
  };
}

/** One call's own deadline (504 MR_GW_UPSTREAM_TIMEOUT naming the call), built once per planned call. */
export function deadline(ms: number, clock: Clock, name: string): Policy {
  return createTimeout({ ms, clock, name: `call "${name}"` });
}
