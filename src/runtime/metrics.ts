/**
 * `/-/metrics`: Prometheus text from a registry owned by this runtime (never prom-client's global one, so
 * several runtimes in one process do not collide). Holds the default process metrics, the HTTP request
 * duration histogram, and whatever capabilities and adapters publish on their `mia-run:<source>:metric`
 * diagnostics channels (see `src/ports/telemetry.ts` for the convention).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../ports/logger.js';
import { createRequestHistogram } from './request-histogram.js';
import { TELEMETRY_SOURCES, metricChannel, type MetricSample, type TelemetrySource } from '../ports/telemetry.js';

type Metric = Counter | Gauge | Histogram;

export interface RuntimeMetrics {
  readonly registry: Registry;
  /** Adds the `GET /-/metrics` route. */
  install(app: FastifyInstance): void;
  /** Records one answered request in the duration histogram (the HTTP server's `observe` option). */
  observeRequest(route: string | undefined, method: string, statusCode: number, elapsedMs: number): void;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** Unsubscribes from the diagnostics channels. */
  close(): void;
}

/** Route label for requests that matched no route: one series, however many distinct URLs are probed. */
const UNMATCHED = '<unmatched>';

export function createRuntimeMetrics(options: { logger: Logger; sources?: readonly TelemetrySource[] }): RuntimeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = createRequestHistogram({
    name: 'mia_run_http_request_duration_seconds',
    help: 'Duration of HTTP requests, by route, method and status code',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  });

  const dynamic = new Map<string, Metric>();
  const rejected = new Set<string>();
  const metricFor = (source: TelemetrySource, sample: MetricSample): Metric => {
    const base = `mia_run_${source}_${sample.name}`;
    const name = sample.kind === 'counter' && !base.endsWith('_total') ? `${base}_total` : base;
    const existing = dynamic.get(name);
    if (existing) return existing;
    const common = { name, help: sample.help, labelNames: Object.keys(sample.labels), registers: [registry] };
    const metric =
      sample.kind === 'counter'
        ? new Counter(common)
        : sample.kind === 'gauge'
          ? new Gauge(common)
          : new Histogram(sample.buckets === undefined ? common : { ...common, buckets: [...sample.buckets] });
    dynamic.set(name, metric);
    return metric;
  };

  const record = (source: TelemetrySource, sample: MetricSample): void => {
    try {
      const metric = metricFor(source, sample);
      if (metric instanceof Counter) metric.inc(sample.labels, sample.value);
      else if (metric instanceof Gauge) metric.set(sample.labels, sample.value);
      else metric.observe(sample.labels, sample.value);
    } catch (err) {
      // A malformed sample (bad name, changed label set) must never break the publisher; warn once per name.
      const key = `${source}:${sample.name}`;
      if (!rejected.has(key)) {
        rejected.add(key);
        options.logger.warn({ err, source, metric: sample.name }, 'metric sample rejected');
      }
    }
  };

  const subscriptions = (options.sources ?? TELEMETRY_SOURCES).map((source) => {
    const name = metricChannel(source);
    const listener = (message: unknown): void => record(source, message as MetricSample);
    diagnosticsChannel.subscribe(name, listener);
    return () => diagnosticsChannel.unsubscribe(name, listener);
  });

  return {
    registry,
    observeRequest(route, method, statusCode, elapsedMs) {
      httpDuration.observe(route ?? UNMATCHED, method, statusCode, elapsedMs / 1000);
    },
    install(app) {
      app.get('/-/metrics', async (_request, reply) => {
        reply.type(registry.contentType);
        return registry.metrics();
      });
    },
    render: () => registry.metrics(),
    close() {
      for (const unsubscribe of subscriptions) unsubscribe();
    },
  };
}
