/**
 * `store.mongodb`: the DocumentStore port on MongoDB (official driver). Registered in `src/runtime/registry.ts`.
 */
import type { MongoDatabaseConfig } from '../../config/types.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import { MongoDocumentStore } from './mongo-document-store.js';

export { MongoDocumentStore, type MongoDocumentStoreOptions } from './mongo-document-store.js';
export { redactMongoUrl } from './redact-url.js';

/** Registry factory: one client per `databases:` entry; no I/O until `start()`. */
export function createMongoDocumentStore(name: string, config: MongoDatabaseConfig, ctx: { readonly clock: Clock; readonly logger: Logger }): MongoDocumentStore {
  return new MongoDocumentStore({ name, config, clock: ctx.clock, logger: ctx.logger });
}
