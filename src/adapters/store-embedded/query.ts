/**
 * Compiles a filter for the embedded store: `$text`, `$nearSphere`/`$near` and `$geoWithin` are taken out
 * (mingo does not evaluate them) and handled here; the rest is evaluated by mingo with MongoDB semantics.
 * Also decides which documents are expired by a TTL index (they are invisible to every read).
 */
import { Query } from 'mingo';
import { MiaRunError } from '../../errors.js';
import type { Document, Filter, IndexSpec } from '../../ports/document-store.js';
import { compileWithin, parseNear, type NearQuery } from './geo.js';
import { valuesAtPath } from './index-entries.js';
import { ObjectId } from 'bson';
import { encodeValue, isPlainObject } from './key-encoding.js';
import { parseTextQuery, textScore, type TextQuery } from './text-search.js';

export interface CompiledFilter {
  /** The filter without the text and geo parts (what the planner reads). */
  readonly residual: Filter;
  readonly text: { readonly query: TextQuery; readonly index: IndexSpec } | undefined;
  readonly near: NearQuery | undefined;
  /** True when the document matches everything except `$text` and `$nearSphere`. */
  test(doc: Document): boolean;
}

const GEO_NEAR_KEYS = new Set(['$nearSphere', '$near', '$maxDistance', '$minDistance']);

export function invalidQuery(message: string, cause?: unknown): MiaRunError {
  return new MiaRunError('MR_STORE_INVALID_QUERY', message, cause === undefined ? {} : { cause });
}

/** Builds a mingo query, mapping its errors (unknown operator, bad operand) to `MR_STORE_INVALID_QUERY`. */
export function mingoQuery(filter: Filter): Query {
  try {
    return new Query(filter, { scriptEnabled: false });
  } catch (cause) {
    throw invalidQuery(`Invalid filter: ${(cause as Error).message}`, cause);
  }
}

export function compileFilter(filter: Filter | undefined, indexes: readonly IndexSpec[]): CompiledFilter {
  if (filter !== undefined && !isPlainObject(filter)) throw invalidQuery('Filter must be an object');
  const residual: Record<string, unknown> = {};
  let textOperand: unknown;
  let near: NearQuery | undefined;
  const within: { field: string; test: (v: unknown) => boolean }[] = [];
  const take = (f: Record<string, unknown>, into: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(f)) {
      if (key === '$text') textOperand = value;
      else if (key === '$and' && Array.isArray(value)) {
        const rest = value.map((v: unknown) => {
          if (!isPlainObject(v)) throw invalidQuery('$and needs an array of objects');
          const r: Record<string, unknown> = {};
          take(v, r);
          return r;
        });
        const kept = rest.filter((r) => Object.keys(r).length > 0);
        if (kept.length > 0) into.$and = kept;
      } else if (!key.startsWith('$') && isPlainObject(value) && Object.keys(value).some((k) => GEO_NEAR_KEYS.has(k) || k === '$geoWithin')) {
        const rest: Record<string, unknown> = {};
        for (const [op, operand] of Object.entries(value)) {
          if (op === '$geoWithin') within.push({ field: key, test: compileWithin(key, operand) });
          else if (!GEO_NEAR_KEYS.has(op)) rest[op] = operand;
        }
        if ('$nearSphere' in value || '$near' in value) {
          if (near !== undefined) throw invalidQuery('Only one $nearSphere is allowed in a query');
          if (!indexes.some((i) => i.key[key] === '2dsphere')) throw invalidQuery(`$nearSphere on "${key}" needs a 2dsphere index on that field`);
          near = parseNear(key, value);
        }
        if (Object.keys(rest).length > 0) into[key] = rest;
      } else into[key] = value;
    }
  };
  take(filter ?? {}, residual);
  let text: CompiledFilter['text'];
  if (textOperand !== undefined) {
    const index = indexes.find((i) => Object.values(i.key).includes('text'));
    if (index === undefined) throw invalidQuery('$text needs a text index on the collection');
    text = { query: parseTextQuery(textOperand, index), index };
  }
  const simple = compileSimple(residual);
  const query = simple === undefined ? mingoQuery(residual) : undefined;
  return {
    residual,
    text,
    near,
    test(doc) {
      try {
        if (!(simple ?? ((d: Document) => query!.test(d)))(doc)) return false;
      } catch (cause) {
        throw invalidQuery(`Invalid filter: ${(cause as Error).message}`, cause);
      }
      return within.every((w) => valuesAtPath(doc, w.field).some(w.test));
    },
  };
}

/** Score of a document for the filter's `$text` (0: no match), or undefined when there is no `$text`. */
export function scoreOf(filter: CompiledFilter, doc: Document): number | undefined {
  return filter.text === undefined ? undefined : textScore(doc, filter.text.index, filter.text.query);
}

/** A predicate telling which documents a collection's TTL indexes have expired at `now`. */
export function expiryTest(indexes: readonly IndexSpec[]): ((doc: Document, now: number) => boolean) | undefined {
  const ttl = indexes.filter((i) => i.expireAfterSeconds !== undefined && Object.keys(i.key).length === 1);
  if (ttl.length === 0) return undefined;
  const partials = ttl.map((i) => (i.partialFilterExpression === undefined ? undefined : mingoQuery(i.partialFilterExpression)));
  return (doc, now) =>
    ttl.some((index, n) => {
      const dates = valuesAtPath(doc, Object.keys(index.key)[0]!).filter((v): v is Date => v instanceof Date);
      if (dates.length === 0) return false;
      if (partials[n] !== undefined && !partials[n].test(doc)) return false;
      const earliest = Math.min(...dates.map((d) => d.getTime()));
      return earliest + index.expireAfterSeconds! * 1000 <= now;
    });
}

/** `{ field: null }` on an array value: MongoDB matches when an element is null. */
const nullInArray = (values: readonly unknown[]): boolean => values.some((v) => v === null || v === undefined);

const SIMPLE_OPS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte', '$in']);

const encoded = encodeValue;

const simpleScalar = (v: unknown): boolean =>
  typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v instanceof Date || v instanceof ObjectId;

/**
 * A fast matcher for the most common filters (top-level, undotted fields compared with `$eq $gt $gte $lt $lte
 * $in` to non-null scalars), equivalent to mingo's result for them, or undefined for anything else.
 * Compiling a mingo query costs tens of microseconds, which dominated indexed point reads.
 */
export function compileSimple(filter: Filter): ((doc: Document) => boolean) | undefined {
  const tests: ((doc: Document) => boolean)[] = [];
  for (const [field, cond] of Object.entries(filter)) {
    if (field === '$or' && Array.isArray(cond) && cond.length > 0) {
      // `$or` of simple branches (the journal's claim: missing, null or expired `claimUntil`).
      const branches = cond.map((branch) => (isPlainObject(branch) && Object.keys(branch).length > 0 ? compileSimple(branch) : undefined));
      if (branches.some((b) => b === undefined)) return undefined;
      tests.push((doc) => branches.some((b) => b!(doc)));
      continue;
    }
    if (field.startsWith('$') || field.includes('.')) return undefined;
    if (cond === null || (isPlainObject(cond) && Object.keys(cond).length === 1 && (cond.$eq === null || typeof cond.$exists === 'boolean'))) {
      // Null equality (null, missing, or an array holding null) and `$exists` on a top-level field.
      const exists = isPlainObject(cond) && typeof cond.$exists === 'boolean' ? cond.$exists : undefined;
      if (exists === undefined) tests.push((doc) => (Array.isArray(doc[field]) ? nullInArray(doc[field] as unknown[]) : doc[field] === null || doc[field] === undefined));
      else tests.push((doc) => (doc[field] !== undefined) === exists);
      continue;
    }
    const ops: [string, unknown][] = isPlainObject(cond) ? Object.entries(cond) : [['$eq', cond]];
    if (ops.length === 0) return undefined;
    for (const [op, operand] of ops) {
      if (!SIMPLE_OPS.has(op)) return undefined;
      const operands = op === '$in' ? operand : [operand];
      if (!Array.isArray(operands) || operands.length === 0 || !operands.every(simpleScalar)) return undefined;
      const keys = operands.map(encoded);
      if (op === '$in' || op === '$eq') {
        // Equality: same encoded key (same type tag and value), looked up instead of compared one by one.
        const set = new Set(keys.map((k) => k.toString('latin1')));
        tests.push((doc) => {
          const value = doc[field];
          if (!Array.isArray(value)) return set.has(encoded(value).toString('latin1'));
          return value.some((v) => set.has(encoded(v).toString('latin1')));
        });
        continue;
      }
      const cmp = (v: unknown): number[] => {
        const k = encoded(v);
        return keys.map((key) => (k[0] !== key[0] ? NaN : Buffer.compare(k, key)));
      };
      const accept = (c: number): boolean =>
        op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : op === '$lte' ? c <= 0 : c === 0;
      tests.push((doc) => {
        const value = doc[field];
        const values = Array.isArray(value) ? value : [value];
        return values.some((v) => cmp(v).some(accept));
      });
    }
  }
  return (doc) => tests.every((t) => t(doc));
}
