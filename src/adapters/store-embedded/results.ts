/**
 * Shaping results of the embedded store: in-memory sort with MongoDB's order (types in bracket order, arrays
 * sort by their smallest element ascending and largest descending, missing = null; text score descending)
 * and projection (mingo's, plus `{ $meta: 'textScore' }` and `_id` first as MongoDB returns it).
 */
import { Query } from 'mingo';
import type { Document, Projection, Sort } from '../../ports/document-store.js';
import { valuesAtPath } from './index-entries.js';
import { encodeValue, isPlainObject } from './key-encoding.js';
import { invalidQuery } from './query.js';

export interface Hit {
  readonly doc: Document;
  /** Text score or distance, when the query computed one. */
  score?: number;
  distance?: number;
}

function sortKey(doc: Document, field: string, dir: 1 | -1): Buffer {
  const keys = valuesAtPath(doc, field).map(encodeValue);
  keys.sort(Buffer.compare);
  return (dir === 1 ? keys[0] : keys[keys.length - 1]) ?? Buffer.from([0x05]);
}

/** Validates a sort document. */
export function validateSort(sort: Sort | undefined): void {
  if (sort === undefined) return;
  if (!isPlainObject(sort)) throw invalidQuery('Sort must be an object');
  for (const [field, dir] of Object.entries(sort)) {
    if (dir !== 1 && dir !== -1 && !(isPlainObject(dir) && dir.$meta === 'textScore')) throw invalidQuery(`Invalid sort direction for "${field}"`);
  }
}

/** Sorts hits in place by `sort`. */
export function sortHits(hits: Hit[], sort: Sort): void {
  const entries = Object.entries(sort);
  const keyed = hits.map((hit) => ({
    hit,
    keys: entries.map(([field, dir]) => (typeof dir === 'number' ? sortKey(hit.doc, field, dir) : undefined)),
  }));
  keyed.sort((a, b) => {
    for (let i = 0; i < entries.length; i++) {
      const dir = entries[i]![1];
      const c = typeof dir === 'number' ? dir * Buffer.compare(a.keys[i]!, b.keys[i]!) : (b.hit.score ?? 0) - (a.hit.score ?? 0);
      if (c !== 0) return c;
    }
    return 0;
  });
  keyed.forEach((k, i) => (hits[i] = k.hit));
}

/** A projector for one query: applies the projection to each hit. */
export function projector(projection: Projection | undefined): (hit: Hit) => Document {
  if (projection === undefined || Object.keys(projection).length === 0) return (hit) => hit.doc;
  if (!isPlainObject(projection)) throw invalidQuery('Projection must be an object');
  const metaFields = Object.entries(projection).filter(([, v]) => isPlainObject(v) && (v as { $meta?: unknown }).$meta === 'textScore').map(([k]) => k);
  const rest = Object.fromEntries(Object.entries(projection).filter(([k]) => !metaFields.includes(k)));
  const values = Object.entries(rest).filter(([k]) => k !== '_id').map(([, v]) => v);
  if (values.some((v) => v === 1 || v === true) && values.some((v) => v === 0 || v === false)) {
    throw invalidQuery('Projection cannot mix inclusion and exclusion (except _id)');
  }
  const simple = simpleProjection(rest);
  if (simple !== undefined && metaFields.length === 0) return (hit) => simple(hit.doc);
  let query: Query;
  try {
    query = new Query({}, { scriptEnabled: false });
  } catch (cause) {
    throw invalidQuery(`Invalid projection: ${(cause as Error).message}`, cause);
  }
  return (hit) => {
    let out: Document = hit.doc;
    if (Object.keys(rest).length > 0) {
      try {
        out = query.find<Document>([hit.doc], rest).next() as Document;
      } catch (cause) {
        throw invalidQuery(`Invalid projection: ${(cause as Error).message}`, cause);
      }
      if ('_id' in out) {
        const { _id, ...others } = out;
        out = { _id, ...others };
      }
    }
    if (metaFields.length > 0) out = { ...out, ...Object.fromEntries(metaFields.map((f) => [f, hit.score ?? 0])) };
    return out;
  };
}

/** Projection of undotted fields without mingo (the common case; building a mingo query per find is costly). */
function simpleProjection(projection: Record<string, unknown>): ((doc: Document) => Document) | undefined {
  const entries = Object.entries(projection);
  if (entries.length === 0 || entries.some(([k, v]) => k.includes('.') || k.startsWith('$') || typeof v === 'object')) return undefined;
  const include = entries.filter(([k]) => k !== '_id').some(([, v]) => v === 1 || v === true);
  const idValue = projection._id;
  const keepId = idValue === undefined || idValue === 1 || idValue === true;
  const fields = new Set(entries.filter(([k]) => k !== '_id').map(([k]) => k));
  return (doc) => {
    const out: Document = {};
    if (keepId && '_id' in doc) out._id = doc._id;
    for (const [k, v] of Object.entries(doc)) {
      if (k === '_id') continue;
      if (include ? fields.has(k) : !fields.has(k)) out[k] = v;
    }
    return out;
  };
}
