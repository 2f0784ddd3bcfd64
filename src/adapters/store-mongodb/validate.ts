/**
 * Checks made before a request leaves the process, so that both store kinds refuse the same inputs with the
 * same codes whatever the server version accepts (MongoDB ≥ 5 stores `$`-prefixed field names, for example;
 * the port does not).
 */
import { MiaRunError } from '../../errors.js';
import type { Document } from '../../ports/document-store.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Collection names the port accepts: non-empty, no `$` or NUL, not in the reserved `system.` namespace. */
export function validateCollectionName(name: string): void {
  if (typeof name !== 'string' || name === '' || name.startsWith('system.') || name.includes('$') || name.includes('\0')) {
    throw new MiaRunError('MR_STORE_INVALID_QUERY', `Invalid collection name "${String(name)}"`);
  }
}

/** A document to insert or a replacement: a plain object, no top-level `$` field names, a usable `_id`. */
export function validateDocument(doc: Document): void {
  if (!isPlainObject(doc)) throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', 'A document must be a plain object');
  for (const key of Object.keys(doc)) {
    if (key.startsWith('$')) throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', `Field names must not start with "$" ("${key}")`);
  }
  if (Array.isArray(doc._id) || doc._id instanceof RegExp) {
    throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', 'The _id of a document must not be an array or a regular expression');
  }
}
