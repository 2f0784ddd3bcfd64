/**
 * The catalog of one embedded database: collections and their index definitions, stored in the environment
 * itself so that every process opening the directory shares it. A random version token changes on every
 * catalog write; each operation reads the token (one point read) and reloads the catalog only when it moved,
 * so a collection or index created by another process is seen by the next operation.
 */
import { randomBytes } from 'node:crypto';
import { deserialize, serialize } from 'bson';
import type { IndexSpec } from '../../ports/document-store.js';
import { metaKey } from './codec.js';
import type { Kv } from './kv.js';

export interface IndexMeta {
  readonly id: number;
  readonly spec: IndexSpec;
  /** Set once a document produced several entries (an array value): the index then cannot serve sorts. */
  readonly multikey?: boolean;
}

export interface CollectionMeta {
  readonly id: number;
  readonly indexes: readonly IndexMeta[];
}

export interface CatalogData {
  readonly nextId: number;
  readonly collections: Readonly<Record<string, CollectionMeta>>;
}

const VERSION_KEY = metaKey('catalog-version');
const DATA_KEY = metaKey('catalog');
const EMPTY: CatalogData = { nextId: 1, collections: {} };

/** The implicit `_id_` index every collection has (documents are keyed by `_id`, so it has no entries). */
export const ID_INDEX: IndexSpec = { name: '_id_', key: { _id: 1 }, unique: true };

export class Catalog {
  #version: Buffer | undefined;
  #data: CatalogData = EMPTY;

  /** The current catalog as seen by `kv` (a read view or a write transaction). */
  load(kv: Kv): CatalogData {
    // Every operation does this: compare the token's bytes, no string conversion.
    const version = kv.get(VERSION_KEY);
    if (version === undefined) return EMPTY;
    if (this.#version === undefined || !version.equals(this.#version)) {
      const raw = kv.get(DATA_KEY);
      this.#data = raw === undefined ? EMPTY : (deserialize(raw).catalog as CatalogData);
      this.#version = Buffer.from(version);
    }
    return this.#data;
  }

  /** Writes a new catalog inside the current write transaction. */
  save(kv: Kv, data: CatalogData): void {
    const version = randomBytes(12);
    kv.put(DATA_KEY, Buffer.from(serialize({ catalog: data })));
    kv.put(VERSION_KEY, version);
    this.#data = data;
    this.#version = version;
  }

  /** The collection's metadata, creating the collection when `create` is set (inside a write transaction). */
  collection(kv: Kv, name: string, create: boolean): CollectionMeta | undefined {
    const data = this.load(kv);
    const existing = data.collections[name];
    if (existing !== undefined || !create) return existing;
    const meta: CollectionMeta = { id: data.nextId, indexes: [] };
    this.save(kv, { nextId: data.nextId + 1, collections: { ...data.collections, [name]: meta } });
    return meta;
  }

  /** Replaces a collection's metadata (undefined removes it). */
  update(kv: Kv, name: string, meta: CollectionMeta | undefined, nextId?: number): void {
    const data = this.load(kv);
    const collections = { ...data.collections };
    if (meta === undefined) delete collections[name];
    else collections[name] = meta;
    this.save(kv, { nextId: nextId ?? data.nextId, collections });
  }
}
