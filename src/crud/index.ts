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
import { isDocumentStore, type DocumentStore } from '../ports/document-store.js';
import type { Capability, HealthCheck } from '../ports/lifecycle.js';
import { collectionPlugin } from './collection-plugin.js';
import { ensureIndexes } from './indexes.js';
import { compileCollection, type CollectionModel } from './model/collection-model.js';
import { DEFAULT_LIMITS, type ChangePublisher, type CollectionServices, type CrudLimits } from './routes/services.js';
import { schemasPlugin } from './routes/schemas-route.js';
import { createValidators } from './validators.js';

export interface CrudOptions {
  readonly limits?: CrudLimits;
  /** Publishes changes of collections with `events` (wired to the outbox by the factory when present). */
  readonly publisher?: (model: CollectionModel) => ChangePublisher | undefined;
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
  for (const model of models) {
    const config = model.config;
    const collectionName = isView(config) ? config.source : model.name;
    const publish = options.publisher?.(model);
    const services: CollectionServices = {
      model,
      collection: () => store(model).collection(collectionName),
      clock: ctx.clock,
      userIdHeader,
      limits,
      ...(publish === undefined ? {} : { publish }),
    };
    routes.set(model.name, collectionPlugin(services, validators));
  }
  routes.set('/-/schemas', schemasPlugin(models));
  return {
    name: 'crud',
    routes,
    async start() {
      for (const model of models) if (!model.isView) await ensureIndexes(store(model).collection(model.name), model, ctx.logger);
    },
    async stop() {},
    async health(): Promise<HealthCheck> {
      const databases = [...new Set(models.map((m) => m.database))];
      for (const name of databases) {
        const backend = ctx.stores.get(name);
        const check = backend === undefined ? { name, status: 'KO' as const, message: `database ${name} is not configured` } : await backend.health();
        if (check.status === 'KO') return { name: 'crud', status: 'KO', message: `database ${name}: ${check.message ?? 'unhealthy'}` };
      }
      return { name: 'crud', status: 'OK' };
    },
  };
}
