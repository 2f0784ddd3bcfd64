/**
 * The HTTP request duration histogram (`mia_run_http_request_duration_seconds{route,method,status_code}`),
 * recorded without prom-client's per-observation label validation and hashing: series are found through
 * nested maps (route, method, status) and buckets are plain counters. It registers in a prom-client
 * registry as a metric of its own, so `/-/metrics` prints it exactly as a prom-client Histogram would.
 */
import type { Registry } from 'prom-client';

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

interface Value {
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}

export interface RequestHistogram {
  /** Records one request; `seconds` is its duration. */
  observe(route: string, method: string, statusCode: number, seconds: number): void;
}

export function createRequestHistogram(options: { name: string; help: string; buckets: readonly number[]; registry: Registry }): RequestHistogram {
  const { name, help, buckets } = options;
  const series = new Map<string, Map<string, Map<number, Series>>>();
  const all: Series[] = [];

  const create = (route: string, method: string, statusCode: number): Series => {
    const created: Series = { labels: { route, method, status_code: String(statusCode) }, counts: new Array<number>(buckets.length + 1).fill(0), sum: 0, count: 0 };
    all.push(created);
    return created;
  };

  const metric = {
    name,
    help,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    // What prom-client's registry reads from a metric: the same value list a Histogram produces.
    get: async () => {
      const values: Value[] = [];
      for (const s of all) {
        let cumulative = 0;
        buckets.forEach((le, i) => {
          cumulative += s.counts[i]!;
          values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: `${name}_bucket` });
        });
        values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${name}_bucket` });
        values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum` });
        values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count` });
      }
      return { name, help, type: metric.type, values, aggregator: metric.aggregator };
    },
    reset: () => {
      series.clear();
      all.length = 0;
    },
  };
  // The registry accepts any object with prom-client's metric shape; its typings only name the built-in classes.
  options.registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);

  return {
    observe(route, method, statusCode, seconds) {
      let byMethod = series.get(route);
      if (byMethod === undefined) series.set(route, (byMethod = new Map()));
      let byStatus = byMethod.get(method);
      if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
      let s = byStatus.get(statusCode);
      if (s === undefined) byStatus.set(statusCode, (s = create(route, method, statusCode)));
      let i = 0;
      while (i < buckets.length && seconds > buckets[i]!) i++;
      s.counts[i]!++;
      s.sum += seconds;
      s.count++;
    },
  };
}
