/**
 * The CRUD capability (role `crud`): every collection of the descriptor served with the Mia CRUD Service
 * contract (`../shared/specs/crud-api.md`) over the DocumentStore port. `routes` holds one plugin per
 * collection, keyed by its name (the gateway mounts it as target `crud/<name>`), and `/-/schemas`.
 *
 * @example
 * const crud = createCrud(ctx);
 * await crud.start(); // ensures the declared indexes
 * app.register(crud.routes.get('books')!, { prefix: '/books' });
 */
import type { FastifyPluginAsync } from 'fastify';
import { isView, type CollectionConfig } from '../config/sections/collections.js';
import { MiaRunError } from '../errors.js';
import type { CapabilityContext } from '../ports/capability-context.js';
import { isDocumentStore, type Collection, type DocumentStore } from '../ports/document-store.js';
import type { Capability, HealthCheck } from '../ports/lifecycle.js';
import { collectionPlugin } from './collection-plugin.js';
import { ensureIndexes } from './indexes.js';
import { compileCollection, type CollectionModel } from './model/collection-model.js';
import { createOutbox, type Outbox } from '../outbox/index.js';
import type { EventBus } from '../ports/event-bus.js';
import { directWriter, outboxWriter, type Writer } from './changes.js';
import { createSerializer, DEFAULT_LIMITS, type CollectionServices, type CrudLimits } from './routes/services.js';
import { schemasPlugin } from './routes/schemas-route.js';
import { createValidators } from './validators.js';

export interface CrudOptions {
  readonly limits?: CrudLimits;
  /** Outbox relay poll interval, ms (default 500). */
  readonly outboxPollMs?: number;
}

function eventBus(ctx: CapabilityContext): EventBus {
  const bus = ctx.bus as Partial<EventBus>;
  if (typeof bus.publish !== 'function') throw new MiaRunError('MR_RUNTIME_START', 'Collections with events need an event bus, and the configured bus cannot publish');
  return bus as EventBus;
}

/** Compiles every collection; a view without its own fields takes its source's. */
export function compileCollections(collections: readonly CollectionConfig[]): CollectionModel[] {
  const byName = new Map(collections.map((c) => [c.name, c]));
  return collections.map((config) => {
    if (isView(config) && config.fields === undefined && config.schema === undefined) {
      const source = byName.get(config.source);
      return compileCollection({ ...config, ...(source?.fields === undefined ? {} : { fields: source.fields }), ...(source?.schema === undefined ? {} : { schema: source.schema }) });
    }
    return compileCollection(config);
  });
}

function storeOf(ctx: CapabilityContext, model: CollectionModel): DocumentStore {
  const backend = ctx.stores.get(model.database);
  if (backend === undefined || !isDocumentStore(backend)) {
    throw new MiaRunError('MR_RUNTIME_START', `Collection "${model.name}" needs database "${model.database}", which is not a document store`);
  }
  return backend;
}

/** Creates the CRUD capability. Wires only: indexes are ensured in `start()`. */
export function createCrud(ctx: CapabilityContext, options: CrudOptions = {}): Capability {
  const models = compileCollections(ctx.config.collections);
  const validators = createValidators();
  const limits = options.limits ?? DEFAULT_LIMITS;
  const userIdHeader = ctx.config.server.userIdHeader.toLowerCase();
  const routes = new Map<string, FastifyPluginAsync>();
  const stores = new Map<string, DocumentStore>();
  const store = (model: CollectionModel): DocumentStore => {
    let found = stores.get(model.database);
    if (found === undefined) {
      found = storeOf(ctx, model);
      stores.set(model.database, found);
    }
    return found;
  };
  // One outbox per database holding collections with events; created lazily, started in start().
  const outboxes = new Map<string, Outbox>();
  const outboxOf = (model: CollectionModel): Outbox => {
    let outbox = outboxes.get(model.database);
    if (outbox === undefined) {
      outbox = createOutbox({ store: store(model), bus: eventBus(ctx), clock: ctx.clock, logger: ctx.logger.child({ outbox: model.database }), ...(options.outboxPollMs === undefined ? {} : { pollMs: options.outboxPollMs }) });
      outboxes.set(model.database, outbox);
    }
    return outbox;
  };
  for (const model of models) {
    const config = model.config;
    const collectionName = isView(config) ? config.source : model.name;
    // One handle per collection, made on first use (stores build per-handle query state).
    let handle: Collection | undefined;
    const collection = (): Collection => (handle ??= store(model).collection(collectionName));
    let writerCache: Writer | undefined;
    // Resolved on first use: stores may only be looked up once the runtime built them.
    const writer: Writer = {
      get events() {
        return model.topic !== undefined;
      },
      run: (fn) => {
        writerCache ??= model.topic === undefined ? directWriter(collection) : outboxWriter(outboxOf(model), collectionName, model.topic, createSerializer(model));
        return writerCache.run(fn);
      },
    };
    const services: CollectionServices = { model, collection, clock: ctx.clock, userIdHeader, limits, writer };
    routes.set(model.name, collectionPlugin(services, validators));
  }
  routes.set('/-/schemas', schemasPlugin(models));
  return {
    name: 'crud',
    routes,
    async start() {
      for (const model of models) {
        if (model.isView) continue;
        await ensureIndexes(store(model).collection(model.name), model, ctx.logger);
        if (model.topic !== undefined) outboxOf(model);
      }
      for (const outbox of outboxes.values()) await outbox.start();
    },
    async stop() {
      for (const outbox of outboxes.values()) await outbox.stop();
    },
    async health(): Promise<HealthCheck> {
      const databases = [...new Set(models.map((m) => m.database))];
      for (const name of databases) {
        const backend = ctx.stores.get(name);
        const check = backend === undefined ? { name, status: 'KO' as const, message: `database ${name} is not configured` } : await backend.health();
        if (check.status === 'KO') return { name: 'crud', status: 'KO', message: `database ${name}: ${check.message ?? 'unhealthy'}` };
      }
      for (const [name, outbox] of outboxes) {
        const check = await outbox.health();
        if (check.status === 'KO') return { name: 'crud', status: 'KO', message: `outbox of ${name}: ${check.message ?? 'unhealthy'}` };
      }
      return { name: 'crud', status: 'OK' };
    },
  };
}
