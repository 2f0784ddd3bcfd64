/**
 * The typed, validated, frozen descriptor (`ProjectConfig`) that the config pipeline returns and every
 * capability reads. Shapes follow `schemas/project.schema.json`, the single source of truth; defaults are
 * applied by the normalize phase, so fields documented with a default are always present here.
 */
import type { ErrorCode } from '../errors.js';

export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** A place in a source file; lines and columns start at 1. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export type Severity = 'error' | 'warning';

/** One problem found while loading a descriptor. Printed as `file:line:col severity CODE path: message; hint`. */
export interface Diagnostic {
  readonly code: ErrorCode;
  readonly severity: Severity;
  readonly message: string;
  readonly hint?: string;
  /** Dotted path in the merged descriptor, e.g. `endpoints[2].target.collection` (empty for the root). */
  readonly path: string;
  /** Where the offending key or value is written; absent when no file position applies (e.g. `--role`). */
  readonly position?: SourcePosition;
}

export interface CodeHook {
  readonly module: string;
  readonly export?: string;
}

export interface ServerConfig {
  /** Default 8080. */
  readonly port: number;
  /** Default `0.0.0.0`. */
  readonly host: string;
  /** Optional second listener; requests on it carry `isbackoffice: true`. */
  readonly backofficePort?: number;
  /** Bytes; default 1 MiB. */
  readonly bodyLimit: number;
  /** Milliseconds allowed for in-flight requests to finish on shutdown; default 10000. */
  readonly shutdownGracePeriod: number;
  readonly trustIdentityHeaders: boolean;
  /** Default `miauserid`. */
  readonly userIdHeader: string;
  readonly cors?: { readonly origins: readonly string[]; readonly credentials?: boolean };
  /** `false` turns off `/documentation` and `/documentation/json`; default on. */
  readonly documentation?: boolean;
}

export interface EmbeddedDatabaseConfig {
  readonly kind: 'embedded';
  /** Absolute directory of this database (a relative `path` starts from the declaring file); default `<data-dir>/<name>`. */
  readonly path?: string;
}

export interface MongoDatabaseConfig {
  readonly kind: 'mongodb';
  readonly url: string;
  /** Database name on the server; default: the one in the URL, else the entry's name. */
  readonly database?: string;
  /** Milliseconds to wait for the server at startup; default 10000. */
  readonly connectTimeout: number;
}

export type DatabaseConfig = EmbeddedDatabaseConfig | MongoDatabaseConfig;

export interface TopicConfig {
  /** Default 1. */
  readonly partitions: number;
  /** Payload field used as the message key when a producer does not give one. */
  readonly key?: string;
  /** Milliseconds; absent = keep forever. */
  readonly retentionMs?: number;
  /** Bytes per partition; absent = unbounded. */
  readonly retentionBytes?: number;
}

export interface EmbeddedBusConfig {
  readonly kind: 'embedded';
  readonly path?: string;
  readonly topics: Readonly<Record<string, TopicConfig>>;
}

export interface KafkaBusConfig {
  readonly kind: 'kafka';
  readonly brokers: readonly string[];
  /** Default: the project name. */
  readonly clientId: string;
  readonly ssl?: boolean | Readonly<Record<string, unknown>>;
  readonly sasl?: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: string };
  readonly topics: Readonly<Record<string, TopicConfig>>;
}

export type BusConfig = EmbeddedBusConfig | KafkaBusConfig;

export interface RetryPolicy {
  readonly attempts: number;
  readonly backoff: 'exponential' | 'constant';
  /** Milliseconds. */
  readonly base: number;
  /** Milliseconds. */
  readonly max: number;
  readonly methods: readonly string[];
  /** Percentage of extra load retries may add (retry budget). */
  readonly budget: number;
  /** Milliseconds allowed for each attempt (inside the retry; the timeouts policy bounds all attempts). */
  readonly attemptTimeout?: number;
}

export interface CircuitBreakerPolicy {
  /** Percentage 0-100. */
  readonly failureRate: number;
  readonly minRequests: number;
  /** Milliseconds. */
  readonly window: number;
  /** Milliseconds. */
  readonly openFor: number;
  readonly halfOpenRequests: number;
  /** Milliseconds past which a call is slow (slow-call rate judged only when set). */
  readonly slowCallDuration?: number;
  /** Percentage 0-100 of slow calls in the window that opens the breaker. */
  readonly slowCallRate?: number;
}

export interface RateLimitPolicy {
  readonly requests: number;
  /** Milliseconds. */
  readonly per: number;
  readonly key: 'client' | 'user' | 'ip';
  /** A `databases` entry whose store keeps the counters, shared by every process (default: per process). */
  readonly store?: string;
}

export interface PoliciesConfig {
  /** Milliseconds per named timeout. */
  readonly timeouts: Readonly<Record<string, number>>;
  readonly retries: Readonly<Record<string, RetryPolicy>>;
  readonly circuitBreakers: Readonly<Record<string, CircuitBreakerPolicy>>;
  readonly rateLimits: Readonly<Record<string, RateLimitPolicy>>;
  readonly bulkheads: Readonly<Record<string, { readonly maxConcurrent: number }>>;
}

export interface UpstreamConfig {
  readonly url: string;
  /** Names from `policies` (any kind). */
  readonly policies: readonly string[];
  /** Send the caller's cookies and client key (default false). */
  readonly forwardCredentials?: boolean;
}

/** Sections owned by capabilities whose issues have not landed yet are kept as validated plain data. */
export type OpenSection = DeepReadonly<Record<string, unknown>>;

export interface ProjectConfig {
  readonly version: 1;
  readonly name: string;
  readonly server: ServerConfig;
  /** Always has at least `default` (embedded). */
  readonly databases: Readonly<Record<string, DatabaseConfig>>;
  readonly bus: BusConfig;
  readonly auth: import('./sections/gateway.js').AuthConfig;
  readonly policies: PoliciesConfig;
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  readonly endpoints: readonly import('./sections/gateway.js').EndpointDefinition[];
  readonly collections: readonly import('./sections/collections.js').CollectionConfig[];
  readonly sagas: Readonly<Record<string, import('./sections/sagas.js').SagaConfig>>;
  readonly fastData: import('./sections/fast-data.js').FastDataConfig;
  readonly aggregates: Readonly<Record<string, import('./sections/aggregates.js').AggregateConfig>>;
  /** Absolute path of the root descriptor file. */
  readonly sourceFile: string;
  /** Absolute paths of every file read (root first, then includes). */
  readonly files: readonly string[];
}

export interface LoadResult {
  readonly config?: ProjectConfig;
  readonly diagnostics: readonly Diagnostic[];
}
