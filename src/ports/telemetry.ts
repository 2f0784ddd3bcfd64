/**
 * How capabilities and adapters feed metrics without importing a metrics library (STYLE §11).
 *
 * Convention: every channel is named `mia-run:<source>:<event>` on `node:diagnostics_channel`.
 * Metrics travel on `mia-run:<source>:metric`, where `<source>` is one of `TELEMETRY_SOURCES`; the runtime
 * (`src/runtime/metrics.ts`) subscribes to each and exposes the samples on `/-/metrics` as
 * `mia_run_<source>_<name>` (counters also get the `_total` suffix). Other events (traces, audit) may use
 * other `<event>` names on the same scheme. Publishing costs nothing when nobody subscribes.
 *
 * @example
 * const metrics = createMetricEmitter('crud');
 * metrics.count('documents_written', 'Documents written, by collection', { collection: 'orders' });
 * metrics.observe('query_seconds', 'Query duration', 0.012, { collection: 'orders' });
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** Who may publish metrics; add a name here when a new capability or adapter family needs one. */
export const TELEMETRY_SOURCES = ['runtime', 'gateway', 'crud', 'saga', 'projections', 'eventsourcing', 'store', 'bus', 'outbox', 'fd'] as const;
export type TelemetrySource = (typeof TELEMETRY_SOURCES)[number];

export type MetricLabels = Readonly<Record<string, string>>;

/** One metric sample as published on a `mia-run:<source>:metric` channel. */
export type MetricSample =
  | { readonly kind: 'counter'; readonly name: string; readonly help: string; readonly value: number; readonly labels: MetricLabels }
  | { readonly kind: 'gauge'; readonly name: string; readonly help: string; readonly value: number; readonly labels: MetricLabels }
  | { readonly kind: 'histogram'; readonly name: string; readonly help: string; readonly value: number; readonly labels: MetricLabels; readonly buckets?: readonly number[] };

/** `mia-run:<source>:<event>`: the one naming scheme of mia-run diagnostics channels. */
export function telemetryChannel(source: TelemetrySource, event: string): string {
  return `mia-run:${source}:${event}`;
}

/** The channel carrying `MetricSample`s of one source. */
export function metricChannel(source: TelemetrySource): string {
  return telemetryChannel(source, 'metric');
}

export interface MetricEmitter {
  /** Adds `value` (default 1) to a counter. Names are snake_case without the `mia_run_<source>_` prefix. */
  count(name: string, help: string, labels?: MetricLabels, value?: number): void;
  /** Sets a gauge. */
  gauge(name: string, help: string, value: number, labels?: MetricLabels): void;
  /** Records one observation in a histogram (seconds for durations, by Prometheus convention). */
  observe(name: string, help: string, value: number, labels?: MetricLabels, buckets?: readonly number[]): void;
}

/** A typed publisher for one source's metric channel. */
export function createMetricEmitter(source: TelemetrySource): MetricEmitter {
  const channel = diagnosticsChannel.channel(metricChannel(source));
  const publish = (sample: MetricSample): void => {
    if (channel.hasSubscribers) channel.publish(sample);
  };
  return {
    count: (name, help, labels = {}, value = 1) => publish({ kind: 'counter', name, help, value, labels }),
    gauge: (name, help, value, labels = {}) => publish({ kind: 'gauge', name, help, value, labels }),
    observe: (name, help, value, labels = {}, buckets) =>
      publish(buckets === undefined ? { kind: 'histogram', name, help, value, labels } : { kind: 'histogram', name, help, value, labels, buckets }),
  };
}
