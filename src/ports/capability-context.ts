/**
 * What the runtime hands each capability factory (STYLE §2): its ports and config, never another capability.
 * Lives in ports because capabilities may not import the runtime.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ProjectConfig } from '../config/types.js';
import type { Clock } from './clock.js';
import type { Backend, Capability } from './lifecycle.js';
import type { Logger } from './logger.js';

/** Process roles (`--role`): each capability factory runs under one. */
export const ROLES = ['gateway', 'crud', 'sagas', 'projections', 'aggregates'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Routes the capabilities of this process publish, for the gateway to mount inside endpoint scopes.
 * Keys of `Capability.routes` that start with `/` are mounted by the runtime itself at that prefix; every
 * other key is a target name (a collection, saga, view, ...) reachable here as `get('crud', 'orders')`.
 */
export interface TargetDirectory {
  get(capability: string, target: string): FastifyPluginAsync | undefined;
  /** `capability/target` pairs, for diagnostics. */
  list(): readonly { readonly capability: string; readonly target: string }[];
}

export interface CapabilityContext {
  readonly config: ProjectConfig;
  /** One backend per `databases` entry, by name (the DocumentStore port extends Backend). */
  readonly stores: ReadonlyMap<string, Backend>;
  /** The project's event bus (the EventBus port extends Backend). */
  readonly bus: Backend;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Root data directory (`--data-dir`). */
  readonly dataDir: string;
  /** Roles running in this process. */
  readonly roles: readonly Role[];
  /** Filled once every capability is created: read it from `start()` or a route plugin, not in the factory body. */
  readonly targets: TargetDirectory;
}

/** One capability, as the runtime sees it before creating it. `create` wires only; I/O starts in `start()`. */
export interface CapabilityFactory {
  readonly name: string;
  readonly role: Role;
  create(ctx: CapabilityContext): Capability;
}
