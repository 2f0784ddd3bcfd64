import type { FastifyPluginAsync } from 'fastify';

/** One line of `/-/ready` and `/-/check-up`: a backend or capability and whether it works. */
export interface HealthCheck {
  readonly name: string;
  readonly status: 'OK' | 'KO';
  readonly message?: string;
}

/**
 * What every backend adapter (store, bus) offers the runtime: declared features, start, readiness, close.
 * Adapters do no I/O before `start()`.
 */
export interface Backend {
  /** Registry kind, e.g. `store.embedded`, `bus.kafka`. */
  readonly kind: string;
  /** Name from the descriptor (`databases.<name>`, or `bus`). */
  readonly name: string;
  readonly features: ReadonlySet<string>;
  start(): Promise<void>;
  health(): Promise<HealthCheck>;
  /** Flushes and releases resources; idempotent. */
  close(): Promise<void>;
}

/**
 * What a capability factory returns (STYLE §2): routes to mount behind gateway endpoints, and a lifecycle.
 * `routes` maps a target name (a collection, saga, view, ...) to an encapsulated Fastify plugin that the
 * gateway registers under the endpoint's base path.
 */
export interface Capability {
  readonly name: string;
  readonly routes: ReadonlyMap<string, FastifyPluginAsync>;
  start(): Promise<void>;
  /** Stops consuming and drains in-flight work; idempotent. */
  stop(): Promise<void>;
  health(): Promise<HealthCheck>;
}
