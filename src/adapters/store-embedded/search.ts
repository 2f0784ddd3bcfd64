/**
 * Reads of the embedded store: candidates from the plan (ids, index ranges, scan), filtered by the compiled
 * filter and TTL expiry, then geo distance, text score, sort, skip and limit. A synchronous generator: the
 * cursor pulls from it in chunks, so a large result streams without being held in memory (unless it must be
 * sorted in memory).
 */
import type { Document, Filter, FindOptions, IndexSpec } from '../../ports/document-store.js';
import type { CollectionMeta } from './catalog.js';
import { ObjectId } from 'bson';
import { decodeDocument, docKey, encodeId, encodeKey } from './codec.js';
import { compileIndex, valuesAtPath, type CompiledIndex } from './index-entries.js';
import { nearDistance } from './geo.js';
import type { Kv } from './kv.js';
import { docRange, plan } from './planner.js';
import { compileFilter, expiryTest, invalidQuery, scoreOf } from './query.js';
import { sortHits, validateSort, type Hit } from './results.js';

export interface SearchInput {
  readonly kv: Kv;
  readonly meta: CollectionMeta | undefined;
  readonly filter: Filter | undefined;
  readonly options?: Pick<FindOptions, 'sort' | 'skip' | 'limit'>;
  readonly now: number;
}

function* candidates(kv: Kv, meta: CollectionMeta, p: ReturnType<typeof plan>): Generator<Document> {
  if (p.kind === 'ids') {
    const seen = new Set<string>();
    for (const id of p.ids) {
      const key = docKey(meta.id, encodeId(id));
      const hex = key.toString('hex');
      if (seen.has(hex)) continue;
      seen.add(hex);
      const raw = kv.get(key);
      if (raw !== undefined) yield decodeDocument(raw);
    }
  } else if (p.kind === 'index' && p.exact === true) {
    for (const range of p.ranges) {
      const id = kv.get(range.start);
      const raw = id === undefined ? undefined : kv.get(docKey(meta.id, id));
      if (raw !== undefined) yield decodeDocument(raw);
    }
  } else if (p.kind === 'index') {
    const seen = new Set<string>();
    for (const range of p.ranges) {
      for (const entry of kv.range(range.start, range.end, p.reverse)) {
        const hex = entry.value.toString('hex');
        if (seen.has(hex)) continue;
        seen.add(hex);
        const raw = kv.get(docKey(meta.id, entry.value));
        if (raw !== undefined) yield decodeDocument(raw);
      }
    }
  } else {
    const range = docRange(meta.id);
    for (const entry of kv.range(range.start, range.end, p.reverse)) yield decodeDocument(entry.value);
  }
}

export interface PreparedCollection {
  readonly specs: readonly IndexSpec[];
  readonly compiled: readonly CompiledIndex[];
  readonly expired: ((doc: Document, now: number) => boolean) | undefined;
}

const NONE: PreparedCollection = { specs: [], compiled: [], expired: undefined };
const prepared = new WeakMap<CollectionMeta, PreparedCollection>();

/** Per-catalog-version state of a collection (compiled indexes, TTL test), computed once. */
export function prepare(meta: CollectionMeta | undefined): PreparedCollection {
  if (meta === undefined) return NONE;
  let p = prepared.get(meta);
  if (p === undefined) {
    const specs = meta.indexes.map((i) => i.spec);
    p = { specs, compiled: meta.indexes.map(compileIndex), expired: expiryTest(specs) };
    prepared.set(meta, p);
  }
  return p;
}

const isKeyScalar = (v: unknown): boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date || v instanceof ObjectId;

/** A top-level equality that a stored value certainly satisfies when it is the same primitive. */
const isPrimitiveEquality = (field: string, value: unknown): boolean =>
  !field.startsWith('$') && !field.includes('.') && (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && !Number.isNaN(value)));

/**
 * The hot path of `{ _id: v }` and `{ field: v }` on a single-field unique index: two point reads, no filter
 * compilation. An index entry for `v` means the document holds `v` at that (undotted) field, so the filter
 * matches without re-checking. `{ _id: v, state: 'PUBLIC' }` (a point read by id with more top-level
 * equalities on strings, numbers or booleans, the CRUD's get by id) reads the document by id and accepts it
 * when each of those fields holds the same primitive; any other case is judged by the whole compiled filter
 * (`recheck`), so arrays, numeric types and missing fields keep MongoDB's semantics. Returns undefined when
 * the filter is not of these shapes.
 */
function pointLookup(
  kv: Kv,
  meta: CollectionMeta,
  compiled: readonly CompiledIndex[],
  filter: Filter | undefined,
  recheck: (doc: Document) => boolean,
): Document | null | undefined {
  if (filter === undefined || filter === null || typeof filter !== 'object') return undefined;
  const keys = Object.keys(filter);
  if (keys.length === 0) return undefined;
  if (keys.length > 1) {
    const id = filter._id;
    if (!isKeyScalar(id)) return undefined;
    for (const key of keys) if (key !== '_id' && !isPrimitiveEquality(key, filter[key])) return undefined;
    const raw = kv.get(docKey(meta.id, encodeId(id)));
    if (raw === undefined) return null;
    const doc = decodeDocument(raw);
    let same = true;
    for (const key of keys) if (key !== '_id' && doc[key] !== filter[key]) same = false;
    return same || recheck(doc) ? doc : null;
  }
  const field = keys[0]!;
  const value = filter[field];
  if (field.includes('.') || field.startsWith('$') || !isKeyScalar(value)) return undefined;
  let encodedId: Buffer | undefined;
  if (field === '_id') encodedId = encodeId(value);
  else {
    const index = compiled.find((i) => i.unique && i.kind === 'normal' && i.partial === undefined && i.fields.length === 1 && i.fields[0] === field);
    if (index === undefined) return undefined;
    encodedId = kv.get(encodeKey([value], index.prefix));
    if (encodedId === undefined) return null;
  }
  const raw = kv.get(docKey(meta.id, encodedId));
  return raw === undefined ? null : decodeDocument(raw);
}

function nonNegative(n: number | undefined, what: string): number {
  if (n === undefined) return 0;
  if (!Number.isInteger(n) || n < 0) throw invalidQuery(`${what} must be a non-negative integer`);
  return n;
}

/** Matching documents (with score/distance) in result order, after skip and limit. */
export function* search(input: SearchInput): Generator<Hit> {
  const { kv, meta, options = {} } = input;
  validateSort(options.sort);
  const skip = nonNegative(options.skip, 'skip');
  const limit = nonNegative(options.limit, 'limit');
  const { specs, compiled, expired } = prepare(meta);
  if (meta !== undefined && options.sort === undefined && skip === 0) {
    const hit = pointLookup(kv, meta, compiled, input.filter, (doc) => compileFilter(input.filter, specs).test(doc));
    if (hit !== undefined) {
      if (hit !== null && expired?.(hit, input.now) !== true) yield { doc: hit };
      return;
    }
  }
  const filter = compileFilter(input.filter, specs);
  if (meta === undefined) return;
  const p = plan(filter.residual, options.sort, compiled);
  const matches = function* (): Generator<Hit> {
    for (const doc of candidates(kv, meta, p)) {
      if (expired?.(doc, input.now) === true || !filter.test(doc)) continue;
      const hit: Hit = { doc };
      const score = scoreOf(filter, doc);
      if (score !== undefined) {
        if (score <= 0) continue;
        hit.score = score;
      }
      if (filter.near !== undefined) {
        const near = filter.near;
        const d = Math.min(...valuesAtPath(doc, near.field).map((v) => nearDistance(near, v) ?? Infinity));
        if (!(d >= near.min && d <= near.max)) continue;
        hit.distance = d;
      }
      yield hit;
    }
  };
  const inMemory = filter.near !== undefined || (options.sort !== undefined && Object.keys(options.sort).length > 0 && !(p.kind !== 'ids' && p.ordered && filter.text === undefined));
  let source: Iterable<Hit> = matches();
  if (inMemory) {
    const hits = [...source];
    if (filter.near !== undefined) hits.sort((a, b) => a.distance! - b.distance!);
    if (options.sort !== undefined && Object.keys(options.sort).length > 0) sortHits(hits, options.sort);
    source = hits;
  }
  let n = 0;
  for (const hit of source) {
    if (n++ < skip) continue;
    yield hit;
    if (limit > 0 && n >= skip + limit) return;
  }
}
