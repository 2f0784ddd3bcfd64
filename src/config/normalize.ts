/**
 * Phase 5: defaults and units. Turns the schema-valid descriptor into the `ProjectConfig` shape of
 * types.ts: durations in milliseconds, sizes in bytes, percentages as numbers, every documented default
 * present, a `default` embedded database and an embedded bus when none is declared. Keys this phase does
 * not convert are kept as validated (so a key added to the schema reaches its reader), and sections owned
 * by capabilities that normalize their own slice are passed through as plain data.
 */
import { dirname, resolve } from 'node:path';
import { diagnostic, formatPath } from './diagnostics.js';
import type { Path } from './locate.js';
import type {
  BusConfig,
  CircuitBreakerPolicy,
  DatabaseConfig,
  Diagnostic,
  PoliciesConfig,
  ProjectConfig,
  RateLimitPolicy,
  RetryPolicy,
  ServerConfig,
  SourcePosition,
  TopicConfig,
  UpstreamConfig,
} from './types.js';
import { parseDuration, parsePercentage, parseSize } from './units.js';

type Raw = Record<string, unknown>;

export interface NormalizeResult {
  /** Always built; a value that could not be read is 0 and has a diagnostic. */
  readonly config: ProjectConfig;
  readonly diagnostics: readonly Diagnostic[];
}

export interface NormalizeInput {
  readonly value: Raw;
  readonly sourceFile: string;
  readonly files: readonly string[];
  readonly position: (path: Path) => SourcePosition;
  /** Absolute path of the file that declares `path` (relative directories start from it). */
  readonly fileOf: (path: Path) => string;
}

const rec = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Applies defaults and converts units; a value that cannot be read is a diagnostic. Written defensively:
 * it also runs on descriptors that failed the schema, so that the rules can still look at them.
 */
export function normalize(input: NormalizeInput): NormalizeResult {
  const diagnostics: Diagnostic[] = [];
  const unit = (parse: (v: unknown) => number | undefined, what: string) => (value: unknown, fallback: number | string, path: Path): number => {
    const parsed = parse(value ?? fallback);
    if (parsed !== undefined) return parsed;
    diagnostics.push(diagnostic({ code: 'MR_CONFIG_INVALID_VALUE', path: formatPath(path), message: `${JSON.stringify(value)} is not ${what}`, position: input.position(path) }));
    return 0;
  };
  const directory = (value: unknown, path: Path): { path?: string } =>
    value === undefined ? {} : { path: resolve(dirname(input.fileOf(path)), String(value)) };
  const duration = unit(parseDuration, 'a duration');
  const size = unit(parseSize, 'a size');
  const percent = unit(parsePercentage, 'a percentage from 0 to 100');

  const raw = input.value;
  const name = String(raw.name);

  const s = rec(raw.server);
  const server: ServerConfig = {
    ...s,
    port: (s.port as number | undefined) ?? 8080,
    host: (s.host as string | undefined) ?? '0.0.0.0',
    ...(s.backofficePort === undefined ? {} : { backofficePort: s.backofficePort as number }),
    bodyLimit: size(s.bodyLimit, '1mb', ['server', 'bodyLimit']),
    shutdownGracePeriod: duration(s.shutdownGracePeriod, '10s', ['server', 'shutdownGracePeriod']),
    trustIdentityHeaders: (s.trustIdentityHeaders as boolean | undefined) ?? false,
    userIdHeader: (s.userIdHeader as string | undefined) ?? 'miauserid',
    ...(s.cors === undefined ? {} : { cors: { origins: list(rec(s.cors).origins).map(String), credentials: (rec(s.cors).credentials as boolean | undefined) ?? false } }),
  };

  const databases: Record<string, DatabaseConfig> = {};
  for (const [dbName, entry] of Object.entries(rec(raw.databases))) {
    const d = rec(entry);
    const path = ['databases', dbName];
    databases[dbName] =
      d.kind === 'mongodb'
        ? {
            ...d,
            kind: 'mongodb',
            url: String(d.url),
            ...(d.database === undefined ? {} : { database: String(d.database) }),
            connectTimeout: duration(d.connectTimeout, '10s', [...path, 'connectTimeout']),
          }
        : { ...d, kind: 'embedded', ...directory(d.path, [...path, 'path']) };
  }
  if (databases.default === undefined) databases.default = { kind: 'embedded' };

  const b = rec(raw.bus);
  const topics: Record<string, TopicConfig> = {};
  for (const [topic, entry] of Object.entries(rec(b.topics))) {
    const { retention: _retention, ...t } = rec(entry);
    const path = ['bus', 'topics', topic];
    topics[topic] = {
      ...t,
      partitions: (t.partitions as number | undefined) ?? 1,
      ...(t.key === undefined ? {} : { key: String(t.key) }),
      ...(_retention === undefined ? {} : { retentionMs: duration(_retention, 0, [...path, 'retention']) }),
      ...(t.retentionBytes === undefined ? {} : { retentionBytes: size(t.retentionBytes, 0, [...path, 'retentionBytes']) }),
    };
  }
  const bus: BusConfig =
    b.kind === 'kafka'
      ? {
          ...b,
          kind: 'kafka',
          brokers: list(b.brokers).map(String),
          clientId: (b.clientId as string | undefined) ?? name,
          ...(b.ssl === undefined ? {} : { ssl: b.ssl as boolean | Readonly<Record<string, unknown>> }),
          ...(b.sasl === undefined ? {} : { sasl: b.sasl as NonNullable<Extract<BusConfig, { kind: 'kafka' }>['sasl']> }),
          topics,
        }
      : { ...b, kind: 'embedded', ...directory(b.path, ['bus', 'path']), topics };

  const p = rec(raw.policies);
  const policies: PoliciesConfig = {
    timeouts: Object.fromEntries(Object.entries(rec(p.timeouts)).map(([k, v]) => [k, duration(v, 0, ['policies', 'timeouts', k])])),
    retries: Object.fromEntries(
      Object.entries(rec(p.retries)).map(([k, v]): [string, RetryPolicy] => {
        const r = rec(v);
        const path = ['policies', 'retries', k];
        return [k, {
          ...r,
          attempts: (r.attempts as number | undefined) ?? 3,
          backoff: (r.backoff as RetryPolicy['backoff'] | undefined) ?? 'exponential',
          base: duration(r.base, '100ms', [...path, 'base']),
          max: duration(r.max, '10s', [...path, 'max']),
          methods: r.methods === undefined ? ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] : list(r.methods).map(String),
          budget: percent(r.budget, '20%', [...path, 'budget']),
          ...(r.attemptTimeout === undefined ? {} : { attemptTimeout: duration(r.attemptTimeout, 0, [...path, 'attemptTimeout']) }),
        }];
      }),
    ),
    circuitBreakers: Object.fromEntries(
      Object.entries(rec(p.circuitBreakers)).map(([k, v]): [string, CircuitBreakerPolicy] => {
        const c = rec(v);
        const path = ['policies', 'circuitBreakers', k];
        return [k, {
          ...c,
          failureRate: percent(c.failureRate, '50%', [...path, 'failureRate']),
          minRequests: (c.minRequests as number | undefined) ?? 20,
          window: duration(c.window, '10s', [...path, 'window']),
          openFor: duration(c.openFor, '30s', [...path, 'openFor']),
          halfOpenRequests: (c.halfOpenRequests as number | undefined) ?? 1,
          ...(c.slowCallDuration === undefined
            ? {}
            : { slowCallDuration: duration(c.slowCallDuration, 0, [...path, 'slowCallDuration']), slowCallRate: percent(c.slowCallRate, '100%', [...path, 'slowCallRate']) }),
        }];
      }),
    ),
    rateLimits: Object.fromEntries(
      Object.entries(rec(p.rateLimits)).map(([k, v]): [string, RateLimitPolicy] => {
        const r = rec(v);
        return [k, { ...r, requests: r.requests as number, per: duration(r.per, 0, ['policies', 'rateLimits', k, 'per']), key: (r.key as RateLimitPolicy['key'] | undefined) ?? 'client' }];
      }),
    ),
    bulkheads: Object.fromEntries(Object.entries(rec(p.bulkheads)).map(([k, v]) => [k, { ...rec(v), maxConcurrent: rec(v).maxConcurrent as number }])),
  };

  const upstreams: Record<string, UpstreamConfig> = {};
  for (const [upName, entry] of Object.entries(rec(raw.upstreams))) {
    const u = rec(entry);
    upstreams[upName] = { ...u, url: String(u.url), policies: list(u.policies).map(String) };
  }

  const config: ProjectConfig = {
    version: 1,
    name,
    server,
    databases,
    bus,
    // Capability sections: validated by the schema, normalized by their own capability's rules and types.
    auth: rec(raw.auth) as unknown as ProjectConfig['auth'],
    policies,
    upstreams,
    endpoints: list(raw.endpoints) as unknown as ProjectConfig['endpoints'],
    collections: list(raw.collections) as unknown as ProjectConfig['collections'],
    sagas: rec(raw.sagas) as unknown as ProjectConfig['sagas'],
    fastData: rec(raw.fastData) as unknown as ProjectConfig['fastData'],
    aggregates: rec(raw.aggregates) as unknown as ProjectConfig['aggregates'],
    sourceFile: input.sourceFile,
    files: input.files,
  };
  return { config, diagnostics };
}
