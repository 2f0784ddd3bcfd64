/**
 * Registry entry of `store.embedded` (see `src/runtime/registry.ts`): each `databases:` entry of kind
 * `embedded` is its own lmdb environment at `path`, or `<data-dir>/<name>` when no path is given.
 */
import { resolve } from 'node:path';
import type { EmbeddedDatabaseConfig } from '../../config/types.js';
import type { DocumentStore } from '../../ports/document-store.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import { EmbeddedDocumentStore } from './store.js';

export { EmbeddedDocumentStore, type EmbeddedStoreOptions } from './store.js';

/** What the factory needs of the runtime's backend context (structurally `BackendContext`). */
export interface EmbeddedStoreContext {
  readonly dataDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Builds the embedded store of one `databases:` entry; opens nothing until `start()`. */
export function createEmbeddedDocumentStore(name: string, config: EmbeddedDatabaseConfig, ctx: EmbeddedStoreContext): DocumentStore {
  const path = config.path === undefined ? resolve(ctx.dataDir, name) : resolve(config.path);
  return new EmbeddedDocumentStore(name, { path, clock: ctx.clock, logger: ctx.logger.child({ store: name }) });
}
