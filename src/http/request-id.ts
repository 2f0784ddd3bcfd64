import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Header that carries the request id in both directions. */
export const REQUEST_ID_HEADER = 'x-request-id';

// Ids from callers end up in logs and upstream headers: accept only short, printable tokens so a caller cannot
// inject newlines or megabytes into either.
const SANE_ID = /^[\w.:@/+=-]{1,200}$/;

/**
 * The caller's `x-request-id` when it is a sane token, else a new random UUID. Used as Fastify's `genReqId`,
 * so `request.id` is the id written in the access log and returned in the response header.
 *
 * @example requestIdFrom({ 'x-request-id': 'abc-1' }) // 'abc-1'
 */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const value = headers[REQUEST_ID_HEADER];
  const id = Array.isArray(value) ? value[0] : value;
  return typeof id === 'string' && SANE_ID.test(id) ? id : randomUUID();
}
