/**
 * The stores every CRUD suite runs on: the embedded adapter in a temp directory (always) and the MongoDB
 * adapter on `MONGODB_URL` with a random database (skipped with a visible reason when the variable is unset).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createEmbeddedDocumentStore } from '../../src/adapters/store-embedded/index.js';
import { createMongoDocumentStore } from '../../src/adapters/store-mongodb/index.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DocumentStore } from '../../src/ports/document-store.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { StoreFactory } from './crud-suite-core.js';

const dirs = new WeakMap<DocumentStore, string>();

export const embeddedStore: StoreFactory = {
  name: 'embedded',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'mia-run-crud-'));
    const store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: dir }, { dataDir: dir, clock: systemClock, logger: silentLogger });
    await store.start();
    dirs.set(store, dir);
    return store;
  },
  async destroy(store) {
    await store.close();
    const dir = dirs.get(store);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  },
};

const mongoUrl = process.env.MONGODB_URL;

export const mongoStore: StoreFactory = {
  name: 'mongodb',
  ...(mongoUrl === undefined || mongoUrl === '' ? { skip: 'set MONGODB_URL to run' } : {}),
  async create() {
    const store = createMongoDocumentStore('default', { kind: 'mongodb', url: mongoUrl ?? '', database: `crud_${randomBytes(4).toString('hex')}`, connectTimeout: 10_000 }, { clock: systemClock, logger: silentLogger });
    await store.start();
    return store;
  },
  async destroy(store) {
    for (const name of await store.listCollections()) await store.collection(name).drop();
    await store.close();
  },
};
