// Cost of the change events between stages (fast-data.md §4), embedded bus and store, one process: the
// same Debezium ingestion (2 projections of 6 fields with casts, 6 partitions, c then u) run three times in
// this process: without pr-update (the baseline), with pr-update v2 on both projections, with pr-update v1
// (one extra read per change for `documentId`). Reports messages/s, pr-updates produced and the ratios.
// Usage: node --import tsx bench/fastdata-topics.ts [--messages 20000]
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEmbeddedEventBus } from '../src/adapters/bus-embedded/index.js';
import { createEmbeddedDocumentStore } from '../src/adapters/store-embedded/index.js';
import type { FastDataConfig } from '../src/config/sections/fast-data.js';
import { ROLES } from '../src/ports/capability-context.js';
import { systemClock } from '../src/ports/clock.js';
import type { EventBus, OutgoingMessage } from '../src/ports/event-bus.js';
import { silentLogger } from '../src/ports/logger.js';
import { metricChannel, type MetricSample } from '../src/ports/telemetry.js';
import { createProjections } from '../src/projections/index.js';
import { projectConfig } from '../test/helpers/project-config.js';
import { numberArg } from './lib/args.js';

const MESSAGES = numberArg('messages', 20000);
const PARTITIONS = 6;

const field = (name: string, source: string, cast?: string) => ({ name, source, ...(cast ? { cast } : {}) });
const fastData = (version: 'v1' | 'v2' | undefined): FastDataConfig => ({
  systemsOfRecord: {
    erp: {
      format: 'debezium',
      projections: {
        customers: {
          topic: 'customers',
          primaryKey: ['id'],
          fields: [field('id', 'ID', 'toInteger'), field('name', 'NAME', 'toString'), field('score', 'SCORE', 'toNumber'), field('vip', 'VIP', 'toBoolean'), field('since', 'SINCE', 'toDate'), field('note', 'NOTE')],
          ...(version === undefined ? {} : { publish: { topic: 'customers.pr-update', version } }),
        },
        orders: {
          topic: 'orders',
          primaryKey: ['id'],
          fields: [field('id', 'ID', 'toInteger'), field('customerId', 'CUSTOMER_ID', 'toInteger'), field('total', 'TOTAL', 'toNumber'), field('status', 'STATUS', 'toString'), field('at', 'AT', 'unixTimestampToISOString'), field('note', 'NOTE')],
          ...(version === undefined ? {} : { publish: { topic: 'orders.pr-update', version } }),
        },
      },
    },
  },
});

const customer = (id: number, op: string): OutgoingMessage => ({ key: JSON.stringify({ ID: id }), value: { op, before: null, after: { ID: id, NAME: `c${id}`, SCORE: String(id % 100), VIP: id % 2 === 0 ? 'true' : 'false', SINCE: 1695141357284, NOTE: 'x' }, source: {} } });
const order = (id: number, customerId: number, op: string): OutgoingMessage => ({ key: JSON.stringify({ ID: id }), value: { op, before: null, after: { ID: id, CUSTOMER_ID: customerId, TOTAL: String(id % 1000), STATUS: 'open', AT: 1695141357284, NOTE: 'y' }, source: {} } });

async function drained(bus: EventBus, group: string, topics: readonly string[]): Promise<void> {
  for (;;) {
    const lag = await bus.lag(group, topics);
    if (lag.length >= topics.length * PARTITIONS && lag.every((p) => p.lag === 0)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(version: 'v1' | 'v2' | undefined, messages: Record<string, OutgoingMessage[]>): Promise<{ seconds: number; events: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-bench-fd-topics-'));
  const deps = { dataDir: dir, clock: systemClock, logger: silentLogger };
  const topics = Object.keys(messages);
  const all = [...topics, 'customers.pr-update', 'orders.pr-update'];
  const config = projectConfig({ name: 'bench', bus: { kind: 'embedded', topics: Object.fromEntries(all.map((t) => [t, { partitions: PARTITIONS }])) }, fastData: fastData(version) });
  const store = createEmbeddedDocumentStore('default', { kind: 'embedded' }, deps);
  const bus = createEmbeddedEventBus('bus', config.bus as never, deps, { pollMs: 5 });
  await store.start();
  await bus.start();
  await bus.ensureTopics(config.bus.topics);
  for (const [topic, list] of Object.entries(messages)) for (let i = 0; i < list.length; i += 1000) await bus.publish(topic, list.slice(i, i + 1000));
  let events = 0;
  const onMetric = (sample: unknown): void => {
    const s = sample as MetricSample;
    if (s.name === 'pr_updates') events += s.value;
  };
  diagnosticsChannel.subscribe(metricChannel('fd'), onMetric);
  const capability = createProjections({ config, stores: new Map([['default', store]]), bus, logger: silentLogger, clock: systemClock, dataDir: dir, roles: ROLES, targets: { get: () => undefined, list: () => [] } });
  const t0 = performance.now();
  await capability.start();
  await drained(bus, 'bench.erp.projections', topics);
  const seconds = (performance.now() - t0) / 1000;
  await capability.stop();
  diagnosticsChannel.unsubscribe(metricChannel('fd'), onMetric);
  await bus.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
  return { seconds, events };
}

console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
const half = Math.floor(MESSAGES / 2);
const messages = {
  customers: Array.from({ length: half }, (_, i) => customer(i % (half / 2), i < half / 2 ? 'c' : 'u')),
  orders: Array.from({ length: MESSAGES - half }, (_, i) => order(i % (half / 2), i % 1000, i < half / 2 ? 'c' : 'u')),
};
const base = await run(undefined, messages);
console.log(`ingestion without pr-update: ${MESSAGES} messages in ${base.seconds.toFixed(2)} s = ${Math.round(MESSAGES / base.seconds)} msg/s`);
for (const version of ['v2', 'v1'] as const) {
  const r = await run(version, messages);
  console.log(`ingestion with pr-update ${version}: ${Math.round(MESSAGES / r.seconds)} msg/s, ${r.events} pr-updates produced; with/without = ${(base.seconds / r.seconds).toFixed(2)}`);
}
