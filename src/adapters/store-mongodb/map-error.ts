/**
 * Driver and server errors → `MiaRunError`s with the port's codes (`src/ports/document-store.ts`). Decisions
 * read the driver's structured fields (error class, numeric `code`, error labels), never message text.
 * Duplicate-key errors are handled by `duplicate-key.ts`, which needs the collection to name the index.
 */
import { MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { MiaRunError, isMiaRunError } from '../../errors.js';

/** What the failing call was doing: decides between "bad query" and "bad document" for a server refusal. */
export type OperationKind = 'read' | 'insert' | 'update' | 'index' | 'admin';

/** MongoDB server error codes used below (src/mongo/base/error_codes.yml in the server sources). */
export const SERVER_CODES = {
  duplicateKey: [11000, 11001, 12582],
  writeConflict: [112, 251, 24],
  /** Transient conditions: stepdowns, shutdowns, timeouts, network trouble between cluster members. */
  transient: [6, 7, 64, 89, 91, 134, 189, 202, 262, 9001, 10107, 11600, 11602, 13435, 13436, 50],
  unauthorized: [13, 18, 8000],
  unsupported: [20, 115, 238, 303],
  /** Refusals of the stored document itself. */
  invalidDocument: [66, 121, 10334, 17280, 52, 55, 56, 57, 53, 28],
} as const;

const has = (list: readonly number[], code: unknown): boolean => typeof code === 'number' && list.includes(code);

/** The numeric server code of an error, when it has one. */
export function serverCode(error: unknown): number | undefined {
  if (error instanceof MongoError && typeof error.code === 'number') return error.code;
  return undefined;
}

export function isDuplicateKeyError(error: unknown): boolean {
  return has(SERVER_CODES.duplicateKey, serverCode(error));
}

/**
 * FerretDB v1 (SQLite) reports a unique violation caused by an update as `InternalError` (code 1) carrying
 * SQLite's message instead of code 11000. There is no structured field to read, so for that server only the
 * SQLite constraint text is recognised.
 */
export function isFerretDbUniqueViolation(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 1 && /UNIQUE constraint failed/.test(error.message);
}

/** True for errors that mean "the server cannot be reached or is busy": retrying may help. */
export function isUnavailableError(error: unknown): boolean {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return true;
  if (!(error instanceof MongoError)) return false;
  if (error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('ResetPool') || error.hasErrorLabel('PoolRequestedRetry')) return true;
  // Driver-side conditions that are about connectivity rather than the request.
  if (['MongoNotConnectedError', 'MongoTopologyClosedError', 'MongoPoolClearedError', 'MongoOperationTimeoutError', 'MongoServerClosedError'].includes(error.name)) return true;
  return has(SERVER_CODES.transient, serverCode(error));
}

/**
 * Maps anything a driver call threw. `MiaRunError`s pass through unchanged. `context` names the database and
 * collection for messages; it never contains credentials.
 */
export function mapMongoError(error: unknown, kind: OperationKind, context: string): MiaRunError {
  if (isMiaRunError(error)) return error;
  const code = serverCode(error);
  const details = code === undefined ? { context } : { context, serverCode: code, codeName: (error as MongoServerError).codeName };
  const message = error instanceof Error ? error.message : String(error);

  if (isUnavailableError(error)) {
    return new MiaRunError('MR_STORE_UNAVAILABLE', `${context}: the MongoDB server is unavailable (${message})`, {
      cause: error,
      details,
      hint: 'check that the server is running and reachable; the operation can be retried',
    });
  }
  if (error instanceof MongoError && (error.hasErrorLabel('TransientTransactionError') || has(SERVER_CODES.writeConflict, code))) {
    return new MiaRunError('MR_STORE_WRITE_CONFLICT', `${context}: a concurrent write touched the same document; retry the operation`, { cause: error, details });
  }
  if (has(SERVER_CODES.unauthorized, code)) {
    return new MiaRunError('MR_STORE_UNAVAILABLE', `${context}: the MongoDB server refused the credentials or the operation (${message})`, {
      cause: error,
      details,
      retriable: false,
      hint: 'check the user, password and roles in the database URL',
    });
  }
  if (has(SERVER_CODES.unsupported, code)) {
    return new MiaRunError('MR_STORE_UNSUPPORTED', `${context}: the MongoDB server does not support this operation (${message})`, { cause: error, details });
  }
  if (has(SERVER_CODES.invalidDocument, code) || (kind === 'insert' && error instanceof MongoServerError)) {
    return new MiaRunError('MR_STORE_INVALID_DOCUMENT', `${context}: the document cannot be stored (${message})`, { cause: error, details });
  }
  if (error instanceof MongoServerError) {
    return new MiaRunError('MR_STORE_INVALID_QUERY', `${context}: the server rejected the ${kind === 'index' ? 'index definition' : 'request'} (${message})`, { cause: error, details });
  }
  if (error instanceof MongoError && (error.name === 'MongoInvalidArgumentError' || error.name === 'MongoAPIError' || error.name === 'MongoCompatibilityError')) {
    return new MiaRunError(kind === 'insert' ? 'MR_STORE_INVALID_DOCUMENT' : 'MR_STORE_INVALID_QUERY', `${context}: ${message}`, { cause: error, details });
  }
  if (error instanceof Error && error.name === 'BSONError') {
    return new MiaRunError(kind === 'read' ? 'MR_STORE_INVALID_QUERY' : 'MR_STORE_INVALID_DOCUMENT', `${context}: a value cannot be encoded (${message})`, { cause: error, details });
  }
  return new MiaRunError('MR_STORE_UNAVAILABLE', `${context}: unexpected MongoDB driver error (${message})`, { cause: error, details, retriable: false });
}
