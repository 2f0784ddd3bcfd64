/**
 * The one place that turns errors into HTTP bodies (STYLE §5): `{ statusCode, code, error, message }`.
 * Capabilities throw `MiaRunError`s and let them reach this mapper; a capability whose external contract
 * dictates another body (the Mia CRUD shapes) sets its own handler inside its encapsulated context.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MiaRunError, isMiaRunError, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly error: string;
  readonly message: string;
}

// Fastify's own client errors, by status: their messages describe the request, never our internals.
const CLIENT_ERROR_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'MR_HTTP_BAD_REQUEST',
  404: 'MR_HTTP_NOT_FOUND',
  405: 'MR_HTTP_METHOD_NOT_ALLOWED',
  406: 'MR_HTTP_NOT_ACCEPTABLE',
  408: 'MR_HTTP_TIMEOUT',
  413: 'MR_HTTP_PAYLOAD_TOO_LARGE',
  415: 'MR_HTTP_UNSUPPORTED_MEDIA_TYPE',
};

const INTERNAL_MESSAGE = 'Internal server error';

function body(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

function isFastifyClientError(error: unknown): error is FastifyError {
  if (typeof error !== 'object' || error === null) return false;
  const { code, statusCode, validation } = error as Partial<FastifyError>;
  const status = statusCode ?? 0;
  return (validation !== undefined || (typeof code === 'string' && code.startsWith('FST_'))) && status >= 400 && status < 500;
}

/**
 * Maps any thrown value to the status and body a client sees. Unknown errors become a 500 `MR_INTERNAL`
 * whose message says nothing about the cause (it is logged with the request id instead).
 */
export function toErrorBody(error: unknown): ErrorBody {
  if (isMiaRunError(error)) return body(error.statusCode ?? 500, error.code, error.statusCode === undefined ? INTERNAL_MESSAGE : error.message);
  if (isFastifyClientError(error)) {
    const status = error.statusCode ?? 400;
    const code = CLIENT_ERROR_CODES[status] ?? 'MR_HTTP_BAD_REQUEST';
    const statusCode = CLIENT_ERROR_CODES[status] === undefined ? 400 : status;
    return body(statusCode, code, error.message);
  }
  return body(500, 'MR_INTERNAL', INTERNAL_MESSAGE);
}

/** Sends the mapped body; logs server-side failures with their cause (client errors are in the access log). */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = toErrorBody(error);
  if (mapped.statusCode >= 500) request.log.error({ err: error, code: mapped.code }, 'request failed');
  if (isMiaRunError(error) && typeof error.details?.retryAfter === 'number') reply.header('retry-after', String(error.details.retryAfter));
  return reply.code(mapped.statusCode).type('application/json; charset=utf-8').send(mapped);
}

/** Installs the mapper as the root error handler and a JSON 404 for unmatched routes. */
export function installErrorMapper(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const error = new MiaRunError('MR_HTTP_NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0] ?? ''} not found`);
    return sendError(error, request, reply);
  });
}
