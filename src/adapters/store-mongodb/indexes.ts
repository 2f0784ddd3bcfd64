/**
 * Index management from the port's `IndexSpec`s: creates what is missing, rebuilds an index whose definition
 * changed, refuses kinds the connected server lacks, and reads indexes back in the port's shape (text indexes
 * are stored by MongoDB as `{ _fts: 'text', _ftsx: 1 }` plus weights, and are turned back into `{ f: 'text' }`).
 */
import type { ClientSession, CreateIndexesOptions, Collection as DriverCollection, Document as DriverDocument, IndexSpecification } from 'mongodb';
import { MiaRunError } from '../../errors.js';
import type { IndexInfo, IndexKey, IndexSpec, StoreFeature } from '../../ports/document-store.js';
import { featureForIndex } from '../../ports/store-features.js';
import { toPortValue } from './bson-values.js';

type RawIndex = DriverDocument & { name: string; key: Record<string, unknown> };

/** `listIndexes` output → the port's `IndexInfo`. */
export function toIndexInfo(raw: RawIndex): IndexInfo {
  let key: IndexKey;
  if ('_fts' in raw.key) {
    // Text index: the text fields are the weights' keys; other (prefix/suffix) fields keep their direction.
    const fields: Record<string, IndexKey[string]> = {};
    for (const [field, dir] of Object.entries(raw.key)) {
      if (field === '_fts') for (const textField of Object.keys((raw.weights ?? {}) as object)) fields[textField] = 'text';
      else if (field !== '_ftsx') fields[field] = dir as IndexKey[string];
    }
    key = fields;
  } else {
    const fields: Record<string, IndexKey[string]> = {};
    for (const [field, dir] of Object.entries(raw.key)) fields[field] = typeof dir === 'number' ? (dir < 0 ? -1 : 1) : (dir as IndexKey[string]);
    key = fields;
  }
  const info: { -readonly [K in keyof IndexInfo]: IndexInfo[K] } = { name: raw.name, key };
  if (raw.unique === true) info.unique = true;
  if (typeof raw.expireAfterSeconds === 'number') info.expireAfterSeconds = raw.expireAfterSeconds;
  if (raw.partialFilterExpression !== undefined) info.partialFilterExpression = toPortValue(raw.partialFilterExpression) as Record<string, unknown>;
  if ('_fts' in raw.key) {
    if (raw.weights !== undefined) info.weights = raw.weights as Record<string, number>;
    if (typeof raw.default_language === 'string') info.defaultLanguage = raw.default_language;
  }
  return info;
}

function canonical(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Whether an existing index already has the definition the spec asks for (name equal). */
export function sameDefinition(existing: IndexInfo, wanted: IndexSpec): boolean {
  const textWeights = (spec: IndexSpec): unknown => {
    if (!Object.values(spec.key).includes('text')) return null;
    const weights: Record<string, number> = {};
    for (const [field, kind] of Object.entries(spec.key)) if (kind === 'text') weights[field] = spec.weights?.[field] ?? 1;
    return weights;
  };
  return (
    canonical(Object.entries(existing.key)) === canonical(Object.entries(wanted.key)) &&
    (existing.unique ?? false) === (wanted.unique ?? false) &&
    existing.expireAfterSeconds === wanted.expireAfterSeconds &&
    canonical(existing.partialFilterExpression) === canonical(wanted.partialFilterExpression) &&
    canonical(textWeights(existing)) === canonical(textWeights(wanted)) &&
    (textWeights(wanted) === null || (existing.defaultLanguage ?? 'english') === (wanted.defaultLanguage ?? 'english'))
  );
}

function createOptions(spec: IndexSpec): CreateIndexesOptions {
  const options: CreateIndexesOptions = { name: spec.name };
  if (spec.unique === true) options.unique = true;
  if (spec.expireAfterSeconds !== undefined) options.expireAfterSeconds = spec.expireAfterSeconds;
  if (spec.partialFilterExpression !== undefined) options.partialFilterExpression = spec.partialFilterExpression;
  if (spec.weights !== undefined) options.weights = spec.weights;
  if (spec.defaultLanguage !== undefined) options.default_language = spec.defaultLanguage;
  return options;
}

/** Refuses an index kind the connected server does not offer, before asking the server. */
export function checkIndexFeatures(specs: readonly IndexSpec[], features: ReadonlySet<StoreFeature>, context: string): void {
  for (const spec of specs) {
    const needed = featureForIndex(spec);
    if (needed !== undefined && !features.has(needed)) {
      throw new MiaRunError('MR_STORE_UNSUPPORTED', `${context}: index "${spec.name}" needs the "${needed}" feature, which this MongoDB server does not offer`, {
        details: { index: spec.name, feature: needed },
        hint: 'use a MongoDB deployment that supports it, or remove the index',
      });
    }
    if (spec.name === '_id_') throw new MiaRunError('MR_STORE_INVALID_QUERY', `${context}: the "_id_" index is implicit and cannot be redefined`);
  }
}

/** Creates missing indexes and rebuilds changed ones; driver errors propagate to the caller for mapping. */
export async function ensureIndexes(collection: DriverCollection<DriverDocument>, specs: readonly IndexSpec[], session?: ClientSession): Promise<void> {
  const existing = await listIndexes(collection, session);
  const byName = new Map(existing.map((index) => [index.name, index]));
  const sessionOption = session === undefined ? {} : { session };
  for (const spec of specs) {
    const current = byName.get(spec.name);
    if (current !== undefined && sameDefinition(current, spec)) continue;
    if (current !== undefined) await collection.dropIndex(spec.name, sessionOption);
    await collection.createIndex(spec.key as IndexSpecification, { ...createOptions(spec), ...sessionOption });
  }
}

/** Indexes of a collection in the port's shape; a missing collection has none. */
export async function listIndexes(collection: DriverCollection<DriverDocument>, session?: ClientSession): Promise<IndexInfo[]> {
  try {
    const raw = (await collection.listIndexes(session === undefined ? {} : { session }).toArray()) as RawIndex[];
    return raw.map(toIndexInfo);
  } catch (error) {
    if ((error as { code?: unknown }).code === 26) return []; // NamespaceNotFound
    throw error;
  }
}
