/**
 * Reads of the embedded store: candidates from the plan (ids, index ranges, scan), filtered by the compiled
 * filter and TTL expiry, then geo distance, text score, sort, skip and limit. A synchronous generator: the
 * cursor pulls from it in chunks, so a large result streams without being held in memory (unless it must be
 * sorted in memory).
 */
import type { Document, Filter, FindOptions, IndexSpec } from '../../ports/document-store.js';
import type { CollectionMeta } from './catalog.js';
import { decodeDocument, docKey, encodeId } from './codec.js';
import { compileIndex, valuesAtPath } from './index-entries.js';
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
  const specs: IndexSpec[] = meta?.indexes.map((i) => i.spec) ?? [];
  const filter = compileFilter(input.filter, specs);
  if (meta === undefined) return;
  const expired = expiryTest(specs);
  const p = plan(filter.residual, options.sort, meta.indexes.map(compileIndex));
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
