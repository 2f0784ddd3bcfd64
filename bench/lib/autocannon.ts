/** autocannon (CommonJS, untyped here) with the part of its result the HTTP benchmarks read. */
import { createRequire } from 'node:module';

export interface LoadResult {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
}

export type Autocannon = (options: Record<string, unknown>) => Promise<LoadResult>;

export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
