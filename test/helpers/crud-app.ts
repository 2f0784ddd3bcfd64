/**
 * A Fastify app serving CRUD collections at `/<name>` over a given DocumentStore, the way the gateway mounts
 * them (encapsulated plugins under a prefix, the root error mapper outside), for `app.inject` tests.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { CollectionConfig } from '../../src/config/sections/collections.js';
import { createCrud, type CrudOptions } from '../../src/crud/index.js';
import { installErrorMapper } from '../../src/http/error-mapper.js';
import type { CapabilityContext } from '../../src/ports/capability-context.js';
import type { DocumentStore } from '../../src/ports/document-store.js';
import type { Backend, Capability } from '../../src/ports/lifecycle.js';
import { silentLogger } from '../../src/ports/logger.js';
import { ManualClock } from '../../src/ports/manual-clock.js';
import { projectConfig } from './project-config.js';

export interface CrudApp {
  readonly app: FastifyInstance;
  readonly crud: Capability;
  readonly clock: ManualClock;
  close(): Promise<void>;
}

export interface CrudAppOptions extends CrudOptions {
  readonly bodyLimit?: number;
  /** The project's bus (change events); default: the store (collections without events never use it). */
  readonly bus?: Backend;
  readonly topics?: readonly string[];
}

export async function crudApp(store: DocumentStore, collections: readonly CollectionConfig[], options: CrudAppOptions = {}): Promise<CrudApp> {
  const clock = new ManualClock(Date.UTC(2024, 0, 1));
  const ctx: CapabilityContext = {
    config: projectConfig({ collections, bus: { kind: 'embedded', topics: Object.fromEntries((options.topics ?? []).map((t) => [t, { partitions: 1 }])) } }),
    stores: new Map([['default', store]]),
    bus: options.bus ?? store,
    logger: silentLogger,
    clock,
    dataDir: '/tmp',
    roles: ['crud'],
    targets: { get: () => undefined, list: () => [] },
  };
  const crud = createCrud(ctx, options);
  await crud.start();
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 1024 * 1024 });
  installErrorMapper(app);
  for (const [target, plugin] of crud.routes) await app.register(plugin, { prefix: target.startsWith('/') ? target : `/${target}` });
  await app.ready();
  return { app, crud, clock, close: async () => { await app.close(); await crud.stop(); } };
}
