/**
 * Picks how the embedded store finds candidate documents for a filter: `_id` point lookups, key ranges of a
 * normal index (equality on a prefix of its fields, then at most one range, as MongoDB's bounds), or a scan.
 * Candidates are always re-checked against the whole filter, so a plan only has to be a superset. When the
 * sort is on the index field right after the equality prefix (or on `_id` for a scan), results stream in
 * sort order and a limit stops the scan early.
 */
import type { Filter, Sort } from '../../ports/document-store.js';
import { docPrefix, encodeId } from './codec.js';
import type { CompiledIndex } from './index-entries.js';
import { encodeValue, isPlainObject, prefixEnd, typeTag } from './key-encoding.js';
import { ObjectId } from 'bson';

export interface KeyRange {
  readonly start: Buffer;
  readonly end: Buffer;
}

export type Plan =
  | { readonly kind: 'ids'; readonly ids: readonly unknown[] }
  | { readonly kind: 'index'; readonly index: CompiledIndex; readonly ranges: readonly KeyRange[]; readonly ordered: boolean; readonly reverse: boolean; readonly exact?: boolean }
  | { readonly kind: 'scan'; readonly ordered: boolean; readonly reverse: boolean };

type Bound = { readonly points: unknown[] } | { readonly lower?: { v: unknown; incl: boolean }; readonly upper?: { v: unknown; incl: boolean } };

const isScalar = (v: unknown): boolean =>
  v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v instanceof Date || v instanceof ObjectId;

/** Conditions on top-level fields (and inside a top-level `$and`), by field. */
function fieldConditions(filter: Filter): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  const add = (f: Filter): void => {
    for (const [key, value] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(value)) value.forEach((v) => isPlainObject(v) && add(v));
      else if (!key.startsWith('$')) out.set(key, [...(out.get(key) ?? []), value]);
    }
  };
  add(filter);
  return out;
}

function boundOf(cond: unknown): Bound | undefined {
  if (!isPlainObject(cond) || !Object.keys(cond).some((k) => k.startsWith('$'))) return isScalar(cond) ? { points: [cond] } : undefined;
  if ('$eq' in cond) return isScalar(cond.$eq) ? { points: [cond.$eq] } : undefined;
  if (Array.isArray(cond.$in) && cond.$in.length > 0 && cond.$in.every(isScalar)) return { points: cond.$in as unknown[] };
  const r = (op: string): unknown => (isScalar(cond[op]) && cond[op] !== null ? cond[op] : undefined);
  const lower = r('$gte') !== undefined ? { v: r('$gte'), incl: true } : r('$gt') !== undefined ? { v: r('$gt'), incl: false } : undefined;
  const upper = r('$lte') !== undefined ? { v: r('$lte'), incl: true } : r('$lt') !== undefined ? { v: r('$lt'), incl: false } : undefined;
  if (lower === undefined && upper === undefined) return undefined;
  if (lower !== undefined && upper !== undefined && typeTag(lower.v) !== typeTag(upper.v)) return undefined;
  return { ...(lower === undefined ? {} : { lower }), ...(upper === undefined ? {} : { upper }) };
}


function rangesFor(index: CompiledIndex, conds: Map<string, unknown[]>): { ranges: KeyRange[]; eq: number; range: boolean; singlePrefix: boolean } | undefined {
  let prefixes: Buffer[] = [index.prefix];
  let eq = 0;
  for (const field of index.fields) {
    const bound = (conds.get(field) ?? []).map(boundOf).find((b) => b !== undefined);
    if (bound === undefined) break;
    if ('points' in bound) {
      const points = bound.points.map(encodeValue);
      if (prefixes.length * points.length > 1000) break;
      prefixes = prefixes.flatMap((p) => points.map((pt) => Buffer.concat([p, pt])));
      eq++;
      continue;
    }
    const ranges = prefixes.map((p) => {
      const { lower, upper } = bound;
      const tag = typeTag((lower ?? upper)!.v);
      const at = (v: unknown): Buffer => Buffer.concat([p, encodeValue(v)]);
      const start = lower === undefined ? Buffer.concat([p, Buffer.from([tag])]) : lower.incl ? at(lower.v) : prefixEnd(at(lower.v));
      const end = upper === undefined ? Buffer.concat([p, Buffer.from([tag + 1])]) : upper.incl ? prefixEnd(at(upper.v)) : at(upper.v);
      return { start, end };
    });
    return { ranges, eq, range: true, singlePrefix: prefixes.length === 1 };
  }
  if (eq === 0) return undefined;
  const ranges = prefixes.map((p) => ({ start: p, end: prefixEnd(p) }));
  return { ranges: ranges.sort((a, b) => Buffer.compare(a.start, b.start)), eq, range: false, singlePrefix: prefixes.length === 1 };
}

/** Chooses a plan for `filter` (the residual filter, without text/geo) and `sort` over `indexes`. */
export function plan(filter: Filter, sort: Sort | undefined, indexes: readonly CompiledIndex[]): Plan {
  const conds = fieldConditions(filter);
  const idBound = (conds.get('_id') ?? []).map(boundOf).find((b) => b !== undefined && 'points' in b);
  if (idBound !== undefined && 'points' in idBound) return { kind: 'ids', ids: idBound.points };
  const sortKeys = Object.entries(sort ?? {});
  const sortField = sortKeys.length === 1 && typeof sortKeys[0]![1] === 'number' ? sortKeys[0]![0] : undefined;
  const reverse = sortField !== undefined && sortKeys[0]![1] === -1;
  const usable = indexes.filter((i) => i.kind === 'normal' && i.partial === undefined);
  let best: { index: CompiledIndex; r: NonNullable<ReturnType<typeof rangesFor>>; score: number } | undefined;
  for (const index of usable) {
    const r = rangesFor(index, conds);
    if (r === undefined) continue;
    const score = r.eq * 2 + (r.range ? 1 : 0) + (index.unique && r.eq === index.fields.length ? 100 : 0);
    if (best === undefined || score > best.score) best = { index, r, score };
  }
  if (best !== undefined) {
    const next = best.index.fields[best.r.eq];
    const ordered = sortField !== undefined && best.r.singlePrefix && next === sortField;
    const ranges = ordered && reverse ? [...best.r.ranges].reverse() : best.r.ranges;
    // Equality on every field of a unique index: each range start is an exact key (a point read, no cursor).
    const exact = best.index.unique && best.r.eq === best.index.fields.length;
    return { kind: 'index', index: best.index, ranges, ordered, reverse: ordered && reverse, exact };
  }
  if (sortField === '_id') return { kind: 'scan', ordered: true, reverse };
  const sortIndex = sortField === undefined ? undefined : usable.find((i) => i.fields[0] === sortField);
  if (sortIndex !== undefined) {
    return { kind: 'index', index: sortIndex, ranges: [{ start: sortIndex.prefix, end: prefixEnd(sortIndex.prefix) }], ordered: true, reverse };
  }
  return { kind: 'scan', ordered: false, reverse: false };
}

/** The key range of a collection's documents. */
export function docRange(collectionId: number): KeyRange {
  const start = docPrefix(collectionId);
  return { start, end: prefixEnd(start) };
}

export { encodeId };
