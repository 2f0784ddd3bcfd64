/**
 * Opens only the project's event bus, the way the runtime builds it (same registry, same data directory,
 * same descriptor slice), for tools that need the bus and nothing else: the `mia-run topics` commands and
 * tests. Works next to a running server on the same project: the embedded bus shares its data directory
 * between processes, Kafka is a cluster anyway.
 */
import { resolve } from 'node:path';
import type { ProjectConfig } from '../config/types.js';
import { MiaRunError } from '../errors.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { EventBus } from '../ports/event-bus.js';
import type { Backend } from '../ports/lifecycle.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import { busKind, createBackendRegistry, type BackendFactories } from './registry.js';

export interface OpenBusOptions {
  /** Root data directory (as `mia-run run --data-dir`); default `.data` under `cwd`. */
  readonly dataDir?: string;
  /** Base of a relative `dataDir`; default `process.cwd()`. */
  readonly cwd?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Backend adapters by kind; default the built-in registry. */
  readonly backends?: BackendFactories;
}

const BUS_METHODS = ['ensureTopics', 'describeTopics', 'publish', 'subscribe', 'lag', 'resetOffsets'] as const;

function isEventBus(backend: Backend): backend is EventBus {
  const record = backend as unknown as Record<string, unknown>;
  return BUS_METHODS.every((m) => typeof record[m] === 'function');
}

/**
 * Builds and starts the bus of `config` (declared topics are created if missing). The caller closes it.
 *
 * @example
 * const bus = await openBus(config, { dataDir: '.data' });
 * try { await bus.publish('orders', [{ key: 'o-1', value: { id: 'o-1' } }]); } finally { await bus.close(); }
 */
export async function openBus(config: ProjectConfig, options: OpenBusOptions = {}): Promise<EventBus> {
  const registry = createBackendRegistry(options.backends);
  const dataDir = resolve(options.cwd ?? process.cwd(), options.dataDir ?? '.data');
  const logger = options.logger ?? silentLogger;
  const backend = registry.create(busKind(config.bus), 'bus', config.bus as never, {
    dataDir,
    logger: logger.child({ backend: 'bus' }),
    clock: options.clock ?? systemClock,
    projectName: config.name,
  });
  if (!isEventBus(backend)) {
    throw new MiaRunError('MR_RUNTIME_START', `The backend registered for "${backend.kind}" is not an event bus`, { details: { kind: backend.kind } });
  }
  await backend.start();
  return backend;
}

/** Adapters that can enumerate consumer groups offer this (Kafka does); it is not part of the port. */
interface GroupListing {
  listGroups(): Promise<readonly string[]>;
}

/** Consumer groups known to `bus`, sorted; `undefined` when the adapter cannot enumerate them. */
export async function listGroups(bus: EventBus): Promise<readonly string[] | undefined> {
  const candidate = bus as EventBus & Partial<GroupListing>;
  if (typeof candidate.listGroups !== 'function') return undefined;
  return [...(await candidate.listGroups())].sort();
}
