/**
 * What each store kind offers, as data (STYLE §3). The config loader checks a descriptor against this table at
 * validate time (a text index on a store without `text` is an `MR_CONFIG_UNSUPPORTED_FEATURE`), without
 * importing any adapter; each adapter declares the same set as its `features`. Import-free on purpose.
 */

/** Features a DocumentStore may declare. */
export const STORE_FEATURES = ['transactions', 'changeStreams', 'text', 'geo', 'ttl'] as const;
export type StoreFeature = (typeof STORE_FEATURES)[number];

/** What a descriptor needs from a store, with the feature that provides it (for diagnostics). */
export const STORE_FEATURE_DESCRIPTIONS: Readonly<Record<StoreFeature, string>> = {
  transactions: 'atomic writes across collections (outbox: a write and its event commit together)',
  changeStreams: 'a stream of committed changes',
  text: 'text indexes and $text search',
  geo: '2dsphere indexes and $nearSphere / $geoWithin queries',
  ttl: 'TTL indexes (documents expire after expireAfterSeconds)',
};

/** Features per store kind (`store.<databases.*.kind>`). */
export const STORE_FEATURES_BY_KIND: Readonly<Record<'store.embedded' | 'store.mongodb', readonly StoreFeature[]>> = {
  'store.embedded': ['transactions', 'text', 'geo', 'ttl'],
  // Real MongoDB (replica set for transactions and change streams); see docs/storage.md for FerretDB gaps.
  'store.mongodb': ['transactions', 'changeStreams', 'text', 'geo', 'ttl'],
};

/** Features of a store kind; an unknown kind has none. */
export function storeFeatures(kind: string): ReadonlySet<StoreFeature> {
  const list = (STORE_FEATURES_BY_KIND as Readonly<Record<string, readonly StoreFeature[] | undefined>>)[kind];
  return new Set(list ?? []);
}

/** The feature an index definition needs, if any (text → `text`, 2dsphere → `geo`, expireAfterSeconds → `ttl`). */
export function featureForIndex(index: { readonly key: Readonly<Record<string, unknown>>; readonly expireAfterSeconds?: number }): StoreFeature | undefined {
  const kinds = Object.values(index.key);
  if (kinds.includes('text')) return 'text';
  if (kinds.includes('2dsphere')) return 'geo';
  if (index.expireAfterSeconds !== undefined) return 'ttl';
  return undefined;
}
