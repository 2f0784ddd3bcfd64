/**
 * Runs the sagas capability for a test: a store and a bus (the in-memory doubles, or the embedded adapters),
 * a manual clock for saga time, and a Fastify app with each saga's routes mounted under `/<saga name>` and
 * `/-/sagas` at the root, as the gateway and runtime do. `restart()` builds a new capability on the same
 * backends (what survives is what was stored).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createEmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { createEmbeddedDocumentStore } from '../../src/adapters/store-embedded/index.js';
import { createMongoDocumentStore } from '../../src/adapters/store-mongodb/index.js';
import type { PoliciesConfig, TopicConfig } from '../../src/config/types.js';
import type { SagaConfig } from '../../src/config/sections/sagas.js';
import { installErrorMapper } from '../../src/http/error-mapper.js';
import { ROLES, type CapabilityContext } from '../../src/ports/capability-context.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DocumentStore } from '../../src/ports/document-store.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import type { Capability } from '../../src/ports/lifecycle.js';
import { silentLogger } from '../../src/ports/logger.js';
import { ManualClock } from '../../src/ports/manual-clock.js';
import { createSagas } from '../../src/saga/index.js';
import { memoryBus } from './saga-memory-bus.js';
import { memoryStore } from './saga-memory-store.js';
import { projectConfig } from './project-config.js';

export interface SagaHarnessOptions {
  readonly sagas: Readonly<Record<string, SagaConfig>>;
  readonly topics?: Readonly<Record<string, Partial<TopicConfig>>>;
  readonly policies?: Partial<PoliciesConfig>;
  /** `memory` (default): the in-memory doubles; `embedded`: the lmdb bus in a temporary directory. */
  readonly bus?: 'memory' | 'embedded';
  /**
   * A store to share (a second process on the same data), `embedded` for the lmdb store in a temporary
   * directory, or `mongodb` for a fresh database on the server at MONGODB_URL; default the in-memory double.
   */
  readonly store?: DocumentStore | 'memory' | 'embedded' | 'mongodb';
  readonly clock?: ManualClock;
}

export interface SagaHarness {
  readonly app: FastifyInstance;
  readonly capability: Capability;
  readonly store: DocumentStore;
  readonly bus: EventBus;
  readonly clock: ManualClock;
  /** Stops the capability and app and starts new ones on the same backends and clock. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Polls `check` until it returns a truthy value (bounded; no sleeps in assertions). */
export async function waitFor<T>(check: () => T | Promise<T>, what = 'condition', attempts = 400): Promise<NonNullable<T>> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    await new Promise((resolve) => setImmediate(resolve));
    if (i > 50) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startSagaHarness(options: SagaHarnessOptions): Promise<SagaHarness> {
  const topics: Record<string, TopicConfig> = {};
  for (const [name, t] of Object.entries(options.topics ?? {})) topics[name] = { partitions: 1, ...t };
  const config = projectConfig({
    sagas: options.sagas,
    bus: { kind: 'embedded', topics },
    policies: { timeouts: {}, retries: {}, circuitBreakers: {}, rateLimits: {}, bulkheads: {}, ...options.policies },
  });
  const clock = options.clock ?? new ManualClock();
  let dataDir: string | undefined;
  if (options.bus === 'embedded' || options.store === 'embedded') dataDir = await mkdtemp(join(tmpdir(), 'mia-run-saga-'));
  const ownStore = options.store === undefined || typeof options.store === 'string';
  const store =
    options.store === 'embedded' && dataDir !== undefined
      ? createEmbeddedDocumentStore('default', { kind: 'embedded' }, { dataDir, clock, logger: silentLogger })
      : options.store === 'mongodb'
        ? createMongoDocumentStore('default', { kind: 'mongodb', url: process.env.MONGODB_URL ?? '', database: `saga_test_${randomBytes(4).toString('hex')}`, connectTimeout: 10_000 }, { clock, logger: silentLogger })
        : typeof options.store === 'object'
          ? options.store
          : memoryStore();
  let bus: EventBus;
  if (options.bus === 'embedded' && dataDir !== undefined) {
    // The bus polls on real time; saga timers and back-off run on the manual clock.
    bus = createEmbeddedEventBus('bus', { kind: 'embedded', topics }, { dataDir, clock: systemClock, logger: silentLogger }, { pollMs: 5 });
  } else {
    bus = memoryBus();
  }
  if (ownStore) await store.start();
  await bus.start();
  await bus.ensureTopics(topics);

  const boot = async (): Promise<{ app: FastifyInstance; capability: Capability }> => {
    const ctx: CapabilityContext = {
      config,
      stores: new Map([['default', store]]),
      bus,
      logger: silentLogger,
      clock,
      dataDir: dataDir ?? tmpdir(),
      roles: ROLES,
      targets: { get: () => undefined, list: () => [] },
    };
    const capability = createSagas(ctx);
    const app = Fastify();
    installErrorMapper(app);
    for (const [key, plugin] of capability.routes) await app.register(plugin, { prefix: key === '/' ? '' : `/${key}` });
    await capability.start();
    await app.ready();
    return { app, capability };
  };

  let current = await boot();
  const harness: SagaHarness = {
    get app() {
      return current.app;
    },
    get capability() {
      return current.capability;
    },
    store,
    bus,
    clock,
    async restart() {
      await current.capability.stop();
      await current.app.close();
      current = await boot();
    },
    async close() {
      await current.capability.stop();
      await current.app.close();
      await bus.close();
      if (ownStore && options.store === 'mongodb') for (const name of await store.listCollections()) await store.collection(name).drop();
      if (ownStore) await store.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
