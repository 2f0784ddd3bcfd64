/**
 * Update semantics of the embedded store, on top of mingo's updater: operator validation, `$currentDate` from
 * the store's clock, `$setOnInsert` on upsert only, the positional `$` resolved against the filter, the
 * immutable `_id`, upsert seeds built from the filter's equality fields, and whole-document replacement.
 */
import { update as mingoUpdate } from 'mingo';
import { ObjectId } from 'bson';
import { MiaRunError } from '../../errors.js';
import type { Document, Filter, Update } from '../../ports/document-store.js';
import { cloneDocument, decodeDocument, encodeDocument, encodeId } from './codec.js';
import { fastUpdate } from './fast-update.js';
import { isPlainObject } from './key-encoding.js';
import { validateDocument } from './writes.js';

const OPERATORS = new Set(['$set', '$unset', '$inc', '$mul', '$currentDate', '$push', '$pull', '$addToSet', '$setOnInsert', '$min', '$max', '$rename', '$pop', '$pullAll']);

function invalid(message: string, cause?: unknown): MiaRunError {
  return new MiaRunError('MR_STORE_INVALID_QUERY', message, cause === undefined ? {} : { cause });
}

/** Checks that `update` is a non-empty document of supported operators. */
export function validateUpdate(update: Update): void {
  if (!isPlainObject(update) || Object.keys(update).length === 0) throw invalid('Update document must be a non-empty object of update operators');
  for (const [op, fields] of Object.entries(update)) {
    if (!op.startsWith('$')) throw invalid(`Update document must contain only update operators; found field "${op}" (use replaceOne to replace a document)`);
    if (!OPERATORS.has(op)) throw invalid(`Unsupported update operator ${op}`);
    if (!isPlainObject(fields)) throw invalid(`${op} expects an object of fields`);
  }
}

export interface ApplyResult {
  readonly doc: Document;
  readonly changed: boolean;
}

/**
 * Applies `update` to a copy of `doc`. `isInsert` enables `$setOnInsert`; `filter` resolves the positional `$`.
 */
export function applyUpdate(doc: Document, update: Update, options: { filter: Filter; isInsert: boolean; now: number }): ApplyResult {
  validateUpdate(update);
  const modifier: Record<string, Record<string, unknown>> = {};
  const set: Record<string, unknown> = { ...(update.$set as Record<string, unknown> | undefined) };
  for (const [op, fields] of Object.entries(update)) {
    if (op === '$set') continue;
    if (op === '$setOnInsert') {
      if (options.isInsert) Object.assign(set, fields);
      continue;
    }
    if (op === '$currentDate') {
      for (const path of Object.keys(fields as object)) set[path] = new Date(options.now);
      continue;
    }
    modifier[op] = fields as Record<string, unknown>;
  }
  if ('_id' in set) {
    if (doc._id !== undefined && encodeId(set._id).equals(encodeId(doc._id))) delete set._id;
    else if (doc._id !== undefined) throw immutableId();
  }
  if (Object.keys(set).length > 0) modifier.$set = set;
  assertNoConflicts(modifier);
  const fast = fastUpdate(doc, modifier);
  if (fast !== undefined) {
    assertSameId(doc, fast.doc);
    return fast;
  }
  const next = cloneDocument(doc);
  if (Object.keys(modifier).length === 0) return { doc: next, changed: false };
  let changed = false;
  // One mingo call per operator: mingo reports sibling positional paths (items.$.a, items.$.b) as conflicts,
  // which MongoDB allows; real conflicts were rejected above.
  for (const [op, fields] of Object.entries(modifier)) {
    try {
      const usesPositional = Object.keys(fields).some((p) => p.split('.').includes('$'));
      const paths = mingoUpdate(next, { [op]: fields } as never, undefined, usesPositional ? (options.filter as never) : undefined, { cloneMode: 'deep' });
      if (paths.length > 0) changed = true;
    } catch (cause) {
      if (/immutable field '_id'/.test((cause as Error).message)) throw immutableId();
      throw invalid(`Invalid update: ${(cause as Error).message}`, cause);
    }
  }
  assertSameId(doc, next);
  return { doc: next, changed };
}

/** A validated replacement encoded once: `doc` shares values with the caller's replacement (do not hand it out). */
export interface EncodedReplacement {
  readonly doc: Document;
  readonly bytes: Buffer;
}

/**
 * The document replacing the one whose `_id` is `id`: the replacement's fields with `_id` first (a different
 * `_id` in the replacement is an error), validated and encoded once, without copying it.
 */
export function encodeReplacement(id: unknown, replacement: Document): EncodedReplacement {
  if (!isPlainObject(replacement)) throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', 'Replacement must be an object');
  for (const key of Object.keys(replacement)) {
    if (key.startsWith('$')) throw invalid(`Replacement document must not contain update operators ("${key}")`);
  }
  const doc = { _id: id, ...replacement, ...(replacement._id === undefined ? { _id: id } : {}) };
  const bytes = encodeDocument(doc);
  if (id !== undefined && !encodeId(id).equals(encodeId(doc._id))) throw immutableId();
  validateDocument(doc);
  return { doc, bytes };
}

/** Replaces `doc` by `replacement`, keeping `_id`; `bytes` is the new document, already encoded. */
export function applyReplacement(doc: Document, replacement: Document): ApplyResult & { readonly bytes: Buffer } {
  const { bytes } = encodeReplacement(doc._id, replacement);
  return { doc: decodeDocument(bytes), changed: !bytes.equals(encodeDocument(doc)), bytes };
}

function immutableId(): MiaRunError {
  return new MiaRunError('MR_STORE_INVALID_DOCUMENT', "Performing an update on the path '_id' would modify the immutable field '_id'");
}

function assertSameId(before: Document, after: Document): void {
  if (before._id !== undefined && !encodeId(before._id).equals(encodeId(after._id))) throw immutableId();
}

/** Rejects two operators touching the same path or a path and its prefix (MongoDB's "would create a conflict"). */
function assertNoConflicts(modifier: Record<string, Record<string, unknown>>): void {
  const paths = Object.values(modifier).flatMap((fields) => Object.keys(fields));
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const [a, b] = [paths[i]!, paths[j]!];
      if (a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`)) throw invalid(`Updating the path '${a}' would create a conflict at '${b}'`);
    }
  }
}

/** The filter's equality fields (`{a: 1}`, `{a: {$eq: 1}}`, inside `$and`). */
function equalities(filter: Filter): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  const collect = (f: Filter): void => {
    for (const [key, value] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(value)) value.forEach((v) => isPlainObject(v) && collect(v));
      else if (key.startsWith('$')) continue;
      else if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
        if ('$eq' in value) set[key] = value.$eq;
      } else set[key] = value;
    }
  };
  collect(filter);
  return set;
}

/** The `_id` an upserted replacement gets from the filter (undefined: a new one). */
export function upsertId(filter: Filter): unknown {
  return equalities(filter)._id;
}

/** The document an upsert starts from: the filter's equality fields (`{a: 1}`, `{a: {$eq: 1}}`, `$and`). */
export function upsertSeed(filter: Filter): Document {
  const set = equalities(filter);
  const seed: Document = {};
  if ('_id' in set) {
    seed._id = set._id;
    delete set._id;
  }
  const fields = Object.keys(set);
  if (fields.length === 0) return seed;
  // Top-level fields are plain assignments (copied, as mingo's deep clone did); dot paths build nesting.
  if (fields.some((f) => f.includes('.'))) mingoUpdate(seed, { $set: set } as never, undefined, undefined, { cloneMode: 'deep' });
  else Object.assign(seed, cloneDocument(set));
  return seed;
}

/** Gives a document an `_id` (a new ObjectId) when it has none, keeping `_id` first like MongoDB. */
export function withId(doc: Document): Document {
  if (doc._id !== undefined) return doc;
  return { _id: new ObjectId(), ...doc };
}
