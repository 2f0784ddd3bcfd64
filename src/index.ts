/**
 * mia-run's public API (package export "."): load a descriptor, run it, and the error registry.
 *
 * @example
 * import { loadProject, createRuntime } from 'mia-run';
 * const { config, diagnostics } = await loadProject('project.yaml');
 * if (config) await createRuntime(config, { port: 0 }).start();
 */
export { loadProject } from './config/load-project.js';
export { createRuntime } from './runtime/create-runtime.js';
export type { Runtime, RuntimeOptions, RuntimeState, RuntimeStatus } from './runtime/create-runtime.js';
export { ROLES, parseRoles } from './runtime/roles.js';
export type { Role } from './runtime/roles.js';
export { MiaRunError, ERROR_CODES, isMiaRunError, isRetriable } from './errors.js';
export type { ErrorCode, ErrorCodeSpec, MiaRunErrorOptions } from './errors.js';
export type {
  BusConfig,
  DatabaseConfig,
  Diagnostic,
  LoadResult,
  PoliciesConfig,
  ProjectConfig,
  ServerConfig,
  Severity,
  SourcePosition,
  TopicConfig,
  UpstreamConfig,
} from './config/types.js';
export type { Backend, Capability, HealthCheck } from './ports/lifecycle.js';
export type { CapabilityContext, CapabilityFactory } from './ports/capability-context.js';
export type { Clock } from './ports/clock.js';
export type { Logger } from './ports/logger.js';
