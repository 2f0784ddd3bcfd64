// Sagas benchmark (issue 8): end-to-end sagas completed per second on the embedded backends (create over the
// REST plugin -> command on the bus -> an executor answers with the event -> ... 3 commands/events -> final),
// and transition latency p50/p99 of `POST /event` against a baseline of bare xstate transitions persisted
// with one replaceOne each on the same embedded store, measured in the same run.
// With KAFKA_BROKERS and MONGODB_URL set, the end-to-end phase also runs on Kafka + MongoDB protocol.
// Usage: node --import tsx bench/sagas.ts [--sagas 2000] [--latency 2000] [--real-sagas 500]
// Mia's published figure for its Flow Manager (flow-manager.md §6): about 14 orders/s (Kafka, 2 replicas).
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { initialTransition, setup, transition } from 'xstate';
import { createEmbeddedEventBus } from '../src/adapters/bus-embedded/index.js';
import { createKafkaEventBus } from '../src/adapters/bus-kafka/index.js';
import { createEmbeddedDocumentStore } from '../src/adapters/store-embedded/index.js';
import { createMongoDocumentStore } from '../src/adapters/store-mongodb/index.js';
import type { SagaConfig } from '../src/config/sections/sagas.js';
import type { ProjectConfig } from '../src/config/types.js';
import { ROLES } from '../src/ports/capability-context.js';
import { systemClock } from '../src/ports/clock.js';
import type { DocumentStore } from '../src/ports/document-store.js';
import type { EventBus } from '../src/ports/event-bus.js';
import { silentLogger } from '../src/ports/logger.js';
import { metricChannel, type MetricSample } from '../src/ports/telemetry.js';
import { createSagas } from '../src/saga/index.js';
import { projectConfig } from '../test/helpers/project-config.js';
import { numberArg } from './lib/args.js';

const SAGAS = numberArg('sagas', 2000);
const REAL_SAGAS = numberArg('real-sagas', 500);
const LATENCY = numberArg('latency', 2000);

const STEPS = ['reserve', 'pay', 'ship'];
const saga: SagaConfig = {
  channels: { main: { kind: 'bus', commands: 'bench-commands', events: 'bench-events' } },
  machineDefinition: {
    initialState: 's0',
    creationEvent: 'created',
    states: [
      ...STEPS.map((step, i) => ({ id: `s${i}`, outputCommand: { label: step, channel: 'main' }, outgoingTransitions: [{ inputEvent: `${step}Done`, targetState: i === 2 ? 'done' : `s${i + 1}` }] })),
      { id: 'done', isFinal: true },
    ],
  },
};
// Same shape without commands: the latency phase measures one transition, not the executor round trip.
const quiet: SagaConfig = {
  channels: {},
  machineDefinition: {
    initialState: 's0',
    creationEvent: 'created',
    states: [...STEPS.map((step, i) => ({ id: `s${i}`, outgoingTransitions: [{ inputEvent: `${step}Done`, targetState: i === 2 ? 'done' : `s${i + 1}` }] })), { id: 'done', isFinal: true }],
  },
};

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const ms = (x: number): string => `${x.toFixed(2)} ms`;

interface EndToEnd {
  readonly seconds: number;
  readonly sagas: number;
  /** Process CPU (all threads) over the run, in ms: a figure that other load on the machine does not change much. */
  readonly cpuMs: number;
}

/**
 * Phase 1: `count` sagas end to end on one store and bus: created over the REST plugin (64 at a time), each
 * command answered by a Mia-style executor on the bus, until every saga is final. Completion is observed on
 * the saga metrics channel (what /-/metrics sees), not by polling the store: a count every few milliseconds
 * decodes every finished saga and would slow down what it measures.
 */
async function endToEnd(store: DocumentStore, bus: EventBus, busConfig: ProjectConfig['bus'], count: number, names: { commands: string; events: string }): Promise<EndToEnd> {
  const config = projectConfig({ sagas: { bench: { ...saga, channels: { main: { kind: 'bus', ...names } } } }, bus: busConfig });
  const sagas = createSagas({ config, stores: new Map([['default', store]]), bus, logger: silentLogger, clock: systemClock, dataDir: dir, roles: ROLES, targets: { get: () => undefined, list: () => [] } });
  const app = Fastify();
  for (const [key, plugin] of sagas.routes) await app.register(plugin, { prefix: key === '/' ? '' : `/${key}` });
  await sagas.start();
  await app.ready();
  // The executor: a service written for Mia's Flow Manager, answering each command with its event.
  const executor = await bus.subscribe({
    group: `bench-executor-${names.commands}`,
    topics: [names.commands],
    fromBeginning: true,
    maxBatchSize: 500,
    handler: async (batch) => {
      await bus.publish(names.events, batch.messages.map((m) => ({ key: m.key, value: { messageLabel: `${(m.json() as { messageLabel: string }).messageLabel}Done`, messagePayload: { at: Date.now() } } })));
    },
  });
  let doneCount = 0;
  let onAllDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    onAllDone = resolve;
    setTimeout(() => reject(new Error(`only ${doneCount}/${count} sagas finished in 300 s`)), 300_000).unref();
  });
  const onMetric = (sample: unknown): void => {
    const m = sample as MetricSample;
    if (m.name === 'transitions' && m.labels.saga === 'bench' && m.labels.state === 'done' && ++doneCount === count) onAllDone();
  };
  diagnosticsChannel.subscribe(metricChannel('saga'), onMetric);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        next++;
        const res = await app.inject({ method: 'POST', url: '/bench/saga', payload: { associatedEntityId: 'a', metadata: { n: 1 } } });
        if (res.statusCode !== 200) throw new Error(res.body);
      }
    }),
  );
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  diagnosticsChannel.unsubscribe(metricChannel('saga'), onMetric);
  const doneStored = await store.collection('sagas-bench').count({ currentState: 'done' });
  if (doneStored !== count) throw new Error(`${doneStored}/${count} sagas stored as done`);
  await executor.stop();
  await app.close();
  await sagas.stop();
  return { seconds, sagas: count, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const dir = await mkdtemp(join(tmpdir(), 'mia-run-bench-sagas-'));
const topics = { 'bench-commands': { partitions: 4 }, 'bench-events': { partitions: 4 } };
const store = createEmbeddedDocumentStore('default', { kind: 'embedded' }, { dataDir: dir, clock: systemClock, logger: silentLogger });
const bus = createEmbeddedEventBus('bus', { kind: 'embedded', topics }, { dataDir: dir, clock: systemClock, logger: silentLogger });
await store.start();
await bus.start();
await bus.ensureTopics(topics);
const embedded = await endToEnd(store, bus, { kind: 'embedded', topics }, SAGAS, { commands: 'bench-commands', events: 'bench-events' });
const e2eLines = (label: string, r: EndToEnd): void => {
  console.log(`sagas: ${r.sagas} end to end (create -> 3 commands/events over the bus -> final), ${label}`);
  console.log(`  completed:           ${(r.sagas / r.seconds).toFixed(0)} sagas/s in ${r.seconds.toFixed(2)} s`);
  console.log(`  durable transitions: ${((r.sagas * 3) / r.seconds).toFixed(0)}/s events applied (3 per saga); ${((r.sagas * 4) / r.seconds).toFixed(0)}/s with the creations  target >= 2000/s`);
  console.log(`  CPU: ${(r.cpuMs / r.sagas).toFixed(2)} ms per saga, ${((1000 * r.cpuMs) / (r.sagas * 4)).toFixed(0)} µs per durable state change (creation or event), whole process`);
  console.log(`  Mia Flow Manager published: ~14 orders/s (Kafka, 2 replicas)  -> ${(r.sagas / r.seconds / 14).toFixed(0)}x`);
};
e2eLines('embedded store + bus', embedded);

// The same on Kafka + MongoDB protocol when both are there (topics and database with a random suffix).
let real: EndToEnd | string = 'skipped: set KAFKA_BROKERS and MONGODB_URL to run';
if (process.env.KAFKA_BROKERS && process.env.MONGODB_URL) {
  const suffix = Date.now().toString(36);
  const names = { commands: `bench-commands-${suffix}`, events: `bench-events-${suffix}` };
  const kafkaTopics = { [names.commands]: { partitions: 4 }, [names.events]: { partitions: 4 } };
  const kafkaConfig = { kind: 'kafka' as const, brokers: process.env.KAFKA_BROKERS.split(','), clientId: `bench-sagas-${suffix}`, topics: kafkaTopics };
  const mongo = createMongoDocumentStore('default', { kind: 'mongodb', url: process.env.MONGODB_URL, database: `bench_sagas_${suffix}`, connectTimeout: 10_000 }, { clock: systemClock, logger: silentLogger });
  const kafka = createKafkaEventBus('bus', kafkaConfig as never, { clock: systemClock, logger: silentLogger });
  try {
    await mongo.start();
    await kafka.start();
    await kafka.ensureTopics(kafkaTopics);
    // Bounded: a run that does not finish is reported, not waited for.
    real = await Promise.race([
      endToEnd(mongo, kafka, kafkaConfig as never, REAL_SAGAS, names),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no result in 180 s')), 180_000).unref()),
    ]);
  } catch (err) {
    real = `failed: ${(err as Error).message}`;
  } finally {
    await mongo.collection('sagas-bench').drop().catch(() => undefined);
    await kafka.close();
    await mongo.close();
  }
}

// The latency phases run on the embedded backends, with a saga definition without commands.
const config = projectConfig({ sagas: { quiet }, bus: { kind: 'embedded', topics } });
const sagas = createSagas({ config, stores: new Map([['default', store]]), bus, logger: silentLogger, clock: systemClock, dataDir: dir, roles: ROLES, targets: { get: () => undefined, list: () => [] } });
const app = Fastify();
for (const [key, plugin] of sagas.routes) await app.register(plugin, { prefix: key === '/' ? '' : `/${key}` });
await sagas.start();
await app.ready();

// Phase 2: transition latency through POST /event (durable write each), sequential.
const quietIds: string[] = [];
for (let i = 0; i < Math.ceil(LATENCY / 3); i++) quietIds.push(((await app.inject({ method: 'POST', url: '/quiet/saga', payload: { associatedEntityId: 'a', metadata: {} } })).json() as { sagaId: string }).sagaId);
const sagaLat: number[] = [];
const t1 = performance.now();
for (const [i, step] of STEPS.entries()) {
  for (const id of quietIds) {
    const s = performance.now();
    const res = await app.inject({ method: 'POST', url: '/quiet/event', payload: { key: id, value: { messageLabel: `${step}Done`, messagePayload: { i } } } });
    sagaLat.push(performance.now() - s);
    if (res.statusCode !== 200) throw new Error(res.body);
  }
}
const sagaSeqRate = sagaLat.length / ((performance.now() - t1) / 1000);

// Phase 3: the same transitions, 64 sagas at a time (what a consumer batch or concurrent clients produce).
const concIds: string[] = [];
for (let i = 0; i < Math.ceil(LATENCY / 3); i++) concIds.push(((await app.inject({ method: 'POST', url: '/quiet/saga', payload: { associatedEntityId: 'a', metadata: {} } })).json() as { sagaId: string }).sagaId);
const runConcurrent = async (ids: readonly string[], one: (id: string, step: string, i: number) => Promise<void>): Promise<number> => {
  const t = performance.now();
  for (const [i, step] of STEPS.entries()) {
    let k = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (k < ids.length) await one(ids[k++] as string, step, i);
    }));
  }
  return (ids.length * STEPS.length) / ((performance.now() - t) / 1000);
};
const sagaConcRate = await runConcurrent(concIds, async (id, step, i) => {
  const res = await app.inject({ method: 'POST', url: '/quiet/event', payload: { key: id, value: { messageLabel: `${step}Done`, messagePayload: { i } } } });
  if (res.statusCode !== 200) throw new Error(res.body);
});

// Baseline: bare xstate transition + getPersistedSnapshot + one replaceOne per transition, same store.
const machine = setup({}).createMachine({
  id: 'bare',
  initial: 's0',
  states: { s0: { on: { reserveDone: 's1' } }, s1: { on: { payDone: 's2' } }, s2: { on: { shipDone: 'done' } }, done: { type: 'final' } },
});
const bare = store.collection('bare');
const bareIds = quietIds.map((_, i) => `b${i}`);
for (const id of bareIds) await bare.insertOne({ _id: id, snapshot: machine.getPersistedSnapshot(initialTransition(machine)[0]) });
const bareLat: number[] = [];
const t2 = performance.now();
for (const step of STEPS) {
  for (const id of bareIds) {
    const s = performance.now();
    const doc = await bare.findOne({ _id: id });
    const current = machine.resolveState({ value: (doc?.snapshot as { value: string }).value, context: {} });
    const [snap] = transition(machine, current, { type: `${step}Done` });
    await bare.replaceOne({ _id: id }, { snapshot: machine.getPersistedSnapshot(snap) });
    bareLat.push(performance.now() - s);
  }
}
const bareRate = bareLat.length / ((performance.now() - t2) / 1000);
const bareConcIds = concIds.map((_, i) => `c${i}`);
for (const id of bareConcIds) await bare.insertOne({ _id: id, snapshot: machine.getPersistedSnapshot(initialTransition(machine)[0]) });
const bareConcRate = await runConcurrent(bareConcIds, async (id, step) => {
  const doc = await bare.findOne({ _id: id });
  const [snap] = transition(machine, machine.resolveState({ value: (doc?.snapshot as { value: string }).value, context: {} }), { type: `${step}Done` });
  await bare.replaceOne({ _id: id }, { snapshot: machine.getPersistedSnapshot(snap) });
});

await app.close();
await sagas.stop();
await bus.close();
await store.close();
await rm(dir, { recursive: true, force: true });

if (typeof real === 'string') console.log(`sagas end to end on Kafka + MongoDB protocol: ${real}`);
else e2eLines('Kafka + MongoDB protocol', real);
console.log(`transition latency, ${sagaLat.length} sequential POST /event (durable), vs bare xstate + replaceOne on the same store:`);
console.log(`  saga:     p50 ${ms(pct(sagaLat, 50))}  p99 ${ms(pct(sagaLat, 99))}  ${sagaSeqRate.toFixed(0)} transitions/s sequential`);
console.log(`  baseline: p50 ${ms(pct(bareLat, 50))}  p99 ${ms(pct(bareLat, 99))}  ${bareRate.toFixed(0)} transitions/s sequential`);
console.log(`  ratio (saga / baseline) p50: ${(pct(sagaLat, 50) / pct(bareLat, 50)).toFixed(2)}x`);
console.log(`durable transitions, 64 sagas at a time (POST /event; baseline: bare xstate + findOne/replaceOne):`);
console.log(`  saga: ${sagaConcRate.toFixed(0)}/s   baseline: ${bareConcRate.toFixed(0)}/s   target >= 2000/s`);
// Kafka clients of an unfinished run may keep the process alive.
process.exit(0);
