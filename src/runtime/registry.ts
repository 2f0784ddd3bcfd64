/**
 * The backend registry (STYLE §3): the ONLY module that imports adapters. Each adapter is registered under its
 * kind, `store.<databases.*.kind>` or `bus.<bus.kind>`; the runtime asks the registry for one backend per
 * `databases` entry and one for the bus.
 *
 * Adding an adapter is one import and one entry in `builtinBackends`:
 * @example
 * import { createEmbeddedDocumentStore } from '../adapters/store-embedded/index.js';
 * export const builtinBackends: BackendFactories = {
 *   'store.embedded': createEmbeddedDocumentStore,
 * };
 */
import { createEmbeddedEventBus } from '../adapters/bus-embedded/index.js';
import { createKafkaEventBus } from '../adapters/bus-kafka/index.js';
import { createEmbeddedDocumentStore } from '../adapters/store-embedded/index.js';
import { createMongoDocumentStore } from '../adapters/store-mongodb/index.js';
import type { BusConfig, DatabaseConfig, EmbeddedBusConfig, EmbeddedDatabaseConfig, KafkaBusConfig, MongoDatabaseConfig } from '../config/types.js';
import { MiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { Backend } from '../ports/lifecycle.js';
import type { Logger } from '../ports/logger.js';

/** The descriptor slice each kind receives. */
export interface BackendConfigs {
  'store.embedded': EmbeddedDatabaseConfig;
  'store.mongodb': MongoDatabaseConfig;
  'bus.embedded': EmbeddedBusConfig;
  'bus.kafka': KafkaBusConfig;
}

export type BackendKind = keyof BackendConfigs;

/** What every backend factory receives besides its name and config slice. */
export interface BackendContext {
  /** Root data directory (`--data-dir`); embedded backends default their files under it. */
  readonly dataDir: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Project name (default Kafka client id, database name fallbacks). */
  readonly projectName: string;
}

/** Builds a backend without doing I/O; I/O starts in `Backend.start()`. */
export type BackendFactory<K extends BackendKind> = (name: string, config: BackendConfigs[K], ctx: BackendContext) => Backend;

export type BackendFactories = { readonly [K in BackendKind]?: BackendFactory<K> };

/** Adapters shipped with mia-run: one import + one entry per adapter. */
export const builtinBackends: BackendFactories = {
  'store.embedded': createEmbeddedDocumentStore,
  'store.mongodb': createMongoDocumentStore,
  'bus.embedded': createEmbeddedEventBus,
  'bus.kafka': createKafkaEventBus,
};

export function storeKind(config: DatabaseConfig): BackendKind {
  return `store.${config.kind}`;
}

export function busKind(config: BusConfig): BackendKind {
  return `bus.${config.kind}`;
}

export interface BackendRegistry {
  has(kind: string): boolean;
  /** Registered kinds, sorted. */
  kinds(): readonly string[];
  /** Builds the backend of `kind`, or throws `MR_RUNTIME_START` when no adapter is registered for it. */
  create<K extends BackendKind>(kind: K, name: string, config: BackendConfigs[K], ctx: BackendContext): Backend;
}

export function createBackendRegistry(factories: BackendFactories = builtinBackends): BackendRegistry {
  const kinds = Object.keys(factories).filter((k) => factories[k as BackendKind] !== undefined).sort();
  return {
    has: (kind) => kinds.includes(kind),
    kinds: () => kinds,
    create(kind, name, config, ctx) {
      const factory = factories[kind] as BackendFactory<typeof kind> | undefined;
      if (factory === undefined) {
        throw new MiaRunError('MR_RUNTIME_START', `No adapter is registered for backend kind "${kind}" (needed by "${name}")`, {
          hint: kinds.length === 0 ? 'this build has no backend adapters registered' : `registered kinds: ${kinds.join(', ')}`,
          details: { kind, name },
        });
      }
      return factory(name, config, ctx);
    },
  };
}
