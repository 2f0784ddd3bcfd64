/** Shared shapes and assertions of the DocumentStore contract cases. */
import assert from 'node:assert/strict';
import { isMiaRunError, type ErrorCode, type MiaRunError } from '../../../src/errors.js';
import type { Collection, Document, DocumentStore } from '../../../src/ports/document-store.js';

export interface CaseContext {
  readonly store: DocumentStore;
  /** A collection of the case's fresh database (default name `things`). */
  coll(name?: string): Collection;
}

export type CaseFn = (ctx: CaseContext) => Promise<void>;

export interface CaseGroup {
  readonly name: string;
  readonly cases: Readonly<Record<string, CaseFn>>;
}

/** Asserts that `promise` rejects with a MiaRunError of `code`; returns it for further checks. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<MiaRunError> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `expected ${code}, but the operation succeeded`);
  assert.ok(isMiaRunError(error), `expected a MiaRunError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

/** Documents without `_id`, sorted by a field, for order-independent comparisons. */
export function strip(docs: readonly Document[]): Document[] {
  return docs.map(({ _id, ...rest }) => rest);
}

/** Values of `field` of each document, in order. */
export function pluck(docs: readonly Document[], field: string): unknown[] {
  return docs.map((d) => d[field]);
}

/** Sorted copy (for results whose order is not specified). */
export function sorted<T>(values: readonly T[]): T[] {
  return [...values].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

/** Seeds `n` documents `{ _id: i, n: i, group: i % 3, name: 'name-<i>' }`. */
export async function seedNumbers(c: Collection, n: number): Promise<void> {
  await c.insertMany(Array.from({ length: n }, (_, i) => ({ _id: i, n: i, group: i % 3, name: `name-${String(i).padStart(4, '0')}` })));
}
