import type { ProjectConfig, ServerConfig } from '../../src/config/types.js';

export interface ProjectConfigOverrides extends Partial<Omit<ProjectConfig, 'server'>> {
  readonly server?: Partial<ServerConfig>;
}

/**
 * A complete ProjectConfig with the loader's defaults (one embedded `default` database, the embedded bus,
 * empty capability sections), for tests that build a runtime without a descriptor file.
 */
export function projectConfig(overrides: ProjectConfigOverrides = {}): ProjectConfig {
  const { server, ...rest } = overrides;
  return {
    version: 1,
    name: 'test-project',
    databases: { default: { kind: 'embedded' } },
    bus: { kind: 'embedded', topics: {} },
    auth: {},
    policies: { timeouts: {}, retries: {}, circuitBreakers: {}, rateLimits: {}, bulkheads: {} },
    upstreams: {},
    endpoints: [],
    collections: [],
    sagas: {},
    fastData: {},
    aggregates: {},
    sourceFile: '/virtual/project.yaml',
    files: ['/virtual/project.yaml'],
    ...rest,
    server: {
      port: 0,
      host: '127.0.0.1',
      bodyLimit: 1024 * 1024,
      shutdownGracePeriod: 10_000,
      trustIdentityHeaders: false,
      userIdHeader: 'miauserid',
      ...server,
    },
  };
}
