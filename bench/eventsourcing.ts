// Event-sourcing benchmark (issue 10), in one run on the embedded store and bus (temp directory):
// - baseline: raw store inserts/s (64 concurrent writers, one event-sized document per call, no transaction);
// - appends/s across aggregates: 64 concurrent writers on distinct aggregates over HTTP (inject), each append
//   with its expected version, group-committed with the outbox staging, published to the bus by the relay;
//   then the rate until the relay has published everything (end to end);
// - the same through the aggregate API (no HTTP) with 64 and 256 writers, and without publication (no
//   outbox), to separate costs;
// - appends/s on one hot aggregate: one writer with expected versions (no conflicts), and 8 writers without
//   (conflicts retried);
// - state read of an aggregate with 10,000 events, with a snapshot every 100 events and without (full fold).
// Target (embedded): >= 10,000 appends/s across aggregates.
// Usage: node --import tsx bench/eventsourcing.ts [--appends 20000] [--hot 2000] [--events 10000] [--reads 20]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmbeddedEventBus } from '../src/adapters/bus-embedded/index.js';
import { createEmbeddedDocumentStore } from '../src/adapters/store-embedded/index.js';
import type { AggregateConfig } from '../src/config/sections/aggregates.js';
import { createEventSourcing, createEventStore } from '../src/eventsourcing/index.js';
import { countPending, createOutbox } from '../src/outbox/index.js';
import { createAggregate, type Aggregate } from '../src/eventsourcing/aggregate.js';
import { compileFold } from '../src/eventsourcing/fold.js';
import { compileUpcaster } from '../src/eventsourcing/upcast.js';
import { systemClock } from '../src/ports/clock.js';
import type { DocumentStore } from '../src/ports/document-store.js';
import { silentLogger } from '../src/ports/logger.js';
import { projectConfig } from '../test/helpers/project-config.js';
import { numberArg } from './lib/args.js';

const APPENDS = numberArg('appends', 20_000);
const HOT = numberArg('hot', 2_000);
const EVENTS = numberArg('events', 10_000);
const READS = numberArg('reads', 20);
const WRITERS = 64;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const account = (publish: boolean, snapshotEvery = 0): AggregateConfig => ({
  events: { Deposited: { schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } } } },
  state: { initial: { balance: 0 }, on: { Deposited: [{ inc: 'balance', from: 'amount' }, { set: 'last', from: '$version' }] } },
  snapshotEvery,
  ...(publish ? { publish: { topic: 'account-events' } } : {}),
});

async function concurrently(total: number, writers: number, work: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: writers }, async () => {
    while (next < total) await work(next++);
  }));
  return total / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mia-run-bench-es-'));
  const store: DocumentStore = createEmbeddedDocumentStore('default', { kind: 'embedded', path: join(dir, 'store') }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await store.start();
  const topics = { 'account-events': { partitions: 6 } };
  const bus = new EmbeddedEventBus('bus', { kind: 'embedded', topics }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await bus.start();
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; embedded store and bus in ${dir}`);
  try {
    const raw = store.collection('raw-events');
    await raw.ensureIndexes([{ name: 'aggregate_version', key: { aggregateId: 1, version: 1 }, unique: true }]);
    const baseline = await concurrently(APPENDS, WRITERS, (i) => raw.insertOne({ _id: `a${i}:1`, aggregateId: `a${i}`, version: 1, type: 'Deposited', schemaVersion: 1, data: { amount: i }, metadata: {}, committedAt: new Date() }));
    console.log(`baseline raw store inserts:             ${fmt(baseline)}/s (${WRITERS} writers, ${fmt(APPENDS)} docs)`);

    const ctx = { config: projectConfig({ aggregates: { account: account(true), quiet: account(false), hot: account(false) }, bus: { kind: 'embedded', topics } }), stores: new Map([['default', store]]), bus, logger: silentLogger, clock: systemClock, dataDir: dir, roles: ['aggregates' as const], targets: { get: () => undefined, list: () => [] } };
    const es = createEventSourcing(ctx);
    await es.start();
    const aggregateOf = (name: string, events = createEventStore({ aggregate: name, store, clock: systemClock })): Aggregate => {
      const config = account(false);
      return createAggregate({ name, config, events, snapshots: store.collection(`${name}-snapshots`), fold: compileFold(config.state?.on ?? {}, config.state?.initial), upcast: compileUpcaster(config.events), logger: silentLogger });
    };
    // The capability as a user sees it: its route plugin on a bare Fastify app, called with inject.
    const routes = es.routes.get('account');
    if (routes === undefined) throw new Error('no account routes');
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    await app.register(routes, { prefix: '/account' });
    await app.ready();
    const httpStart = performance.now();
    const published = await concurrently(APPENDS, WRITERS, async (i) => {
      const res = await app.inject({ method: 'POST', url: `/account/acc-${i}/events`, payload: { type: 'Deposited', payload: { amount: 1 }, expectedVersion: 0 } });
      if (res.statusCode !== 201) throw new Error(res.body);
    });
    console.log(`appends across aggregates, published:   ${fmt(published)}/s (${WRITERS} writers over HTTP inject, outbox in the append transaction)`);
    while ((await countPending(store)) > 0) await new Promise((r) => setTimeout(r, 5));
    console.log(`  ... until all published on the bus:   ${fmt(APPENDS / ((performance.now() - httpStart) / 1000))}/s`);

    const outbox = createOutbox({ store, bus, clock: systemClock, logger: silentLogger });
    await outbox.start();
    const directRates: number[] = [];
    for (const writers of [WRITERS, 4 * WRITERS]) {
      const outboxed = aggregateOf(`direct${writers}`, createEventStore({ aggregate: `direct${writers}`, store, clock: systemClock, outbox, topic: 'account-events' }));
      await outboxed.ensureIndexes();
      const cpu = process.cpuUsage();
      const publishedDirect = await concurrently(APPENDS, writers, (i) => outboxed.append(`d-${i}`, [{ type: 'Deposited', data: { amount: 1 } }], 0));
      const used = process.cpuUsage(cpu);
      directRates.push(publishedDirect);
      // CPU time of this process (appends, relay and bus): steadier than wall time on a shared machine.
      const perCpu = APPENDS / ((used.user + used.system) / 1e6);
      console.log(`appends across aggregates, published:   ${fmt(publishedDirect)}/s (${writers} writers, direct calls; ${fmt(perCpu)} per CPU-second)`);
    }
    await outbox.stop();

    const quiet = aggregateOf('quiet');
    await quiet.ensureIndexes();
    const direct = await concurrently(APPENDS, WRITERS, (i) => quiet.append(`q-${i}`, [{ type: 'Deposited', data: { amount: 1 } }], 0));
    console.log(`appends across aggregates, no publish:  ${fmt(direct)}/s (${WRITERS} writers, direct calls)`);

    const hot = aggregateOf('hot');
    await hot.ensureIndexes();
    const start = performance.now();
    for (let v = 0; v < HOT; v++) await hot.append('h', [{ type: 'Deposited', data: { amount: 1 } }], v);
    console.log(`hot aggregate, 1 writer, expected ver.: ${fmt(HOT / ((performance.now() - start) / 1000))}/s (${fmt(HOT)} appends)`);
    let conflicts = 0;
    const contended = await concurrently(HOT, 8, async () => {
      await hot.append('h2', [{ type: 'Deposited', data: { amount: 1 } }], undefined).catch(() => void conflicts++);
    });
    console.log(`hot aggregate, 8 writers, no expected:  ${fmt(contended)}/s (${conflicts} gave up after 3 tries)`);

    // 10,000 events on one aggregate, then reads with and without snapshots.
    const snap = createAggregate({ name: 'big', config: account(false, 100), events: createEventStore({ aggregate: 'big', store, clock: systemClock }), snapshots: store.collection('big-snapshots'), fold: compileFold(account(false).state?.on ?? {}, { balance: 0 }), upcast: compileUpcaster(account(false).events), logger: silentLogger });
    await snap.ensureIndexes();
    for (let v = 0; v < EVENTS; v += 100) await snap.append('big', Array.from({ length: 100 }, () => ({ type: 'Deposited', data: { amount: 1 } })), v);
    const time = async (useSnapshot: boolean): Promise<number> => {
      const s = performance.now();
      for (let r = 0; r < READS; r++) {
        const state = await snap.load('big', { useSnapshot });
        if (state?.state.balance !== EVENTS) throw new Error(`bad fold ${JSON.stringify(state?.state)}`);
      }
      return (performance.now() - s) / READS;
    };
    const withSnap = await time(true);
    const without = await time(false);
    console.log(`state read, ${fmt(EVENTS)} events: with snapshot ${withSnap.toFixed(2)} ms, full fold ${without.toFixed(2)} ms (x${(without / withSnap).toFixed(0)})`);
    const met = (n: number | undefined): string => ((n ?? 0) >= 10_000 ? 'met' : 'NOT met');
    console.log(`ratio published appends / raw inserts: HTTP ${(published / baseline).toFixed(2)}, direct ${((directRates[0] ?? 0) / baseline).toFixed(2)} (${WRITERS} writers)`);
    console.log(`target >= 10,000 published appends/s across aggregates: direct ${WRITERS} writers ${met(directRates[0])}, ${4 * WRITERS} writers ${met(directRates[1])}, HTTP inject ${met(published)}`);
    await app.close();
    await es.stop();
  } finally {
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
