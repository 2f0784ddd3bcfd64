/**
 * An event-sourcing app on the real embedded store and bus in a temp directory: the capability's routes
 * mounted at `/<aggregate>` like the gateway does (error mapper outside), for `app.inject` tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { EmbeddedEventBus } from '../../../src/adapters/bus-embedded/index.js';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import type { AggregateConfig } from '../../../src/config/sections/aggregates.js';
import { createEventSourcing } from '../../../src/eventsourcing/index.js';
import { installErrorMapper } from '../../../src/http/error-mapper.js';
import type { CapabilityContext } from '../../../src/ports/capability-context.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { DocumentStore } from '../../../src/ports/document-store.js';
import type { Capability } from '../../../src/ports/lifecycle.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { projectConfig } from '../../helpers/project-config.js';

export interface EsApp {
  readonly app: FastifyInstance;
  readonly es: Capability;
  readonly store: DocumentStore;
  readonly bus: EmbeddedEventBus;
  readonly ctx: CapabilityContext;
  readonly dir: string;
  /** Stops the app and capability; keeps the data unless `destroy` is true. */
  close(destroy?: boolean): Promise<void>;
}

export interface EsAppOptions {
  readonly topics?: readonly string[];
  /** Reuse a data directory (restart tests). */
  readonly dir?: string;
  /** Do not start the capability (only build it). */
  readonly noStart?: boolean;
  readonly sourceFile?: string;
  /** Replaces the bus the capability sees (e.g. one whose publish fails). */
  readonly wrapBus?: (bus: EmbeddedEventBus) => EmbeddedEventBus;
}

export async function esApp(aggregates: Record<string, AggregateConfig>, options: EsAppOptions = {}): Promise<EsApp> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'mia-run-es-')));
  const store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: join(dir, 'store') }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await store.start();
  const topics = Object.fromEntries((options.topics ?? []).map((t) => [t, { partitions: 2 }]));
  const bus = new EmbeddedEventBus('bus', { kind: 'embedded', topics }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await bus.start();
  const ctx: CapabilityContext = {
    config: projectConfig({ aggregates, bus: { kind: 'embedded', topics }, ...(options.sourceFile === undefined ? {} : { sourceFile: options.sourceFile }) }),
    stores: new Map([['default', store]]),
    bus: options.wrapBus === undefined ? bus : options.wrapBus(bus),
    logger: silentLogger,
    clock: systemClock,
    dataDir: dir,
    roles: ['aggregates'],
    targets: { get: () => undefined, list: () => [] },
  };
  const es = createEventSourcing(ctx, { outboxPollMs: 50 });
  if (options.noStart !== true) await es.start();
  const app = Fastify();
  installErrorMapper(app);
  for (const [target, plugin] of es.routes) await app.register(plugin, { prefix: `/${target}` });
  await app.ready();
  return {
    app, es, store, bus, ctx, dir,
    async close(destroy = true) {
      await app.close();
      await es.stop();
      await bus.close();
      await store.close();
      if (destroy) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value other than undefined (bounded; no sleeps). */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The bank account aggregate used across the suites. */
export const account: AggregateConfig = {
  events: {
    Opened: { schema: { type: 'object', required: ['owner'], properties: { owner: { type: 'string' } }, additionalProperties: false } },
    Deposited: { schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'number', exclusiveMinimum: 0 } } } },
    Withdrawn: { schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'number', exclusiveMinimum: 0 } } } },
  },
  state: {
    initial: { balance: 0, open: false },
    on: {
      Opened: [{ set: 'owner', from: 'owner' }, { set: 'open', value: true }],
      Deposited: [{ inc: 'balance', from: 'amount' }, { inc: 'operations' }],
      Withdrawn: [{ dec: 'balance', from: 'amount' }, { inc: 'operations' }],
    },
  },
  snapshotEvery: 5,
  publish: { topic: 'account-events' },
  readModels: [{ name: 'balances', initial: { balance: 0 }, on: { Opened: [{ set: 'owner', from: 'owner' }], Deposited: [{ inc: 'balance', from: 'amount' }], Withdrawn: [{ dec: 'balance', from: 'amount' }] } }],
};
