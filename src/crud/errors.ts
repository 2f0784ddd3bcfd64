/**
 * CRUD errors and their HTTP bodies (crud-api.md §7). Bodies keep Mia's shapes: `{ statusCode, error, message }`
 * plus our stable `code`, and `{ error: "not found" }` for a missing document or route.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MiaRunError, isMiaRunError, type ErrorCode } from '../errors.js';
import { sendError } from '../http/error-mapper.js';

export const badRequest = (message: string, code: ErrorCode = 'MR_CRUD_BAD_REQUEST'): MiaRunError => new MiaRunError(code, message);

export const notFound = (): MiaRunError => new MiaRunError('MR_CRUD_NOT_FOUND', 'not found');

/** Store errors that a client caused, with the message Mia clients read. */
function fromStoreError(error: MiaRunError, uniqueFields: (index: string) => readonly string[] | undefined): MiaRunError {
  if (error.code === 'MR_STORE_DUPLICATE_KEY') {
    const index = typeof error.details?.index === 'string' ? error.details.index : undefined;
    const fields = (index === undefined ? undefined : uniqueFields(index)) ?? keyFields(error.details?.key);
    const names = fields === undefined || fields.length === 0 ? 'a unique field' : fields.map((f) => `"${f}"`).join(', ');
    return new MiaRunError('MR_CRUD_DUPLICATE_KEY', `A document with the same value of ${names} already exists`, { cause: error, details: { fields: fields ?? [] } });
  }
  if (error.code === 'MR_STORE_INVALID_QUERY' || error.code === 'MR_STORE_INVALID_DOCUMENT') {
    return new MiaRunError('MR_CRUD_BAD_REQUEST', error.message, { cause: error });
  }
  return error;
}

function keyFields(key: unknown): readonly string[] | undefined {
  return key !== null && typeof key === 'object' ? Object.keys(key) : undefined;
}

const isValidationError = (error: unknown): error is FastifyError =>
  typeof error === 'object' && error !== null && (error as FastifyError).validation !== undefined;

/**
 * Installs the CRUD error and not-found handlers in a collection's encapsulated context. Schema validation
 * errors become `MR_CRUD_BAD_REQUEST` with Fastify's message; store errors a client caused become 400/409.
 */
export function installCrudErrors(app: FastifyInstance, uniqueFields: (index: string) => readonly string[] | undefined): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let mapped: unknown = error;
    if (isValidationError(error)) mapped = new MiaRunError('MR_CRUD_BAD_REQUEST', error.message);
    else if (isMiaRunError(error)) mapped = fromStoreError(error, uniqueFields);
    if (isMiaRunError(mapped) && mapped.code === 'MR_CRUD_NOT_FOUND') return reply.code(404).send({ error: 'not found', code: mapped.code });
    return sendError(mapped, request, reply);
  });
  try {
    app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found', code: 'MR_HTTP_NOT_FOUND' }));
  } catch {
    // The mounting scope already set a not-found handler for this prefix; its body is used instead.
  }
}
