import type { IncomingMessage } from 'node:http';
import { MiaRunError } from '../../errors.js';
import type { Call, CallResult } from '../../resilience/index.js';
import { sendUpstream, upstreamRequestHeaders } from '../proxy/index.js';
import type { UpstreamRoute } from '../upstreams.js';

/** A whole answer, body read: what shadow traffic compares. */
export interface BufferedAnswer extends CallResult {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** Reads a request body up to `limit` bytes (413 past it); null when the request has none. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new MiaRunError('MR_HTTP_PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return size === 0 ? null : Buffer.concat(chunks);
}

export interface BufferedRequest {
  readonly req: IncomingMessage;
  readonly path: string;
  readonly body: Buffer | null;
  readonly requestId: string;
  readonly protocol: string;
}

/** One call to an upstream through its policies with the body buffered both ways (shadowed routes). */
export function bufferedUpstreamCall(route: UpstreamRoute, request: BufferedRequest): Call<BufferedAnswer> {
  const { client } = route;
  const { req } = request;
  const headers = upstreamRequestHeaders(req.headers, {
    remoteAddress: req.socket.remoteAddress,
    protocol: request.protocol,
    host: req.headers.host,
    requestId: request.requestId,
    ...(route.forwardCredentials ? {} : { stripCredentials: true }),
  });
  delete headers['content-length'];
  if (request.body) headers['content-length'] = String(request.body.length);
  const call: Call<BufferedAnswer> = (ctx) =>
    sendUpstream(client, { method: req.method ?? 'GET', path: request.path, headers, body: request.body }, ctx.signal, route.name, async (response) => ({
      statusCode: response.statusCode,
      headers: response.headers,
      body: Buffer.from(await response.body.arrayBuffer()),
    }));
  return route.wrap(call);
}
