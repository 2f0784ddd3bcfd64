// Fast Data benchmark (issue 9), embedded bus and store, one process:
// 1. ingestion: Debezium c/u messages (2 projections of 6 fields with casts, 6 partitions) consumed by the
//    projections capability until every partition is committed, in messages/s;
// 2. baseline in the same run: the same messages consumed raw by another group, each JSON-parsed and
//    upserted by ID with one bulkWrite of replaceOne per batch (no casts, no stale guard, no metadata);
// 3. single views: customers + orders with a 1:N view (customer → orders); orders moving between customers
//    recompute two views each; reported as single-view recomputations/s (from the capability's metrics).
// 4. a full refresh of the view (recomputation alone), documents rewritten then unchanged.
// Usage: node --import tsx bench/fastdata.ts [--messages 20000] [--customers 2000] [--moves 4000] [--phase ingest|sv]
// Targets (fast-data.md §9): ≥ 20,000 msg/s ingestion, ≥ 5,000 SV/s. Mia: ~10k msg/min per replica, ~1k SV/min.
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
import { refreshView } from '../src/projections/operations/refresh.js';
import { compileView } from '../src/projections/single-view/model.js';
import { recompute } from '../src/projections/single-view/writer.js';
import { projectConfig } from '../test/helpers/project-config.js';
import { numberArg, stringArg } from './lib/args.js';

const MESSAGES = numberArg('messages', 20000);
const CUSTOMERS = numberArg('customers', 2000);
const MOVES = numberArg('moves', 4000);
const PARTITIONS = 6;
/** Only one phase (`ingest` or `sv`, for profiling); both by default. */
const PHASE = stringArg('phase');

const field = (name: string, source: string, cast?: string) => ({ name, source, ...(cast ? { cast } : {}) });
const fastData = (views: boolean): FastDataConfig => ({
  systemsOfRecord: {
    erp: {
      format: 'debezium',
      projections: {
        customers: { topic: 'customers', primaryKey: ['id'], fields: [field('id', 'ID', 'toInteger'), field('name', 'NAME', 'toString'), field('score', 'SCORE', 'toNumber'), field('vip', 'VIP', 'toBoolean'), field('since', 'SINCE', 'toDate'), field('note', 'NOTE')] },
        orders: { topic: 'orders', primaryKey: ['id'], fields: [field('id', 'ID', 'toInteger'), field('customerId', 'CUSTOMER_ID', 'toInteger'), field('total', 'TOTAL', 'toNumber'), field('status', 'STATUS', 'toString'), field('at', 'AT', 'unixTimestampToISOString'), field('note', 'NOTE')] },
      },
    },
  },
  ...(views
    ? { singleViews: { c360: { key: { customerId: 'customers.id' }, relations: [{ from: 'orders.customerId', to: 'customers.id' }], aggregation: { customerId: 'customers.id', name: 'customers.name', orders: { from: 'orders', many: true, fields: { id: 'id', total: 'total' } } } } } }
    : {}),
});

const customer = (id: number, op: string): OutgoingMessage => ({ key: JSON.stringify({ ID: id }), value: { op, before: null, after: { ID: id, NAME: `c${id}`, SCORE: String(id % 100), VIP: id % 2 === 0 ? 'true' : 'false', SINCE: 1695141357284, NOTE: 'x' }, source: {} } });
const order = (id: number, customerId: number, op: string): OutgoingMessage => ({ key: JSON.stringify({ ID: id }), value: { op, before: null, after: { ID: id, CUSTOMER_ID: customerId, TOTAL: String(id % 1000), STATUS: 'open', AT: 1695141357284, NOTE: 'y' }, source: {} } });

async function publishAll(bus: EventBus, topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 1000) await bus.publish(topic, messages.slice(i, i + 1000));
}

async function drained(bus: EventBus, group: string, topics: readonly string[]): Promise<void> {
  for (;;) {
    const lag = await bus.lag(group, topics);
    if (lag.length >= topics.length * PARTITIONS && lag.every((p) => p.lag === 0)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU seconds (user + system) of this process since `from`: on a shared machine, work per CPU-second compares better than wall time. */
const cpuSince = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
};

interface RunResult {
  seconds: number;
  cpu: number;
  baseline?: number;
  baselineCpu?: number;
  sv: number;
  laterSeconds?: number;
  laterCpu?: number;
  laterSv?: number;
  refresh?: { count: number; changedSeconds: number; changedCpu: number; noopSeconds: number; noopCpu: number; results: string };
}

async function run(views: boolean, messages: Record<string, OutgoingMessage[]>, later?: Record<string, OutgoingMessage[]>): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-bench-fd-'));
  const deps = { dataDir: dir, clock: systemClock, logger: silentLogger };
  const topics = Object.keys(messages);
  const config = projectConfig({ name: 'bench', bus: { kind: 'embedded', topics: Object.fromEntries(topics.map((t) => [t, { partitions: PARTITIONS }])) }, fastData: fastData(views) });
  const store = createEmbeddedDocumentStore('default', { kind: 'embedded' }, deps);
  const bus = createEmbeddedEventBus('bus', config.bus as never, deps, { pollMs: 5 });
  await store.start();
  await bus.start();
  await bus.ensureTopics(config.bus.topics);
  for (const [topic, list] of Object.entries(messages)) await publishAll(bus, topic, list);
  let sv = 0;
  const onMetric = (sample: unknown): void => {
    const s = sample as MetricSample;
    if (s.name === 'sv') sv += s.value;
  };
  diagnosticsChannel.subscribe(metricChannel('fd'), onMetric);
  const capability = createProjections({ config, stores: new Map([['default', store]]), bus, logger: silentLogger, clock: systemClock, dataDir: dir, roles: ROLES, targets: { get: () => undefined, list: () => [] } });
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  await capability.start();
  await drained(bus, 'bench.erp.projections', topics);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSince(c0);
  const firstSv = sv;
  let laterSeconds: number | undefined;
  let laterCpu: number | undefined;
  if (later !== undefined) {
    sv = 0;
    for (const [topic, list] of Object.entries(later)) await publishAll(bus, topic, list);
    t0 = performance.now();
    c0 = process.cpuUsage();
    await drained(bus, 'bench.erp.projections', topics);
    laterSeconds = (performance.now() - t0) / 1000;
    laterCpu = cpuSince(c0);
  }
  const laterSv = sv;
  await capability.stop();
  let refresh: RunResult['refresh'];
  if (views) {
    // 4. a full refresh (recomputation only: no ingestion, strategies or journal), twice: documents
    //    rewritten (stored documents made stale first), then unchanged (noop).
    const declared = fastData(true).singleViews!;
    const view = compileView('c360', declared.c360!);
    const svCollection = store.collection('c360');
    const pk: Record<string, string[]> = { customers: ['id'], orders: ['id'] };
    const writer = { projection: (name: string) => ({ collection: store.collection(name), primaryKey: pk[name]! }), functions: new Map(), logger: silentLogger, collection: svCollection, now: () => new Date(), origin: 'bench' };
    await svCollection.updateMany({}, { $set: { name: 'stale' } });
    t0 = performance.now();
    c0 = process.cpuUsage();
    const first = await refreshView({ view, writer, recompute });
    const changedSeconds = (performance.now() - t0) / 1000;
    const changedCpu = cpuSince(c0);
    t0 = performance.now();
    c0 = process.cpuUsage();
    const second = await refreshView({ view, writer, recompute });
    refresh = { count: first.recomputed, changedSeconds, changedCpu, noopSeconds: (performance.now() - t0) / 1000, noopCpu: cpuSince(c0), results: `${JSON.stringify(first.results)} then ${JSON.stringify(second.results)}` };
  }
  diagnosticsChannel.unsubscribe(metricChannel('fd'), onMetric);
  let baseline: number | undefined;
  let baselineCpu: number | undefined;
  if (!views) {
    const raw = store.collection('raw');
    await raw.ensureIndexes([{ name: 'by_key', key: { topic: 1, ID: 1 }, unique: true }]);
    t0 = performance.now();
    c0 = process.cpuUsage();
    const sub = await bus.subscribe({
      group: 'baseline',
      topics,
      fromBeginning: true,
      handler: async (batch) => {
        const ops = batch.messages.map((m) => {
          const value = m.json<{ after: Record<string, unknown> }>();
          return { replaceOne: { filter: { topic: m.topic, ID: value.after.ID }, replacement: { topic: m.topic, ...value.after }, upsert: true } };
        });
        await raw.bulkWrite(ops);
      },
    });
    await drained(bus, 'baseline', topics);
    baseline = (performance.now() - t0) / 1000;
    baselineCpu = cpuSince(c0);
    await sub.stop();
  }
  await bus.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
  return { seconds, cpu, sv: firstSv, ...(baseline !== undefined ? { baseline, baselineCpu: baselineCpu! } : {}), ...(laterSeconds !== undefined ? { laterSeconds, laterCpu: laterCpu!, laterSv } : {}), ...(refresh === undefined ? {} : { refresh }) };
}

console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
const half = Math.floor(MESSAGES / 2);
const perCpu = (n: number, cpu: number | undefined): string => `${Math.round(n / (cpu ?? NaN))}/CPU-s`;
if (PHASE !== 'sv') {
  const ingest = await run(false, {
    customers: Array.from({ length: half }, (_, i) => customer(i % (half / 2), i < half / 2 ? 'c' : 'u')),
    orders: Array.from({ length: MESSAGES - half }, (_, i) => order(i % (half / 2), i % 1000, i < half / 2 ? 'c' : 'u')),
  });
  console.log(`ingestion: ${MESSAGES} Debezium messages in ${ingest.seconds.toFixed(2)} s = ${Math.round(MESSAGES / ingest.seconds)} msg/s (${perCpu(MESSAGES, ingest.cpu)})`);
  console.log(`baseline (raw consume + bulk replaceOne upsert per batch): ${Math.round(MESSAGES / ingest.baseline!)} msg/s (${perCpu(MESSAGES, ingest.baselineCpu)}); projections/baseline = ${(ingest.baseline! / ingest.seconds).toFixed(2)} (per CPU-s: ${(ingest.baselineCpu! / ingest.cpu).toFixed(2)})`);
}
if (PHASE !== 'ingest') {
  const ordersPerCustomer = 3;
  const sv = await run(
    true,
    {
      customers: Array.from({ length: CUSTOMERS }, (_, i) => customer(i, 'r')),
      orders: Array.from({ length: CUSTOMERS * ordersPerCustomer }, (_, i) => order(i, i % CUSTOMERS, 'r')),
    },
    { orders: Array.from({ length: MOVES }, (_, i) => order(i % (CUSTOMERS * ordersPerCustomer), (i * 7 + 1) % CUSTOMERS, 'u')) },
  );
  console.log(`single views, initial load: ${CUSTOMERS} customers + ${CUSTOMERS * ordersPerCustomer} orders in ${sv.seconds.toFixed(2)} s, ${sv.sv} SV recomputations = ${Math.round(sv.sv / sv.seconds)} SV/s (${perCpu(sv.sv, sv.cpu)})`);
  console.log(`single views, ${MOVES} FK moves: ${sv.laterSeconds!.toFixed(2)} s, ${sv.laterSv} SV recomputations = ${Math.round(sv.laterSv! / sv.laterSeconds!)} SV/s (${Math.round(MOVES / sv.laterSeconds!)} msg/s; ${perCpu(sv.laterSv!, sv.laterCpu)})`);
  const r = sv.refresh!;
  console.log(`single views, full refresh of ${r.count} (recomputation only): rewritten ${Math.round(r.count / r.changedSeconds)} SV/s (${perCpu(r.count, r.changedCpu)}), unchanged ${Math.round(r.count / r.noopSeconds)} SV/s (${perCpu(r.count, r.noopCpu)}); ${r.results}`);
}
