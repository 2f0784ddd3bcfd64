/**
 * Builds `MR_STORE_DUPLICATE_KEY` errors that name the index and the key, as the embedded store does.
 *
 * Where the facts come from, in order of trust:
 * 1. `keyPattern` / `keyValue` fields of the server's error (MongoDB ≥ 4.4 on single-document writes): the
 *    index is the one whose key equals `keyPattern`;
 * 2. the `index: <name>` part of `errmsg` (bulk writes, where the driver keeps only `code` and `errmsg`);
 * 3. a probe: the unique index for which another stored document already has the offending document's key
 *    values (servers that send neither, such as FerretDB).
 */
import type { Collection as DriverCollection, ClientSession, Document as DriverDocument } from 'mongodb';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { MiaRunError } from '../../errors.js';
import type { Document, Filter, Update } from '../../ports/document-store.js';
import { toPortValue } from './bson-values.js';

interface IndexDescription {
  readonly name: string;
  readonly key: Record<string, unknown>;
  readonly unique?: boolean;
  readonly partialFilterExpression?: Record<string, unknown>;
}

/** What the failing call knows about the offending document. */
export interface DuplicateKeyContext {
  readonly collection: DriverCollection<DriverDocument>;
  readonly session?: ClientSession;
  /** The inserted or replacing document, when the call had one. */
  readonly document?: Document;
  /** For updates: the filter and update, from which the new version of the document is estimated. */
  readonly filter?: Filter;
  readonly update?: Update;
}

interface RawFacts {
  keyPattern?: Record<string, unknown>;
  keyValue?: Record<string, unknown>;
  errmsg?: string;
  /** The operation the server refused, from a bulk write error. */
  op?: unknown;
}

function rawFacts(error: unknown): RawFacts {
  if (error instanceof MongoBulkWriteError) {
    const first = Array.isArray(error.writeErrors) ? error.writeErrors[0] : error.writeErrors;
    const facts: RawFacts = { errmsg: first?.errmsg ?? error.message };
    if (first !== undefined) facts.op = first.getOperation();
    return facts;
  }
  if (error instanceof MongoServerError) {
    const facts: RawFacts = { errmsg: typeof error.errmsg === 'string' ? error.errmsg : error.message };
    if (isRecord(error.keyPattern)) facts.keyPattern = error.keyPattern;
    if (isRecord(error.keyValue)) facts.keyValue = error.keyValue;
    return facts;
  }
  return { errmsg: error instanceof Error ? error.message : String(error) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameKey(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** `a.b.c` read from a document; arrays are not traversed (unique keys on arrays are rare). */
export function getPath(doc: Record<string, unknown>, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[part];
  }
  return current;
}

function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = doc;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    if (!isRecord(next)) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1] as string] = value;
}

/** Estimates the document an update would produce: the matched document (or the filter's equality fields) with `$set`/`$setOnInsert` applied. */
async function estimateUpdated(ctx: DuplicateKeyContext): Promise<Document | undefined> {
  if (ctx.filter === undefined || ctx.update === undefined) return undefined;
  const before = await ctx.collection.findOne(ctx.filter, ctx.session === undefined ? {} : { session: ctx.session }).catch(() => null);
  const doc: Record<string, unknown> = before ?? {};
  if (before === null) {
    for (const [key, value] of Object.entries(ctx.filter)) if (!key.startsWith('$') && !isRecord(value)) setPath(doc, key, value);
  }
  const sets = [ctx.update.$set, before === null ? ctx.update.$setOnInsert : undefined];
  for (const set of sets) if (isRecord(set)) for (const [key, value] of Object.entries(set)) setPath(doc, key, value);
  return doc;
}

function candidateFromOp(op: unknown): Document | undefined {
  if (!isRecord(op)) return undefined;
  // Bulk operations keep the raw command entry: inserts are the document, updates `{ q, u, upsert }`.
  if ('q' in op && 'u' in op) return undefined;
  return op;
}

/** The filter and update of a bulk update entry `{ q, u }` (a replacement `u` counts as a `$set` of it). */
function updateFromOp(op: unknown): Pick<DuplicateKeyContext, 'filter' | 'update'> {
  if (!isRecord(op) || !isRecord(op.q) || !isRecord(op.u)) return {};
  const isOperators = Object.keys(op.u).some((key) => key.startsWith('$'));
  return { filter: op.q, update: isOperators ? op.u : { $set: op.u } };
}

/** `updated`: the candidate is an existing document's new version, so its own `_id` is no conflict. */
async function probe(indexes: readonly IndexDescription[], candidate: Document, updated: boolean, ctx: DuplicateKeyContext): Promise<IndexDescription | undefined> {
  for (const index of indexes) {
    if (index.name === '_id_' ? updated : index.unique !== true) continue;
    const filter: Record<string, unknown> = {};
    for (const field of Object.keys(index.key)) filter[field] = getPath(candidate, field) ?? null;
    if (index.name !== '_id_' && candidate._id !== undefined) filter._id = { $ne: candidate._id };
    const query = index.partialFilterExpression === undefined ? filter : { $and: [filter, index.partialFilterExpression] };
    const found = await ctx.collection.findOne(query, { projection: { _id: 1 }, ...(ctx.session === undefined ? {} : { session: ctx.session }) }).catch(() => null);
    if (found !== null) return index;
  }
  return undefined;
}

function printValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object' && 'toHexString' in value && typeof value.toHexString === 'function') return `ObjectId('${String(value.toHexString())}')`;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function printKey(key: Record<string, unknown>): string {
  return `{ ${Object.entries(key).map(([field, value]) => `${field}: ${printValue(value)}`).join(', ')} }`;
}

/** The `MR_STORE_DUPLICATE_KEY` error for a duplicate-key failure of a write on `ctx.collection`. */
export async function duplicateKeyError(error: unknown, ctx: DuplicateKeyContext): Promise<MiaRunError> {
  const facts = rawFacts(error);
  const indexes = (await ctx.collection.indexes(ctx.session === undefined ? {} : { session: ctx.session }).catch(() => [])) as unknown as IndexDescription[];
  let index: IndexDescription | undefined;
  if (facts.keyPattern !== undefined) index = indexes.find((i) => sameKey(i.key, facts.keyPattern as Record<string, unknown>));
  const named = facts.errmsg === undefined ? undefined : /\bindex: (\S+) dup key/.exec(facts.errmsg)?.[1];
  if (index === undefined && named !== undefined) index = indexes.find((i) => i.name === named) ?? { name: named, key: facts.keyPattern ?? {} };

  const inserted = ctx.document ?? candidateFromOp(facts.op);
  const candidate = inserted ?? (await estimateUpdated(ctx.filter === undefined ? { ...ctx, ...updateFromOp(facts.op) } : ctx));
  if (index === undefined && candidate !== undefined) index = await probe(indexes, candidate, inserted === undefined, ctx);

  let key = facts.keyValue;
  if (key === undefined && index !== undefined && candidate !== undefined) {
    key = {};
    for (const field of Object.keys(index.key)) key[field] = getPath(candidate, field) ?? null;
  }
  const portKey = key === undefined ? undefined : (toPortValue(key) as Record<string, unknown>);
  const collection = ctx.collection.collectionName;
  // Same wording as MongoDB's own message (and the embedded store's), built from the facts above.
  const message = `E11000 duplicate key error collection: ${ctx.collection.dbName}.${collection} index: ${index?.name ?? '(unknown)'} dup key: ${portKey === undefined ? '(unknown)' : printKey(portKey)}`;
  return new MiaRunError('MR_STORE_DUPLICATE_KEY', message, {
    cause: error,
    details: { collection, ...(index === undefined ? {} : { index: index.name }), ...(portKey === undefined ? {} : { key: portKey }) },
  });
}
