import { createCrud } from '../crud/index.js';
import { createEventSourcing } from '../eventsourcing/index.js';
import { createGateway } from '../gateway/index.js';
import type { CapabilityFactory } from '../ports/capability-context.js';
import { createProjections } from '../projections/index.js';
import { createSagas } from '../saga/index.js';

/**
 * The capabilities a plain `mia-run run` starts, one factory each (filtered by `--role`). Adding a capability
 * is one import and one entry, e.g. `{ name: 'crud', role: 'crud', create: createCrud }`.
 */
export const builtinCapabilities: readonly CapabilityFactory[] = [
  { name: 'crud', role: 'crud', create: createCrud },
  { name: 'sagas', role: 'sagas', create: createSagas },
  { name: 'projections', role: 'projections', create: createProjections },
  { name: 'eventsourcing', role: 'aggregates', create: (ctx) => createEventSourcing(ctx) },
  { name: 'gateway', role: 'gateway', create: createGateway },
];
