import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { InProcessKind, TargetRef } from '../../config/sections/gateway.js';
import { IN_PROCESS_KINDS } from '../../config/sections/gateway.js';
import { MiaRunError } from '../../errors.js';
import type { TargetDirectory } from '../../ports/capability-context.js';

/** Capabilities that may publish each kind of target, in the order they are looked up. */
const PROVIDERS: Readonly<Record<InProcessKind, readonly string[]>> = {
  collection: ['crud'],
  view: ['projections', 'crud'],
  projection: ['projections'],
  saga: ['saga', 'sagas'],
  aggregate: ['eventsourcing', 'aggregates'],
};

/** The kind and name a target reference names (exactly one key is set; the schema and rules check it). */
export function targetOf(ref: TargetRef): { kind: InProcessKind | 'upstream'; name: string } | undefined {
  if (ref.upstream !== undefined) return { kind: 'upstream', name: ref.upstream };
  for (const kind of IN_PROCESS_KINDS) {
    const name = ref[kind];
    if (name !== undefined) return { kind, name };
  }
  return undefined;
}

/** The plugin a capability of this process publishes for an in-process target, if any. */
export function findTarget(targets: TargetDirectory, kind: InProcessKind, name: string): FastifyPluginAsync | undefined {
  for (const capability of PROVIDERS[kind]) {
    const plugin = targets.get(capability, name);
    if (plugin !== undefined) return plugin;
  }
  return undefined;
}

/** The error answered for a target no capability of this process serves. */
export function notServedError(kind: InProcessKind, name: string): MiaRunError {
  return new MiaRunError('MR_RUNTIME_NOT_READY', `${kind} "${name}" is not served by this process`, {
    hint: `no ${PROVIDERS[kind].join('/')} capability here publishes "${name}"; check --role`,
    details: { kind, target: name },
  });
}

/**
 * Answers 503 MR_RUNTIME_NOT_READY for everything under the endpoint: the descriptor names a target
 * that no capability of this process publishes (its role is not running here, or it is not built yet).
 * The gateway still starts, so the other endpoints work; a warning is logged at start-up.
 */
export function mountNotServed(scope: FastifyInstance, kind: InProcessKind, name: string): void {
  const error = notServedError(kind, name);
  const handler = async (): Promise<never> => {
    throw error;
  };
  scope.all('/', handler);
  scope.all('/*', handler);
}
