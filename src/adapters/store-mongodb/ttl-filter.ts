/**
 * TTL semantics as the port defines them: a document whose TTL date has passed (by the store's `Clock`) is
 * gone from reads at once. MongoDB's TTL monitor deletes such documents only about once a minute, so reads add
 * a condition excluding expired documents; the server still does the deleting. Same rule as the embedded
 * store: expired when the earliest Date at the field plus `expireAfterSeconds` is at or before now, and the
 * document matches the index's partial filter, if any; non-Date values never expire.
 */
import type { Filter, IndexInfo } from '../../ports/document-store.js';

export interface TtlIndex {
  readonly field: string;
  readonly expireAfterSeconds: number;
  readonly partialFilterExpression?: Filter;
}

/** The TTL indexes among a collection's indexes (single-field indexes with `expireAfterSeconds`). */
export function ttlIndexesOf(indexes: readonly IndexInfo[]): TtlIndex[] {
  return indexes
    .filter((index) => index.expireAfterSeconds !== undefined && Object.keys(index.key).length === 1)
    .map((index) => ({
      field: Object.keys(index.key)[0] as string,
      expireAfterSeconds: index.expireAfterSeconds as number,
      ...(index.partialFilterExpression === undefined ? {} : { partialFilterExpression: index.partialFilterExpression }),
    }));
}

/** `filter` restricted to documents not expired at `now`; unchanged when there is no TTL index. */
export function withoutExpired(filter: Filter, ttl: readonly TtlIndex[], now: number): Filter {
  if (ttl.length === 0) return filter;
  const expired = ttl.map((index) => {
    // `$lte` against a Date matches only Date values (and arrays holding one at or before the cutoff).
    const condition = { [index.field]: { $lte: new Date(now - index.expireAfterSeconds * 1000) } };
    return index.partialFilterExpression === undefined ? condition : { $and: [index.partialFilterExpression, condition] };
  });
  if (!('$nor' in filter)) return { ...filter, $nor: expired };
  return { $and: [filter, { $nor: expired }] };
}
