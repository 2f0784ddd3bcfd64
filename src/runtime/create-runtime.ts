/**
 * The composition root: backends through the registry, capabilities through their factories, then the single
 * HTTP listener (and the optional backoffice one). Starts in that order; stops in reverse with draining.
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ProjectConfig } from '../config/types.js';
import { MiaRunError } from '../errors.js';
import { createHttpServer } from '../http/server.js';
import type { CapabilityContext, CapabilityFactory, Role } from '../ports/capability-context.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Backend, Capability } from '../ports/lifecycle.js';
import type { Logger } from '../ports/logger.js';
import { builtinCapabilities } from './capabilities.js';
import { startInOrder, stopInReverse, type LifecycleStep } from './lifecycle.js';
import { backofficeMarker, openListeners, type OpenListeners } from './listeners.js';
import { createLogger } from './logger.js';
import { createRuntimeMetrics } from './metrics.js';
import { busKind, createBackendRegistry, storeKind, type BackendContext, type BackendFactories, type BackendKind } from './registry.js';
import { ROLES } from './roles.js';
import { installDocumentation } from './documentation/index.js';
import { installStatusRoutes, type HealthProbe } from './status-routes.js';
import { createTargetDirectory } from './targets.js';
import { VERSION } from './version.js';

export interface RuntimeOptions {
  /** Overrides `server.port`; 0 picks a free port. */
  readonly port?: number;
  /** Overrides `server.host`. */
  readonly host?: string;
  /** Overrides `server.backofficePort`. */
  readonly backofficePort?: number;
  /** Root directory of embedded data; default `.data` in the current directory. */
  readonly dataDir?: string;
  /** Capabilities to run in this process; default every role. */
  readonly roles?: readonly Role[];
  /** Default: pino JSON lines on stdout at `info`. */
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Capability factories (default: the built-in ones); those whose role is not selected are skipped. */
  readonly capabilities?: readonly CapabilityFactory[];
  /** Backend adapters by kind; default the built-in registry. */
  readonly backends?: BackendFactories;
}

export type RuntimeState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface RuntimeStatus {
  readonly state: RuntimeState;
  readonly url?: string;
  readonly backofficeUrl?: string;
  readonly roles: readonly Role[];
  readonly backends: readonly { readonly name: string; readonly kind: string }[];
  readonly capabilities: readonly string[];
}

export interface Runtime {
  /** Starts backends, capabilities, then the listeners; rejects with `MR_RUNTIME_START` after rolling back. */
  start(): Promise<{ url: string; backofficeUrl?: string }>;
  /** Stops accepting, drains in-flight requests (up to `server.shutdownGracePeriod`), stops capabilities, closes backends. Idempotent. */
  stop(reason?: string): Promise<void>;
  /** The Fastify instance (for `inject` in tests). */
  readonly server: FastifyInstance;
  status(): RuntimeStatus;
}

const backendStep = (backend: Backend): LifecycleStep => ({
  name: `${backend.kind} ${backend.name}`,
  start: () => backend.start(),
  stop: () => backend.close(),
});

/**
 * Builds a runtime for a loaded descriptor. Wiring only: no I/O until `start()`. Throws `MR_RUNTIME_START`
 * when a backend kind has no adapter.
 *
 * @example
 * const runtime = createRuntime(config, { port: 0 });
 * const { url } = await runtime.start();
 * await runtime.stop('done');
 */
export function createRuntime(config: ProjectConfig, options: RuntimeOptions = {}): Runtime {
  const logger: Logger = options.logger ?? createLogger();
  const clock = options.clock ?? systemClock;
  const dataDir = resolve(options.dataDir ?? '.data');
  const roles = options.roles ?? ROLES;
  const registry = createBackendRegistry(options.backends);
  const backendCtx: BackendContext = { dataDir, logger, clock, projectName: config.name };

  const stores = new Map<string, Backend>();
  for (const [name, db] of Object.entries(config.databases)) {
    stores.set(name, registry.create(storeKind(db), name, db as never, { ...backendCtx, logger: logger.child({ backend: name }) }));
  }
  const busKindName: BackendKind = busKind(config.bus);
  const bus = registry.create(busKindName, 'bus', config.bus as never, { ...backendCtx, logger: logger.child({ backend: 'bus' }) });
  const backends = [...stores.values(), bus];

  const targets = createTargetDirectory();
  const ctx: CapabilityContext = { config, stores, bus, logger, clock, dataDir, roles, targets };
  const capabilities: Capability[] = (options.capabilities ?? builtinCapabilities)
    .filter((factory) => roles.includes(factory.role))
    .map((factory) => factory.create({ ...ctx, logger: logger.child({ capability: factory.name }) }));
  for (const capability of capabilities) targets.add(capability);

  let state: RuntimeState = 'created';
  let listeners: OpenListeners | undefined;
  const metrics = createRuntimeMetrics({ logger });
  const app = createHttpServer({
    bodyLimit: config.server.bodyLimit,
    logger,
    isClosing: () => state === 'stopping' || state === 'stopped',
    onRequest: backofficeMarker(config.server.trustIdentityHeaders),
    observe: metrics.observeRequest,
  });
  // First, so that the OpenAPI document sees every route registered after it.
  installDocumentation(app, config, VERSION);
  metrics.install(app);
  const probes: HealthProbe[] = [
    ...backends.map((b) => ({ name: b === bus ? 'bus' : `store:${b.name}`, health: () => b.health() })),
    ...capabilities.map((c) => ({ name: c.name, health: () => c.health() })),
  ];
  installStatusRoutes(app, {
    name: config.name,
    version: VERSION,
    clock,
    lifecycle: () => (state === 'running' ? undefined : { name: 'runtime', status: 'KO', message: state }),
    probes: () => probes,
  });
  for (const capability of capabilities) {
    for (const [key, plugin] of capability.routes) if (key.startsWith('/')) void app.register(plugin, { prefix: key === '/' ? '' : key });
  }

  const parts: LifecycleStep[] = [
    ...backends.map(backendStep),
    ...capabilities.map((c): LifecycleStep => ({ name: `capability ${c.name}`, start: () => c.start(), stop: () => c.stop() })),
  ];

  let stopping: Promise<void> | undefined;
  const runtime: Runtime = {
    server: app,
    async start() {
      if (state !== 'created') throw new Error(`runtime cannot start from state "${state}"`);
      state = 'starting';
      try {
        await startInOrder(parts, logger);
      } catch (err) {
        state = 'failed';
        metrics.close();
        throw err;
      }
      try {
        listeners = await openListeners(app, {
          host: options.host ?? config.server.host,
          port: options.port ?? config.server.port,
          backofficePort: options.backofficePort ?? config.server.backofficePort,
          clock,
          logger,
        });
      } catch (err) {
        state = 'failed';
        await stopInReverse(parts, logger);
        metrics.close();
        const reason = err instanceof Error ? err.message : String(err);
        throw new MiaRunError('MR_RUNTIME_START', `cannot listen: ${reason}`, { cause: err, hint: 'is another process using the port? try --port' });
      }
      state = 'running';
      return listeners.backofficeUrl === undefined ? { url: listeners.url } : { url: listeners.url, backofficeUrl: listeners.backofficeUrl };
    },
    stop(reason = 'stop requested') {
      stopping ??= (async () => {
        const was = state;
        state = 'stopping';
        logger.info({ reason }, 'stopping');
        if (listeners !== undefined) {
          const { forced } = await listeners.close(config.server.shutdownGracePeriod);
          if (forced) logger.warn('some requests were cut at the end of the grace period');
        } else {
          await app.close();
        }
        if (was === 'running' || was === 'starting') await stopInReverse(parts, logger);
        else if (was === 'created') await stopInReverse(backends.map(backendStep), logger);
        metrics.close();
        state = 'stopped';
        logger.info({ reason }, 'stopped');
      })();
      return stopping;
    },
    status: () => ({
      state,
      ...(listeners === undefined ? {} : { url: listeners.url }),
      ...(listeners?.backofficeUrl === undefined ? {} : { backofficeUrl: listeners.backofficeUrl }),
      roles,
      backends: backends.map((b) => ({ name: b.name, kind: b.kind })),
      capabilities: capabilities.map((c) => c.name),
    }),
  };
  return runtime;
}
