import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { EmbeddedDocumentStore } from '../../src/adapters/store-embedded/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';
import { documentStoreContract } from './document-store.contract.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mia-run-store-contract-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
let n = 0;

documentStoreContract({
  name: 'store.embedded',
  create: async () => {
    const name = `db${++n}`;
    const store = new EmbeddedDocumentStore(name, { path: join(dataDir, name), clock: systemClock, logger: silentLogger });
    await store.start();
    return store;
  },
  destroy: async (store) => rmSync(join(dataDir, store.name), { recursive: true, force: true }),
});
