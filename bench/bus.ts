// EventBus benchmark (issue 5), in one run: the embedded bus against a raw lmdb baseline (the same 1 KB
// values appended in transactions of the same size, no bus logic), and, when KAFKA_BROKERS is set, the Kafka
// adapter against a bare kafkajs producer. Figures:
// - produce: 1 KB messages published durably in batches (awaiting each batch), msg/s;
// - consume: one group reading the produced topic from the beginning with a commit per batch, msg/s;
// - end-to-end latency from `publish` to the handler at a steady rate (default 1,000 msg/s), p50/p99.
// Targets for the embedded bus: produce >= 50,000 msg/s, consume >= 50,000 msg/s, p99 < 10 ms at 1,000 msg/s.
// Usage: node --import tsx bench/bus.ts [--messages 50000] [--batch 500] [--inflight 4] [--rate 1000] [--seconds 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { open } from 'lmdb';
import { EmbeddedEventBus } from '../src/adapters/bus-embedded/index.js';
import { KafkaEventBus } from '../src/adapters/bus-kafka/index.js';
import { systemClock } from '../src/ports/clock.js';
import type { EventBus } from '../src/ports/event-bus.js';
import { silentLogger } from '../src/ports/logger.js';
import { numberArg } from './lib/args.js';

const MESSAGES = numberArg('messages', 50_000);
const BATCH = numberArg('batch', 500);
const RATE = numberArg('rate', 1000);
/** Publish calls awaited together (like a Kafka producer's in-flight requests); order per key still holds. */
const INFLIGHT = numberArg('inflight', 4);
const SECONDS = numberArg('seconds', 5);
const PARTITIONS = 4;
const VALUE = Buffer.alloc(1024, 'x');

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => `${n.toFixed(2)} ms`;
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const results: Record<string, number> = {};

async function rawLmdb(dir: string): Promise<number> {
  const root = open({ path: join(dir, 'raw.mdb'), noSubdir: true });
  const log = root.openDB<Buffer, [number, number]>('log', { keyEncoding: 'ordered-binary', encoding: 'binary' });
  const start = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < MESSAGES; i += BATCH) {
    const p: Promise<unknown> = root
      .transaction(() => {
        for (let j = i; j < Math.min(MESSAGES, i + BATCH); j++) log.putSync([j % PARTITIONS, j], VALUE);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= INFLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const rate = MESSAGES / ((performance.now() - start) / 1000);
  await root.close();
  return rate;
}

/** Floor for the latency figure: one durable lmdb commit of a 1 KB value per message, at the same rate. */
async function rawLmdbLatency(dir: string): Promise<{ p50: number; p99: number }> {
  const root = open({ path: join(dir, 'raw-latency.mdb'), noSubdir: true });
  const log = root.openDB<Buffer, number>('log', { encoding: 'binary' });
  const total = RATE * SECONDS;
  const samples: number[] = [];
  const pending: Promise<unknown>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / RATE - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(root.transaction(() => log.putSync(i, VALUE)).then(() => samples.push(performance.now() - t0)));
  }
  await Promise.all(pending);
  await root.close();
  const sorted = samples.sort((a, b) => a - b);
  return { p50: pct(sorted, 50), p99: pct(sorted, 99) };
}

async function produce(bus: EventBus, topic: string): Promise<number> {
  const start = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < MESSAGES; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, MESSAGES - i) }, (_, j) => ({ key: `key-${(i + j) % 1000}`, value: VALUE }));
    const p: Promise<unknown> = bus.publish(topic, batch).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= INFLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return MESSAGES / ((performance.now() - start) / 1000);
}

async function consume(bus: EventBus, topic: string): Promise<number> {
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const start = performance.now();
  const sub = await bus.subscribe({
    group: `bench-consume-${process.pid}-${topic}`,
    topics: [topic],
    fromBeginning: true,
    maxBatchSize: BATCH,
    handler: async (batch) => {
      seen += batch.messages.length;
      if (seen >= MESSAGES) done();
    },
  });
  await finished;
  const rate = MESSAGES / ((performance.now() - start) / 1000);
  await sub.stop();
  return rate;
}

async function latency(bus: EventBus, topic: string): Promise<{ p50: number; p99: number; max: number }> {
  const total = RATE * SECONDS;
  const sentAt = new Map<number, number>();
  const samples: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const sub = await bus.subscribe({
    group: `bench-latency-${process.pid}-${topic}`,
    topics: [topic],
    fromBeginning: false,
    handler: async (batch) => {
      const now = performance.now();
      for (const m of batch.messages) {
        const seq = Number(m.headers.seq);
        const t = sentAt.get(seq);
        if (t !== undefined) samples.push(now - t);
      }
      if (samples.length >= total) done();
    },
  });
  // Wait until the group owns every partition so the first messages are not lost to the start position.
  while (sub.assignment().length < PARTITIONS) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 200));
  const start = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(i, performance.now());
    inFlight.push(bus.publish(topic, [{ key: `key-${i % 100}`, value: VALUE, headers: { seq: String(i) } }]));
  }
  await Promise.all(inFlight);
  await Promise.race([finished, new Promise((r) => setTimeout(r, 10_000))]);
  await sub.stop();
  const sorted = samples.sort((a, b) => a - b);
  return { p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

async function runBus(label: string, bus: EventBus): Promise<void> {
  const id = `${process.pid}-${Date.now()}`;
  const throughputTopic = `bench-throughput-${id}`;
  const latencyTopic = `bench-latency-${id}`;
  await bus.ensureTopics({ [throughputTopic]: { partitions: PARTITIONS }, [latencyTopic]: { partitions: PARTITIONS } });
  // Latency first, on a quiet disk (the throughput runs leave megabytes of write-back behind them).
  const lat = await latency(bus, latencyTopic);
  console.log(`${label} e2e       p50 ${ms(lat.p50)}  p99 ${ms(lat.p99)}  max ${ms(lat.max)} (${fmt(RATE)} msg/s for ${SECONDS} s, publish -> handler)`);
  const produced = await produce(bus, throughputTopic);
  console.log(`${label} produce   ${fmt(produced)} msg/s (${fmt(MESSAGES)} x 1 KB, batches of ${BATCH}, ${INFLIGHT} in flight, durable)`);
  const consumed = await consume(bus, throughputTopic);
  console.log(`${label} consume   ${fmt(consumed)} msg/s (one group, commit per batch)`);
  results[`${label}.produce`] = produced;
  results[`${label}.consume`] = consumed;
  results[`${label}.p99`] = lat.p99;
}

async function kafkaProducerAlone(brokers: string[]): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-raw-${process.pid}-${Date.now()}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const start = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < MESSAGES; i += BATCH) {
    const messages = Array.from({ length: Math.min(BATCH, MESSAGES - i) }, (_, j) => ({ key: `key-${(i + j) % 1000}`, value: VALUE }));
    const p: Promise<unknown> = producer.send({ topic, acks: -1, messages }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= INFLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const rate = MESSAGES / ((performance.now() - start) / 1000);
  await producer.disconnect();
  return rate;
}

const dir = mkdtempSync(join(tmpdir(), 'mia-run-bench-bus-'));
try {
  console.log(`EventBus benchmark: ${fmt(MESSAGES)} messages of 1 KB, ${PARTITIONS} partitions, data in ${dir}`);
  const rawLat = await rawLmdbLatency(dir);
  console.log(`raw lmdb  commit    p50 ${ms(rawLat.p50)}  p99 ${ms(rawLat.p99)} (one durable 1 KB commit each, ${fmt(RATE)}/s for ${SECONDS} s: the disk's floor)`);
  const raw = await rawLmdb(dir);
  results['raw.produce'] = raw;
  console.log(`raw lmdb  append    ${fmt(raw)} msg/s (same values, transaction size and in-flight count, no bus)`);

  const embedded = new EmbeddedEventBus('bus', { kind: 'embedded', topics: {} }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await embedded.start();
  await runBus('embedded', embedded);
  await embedded.close();
  console.log(`embedded / raw lmdb produce: ${(results['embedded.produce']! / raw).toFixed(2)}`);

  const brokers = process.env.KAFKA_BROKERS;
  if (brokers === undefined || brokers === '') {
    console.log('kafka: skipped (set KAFKA_BROKERS to compare with Apache Kafka)');
  } else {
    const list = brokers.split(',');
    const rawKafka = await kafkaProducerAlone(list);
    results['kafkajs.produce'] = rawKafka;
    console.log(`kafkajs producer    ${fmt(rawKafka)} msg/s (acks=all, same batches and in-flight count)`);
    const kafka = new KafkaEventBus({ name: 'bus', config: { kind: 'kafka', brokers: list, clientId: 'mia-run-bench', topics: {} }, clock: systemClock, logger: silentLogger });
    await kafka.start();
    await runBus('kafka', kafka);
    await kafka.close();
    console.log(`kafka adapter / kafkajs producer: ${(results['kafka.produce']! / rawKafka).toFixed(2)}`);
    console.log(`embedded / kafka: produce ${(results['embedded.produce']! / results['kafka.produce']!).toFixed(2)}, consume ${(results['embedded.consume']! / results['kafka.consume']!).toFixed(2)}`);
  }

  const check = (name: string, ok: boolean): void => console.log(`target ${ok ? 'met' : 'MISSED'}: ${name}`);
  check('embedded produce >= 50,000 msg/s', results['embedded.produce']! >= 50_000);
  check('embedded consume >= 50,000 msg/s', results['embedded.consume']! >= 50_000);
  check(`embedded p99 < 10 ms at ${fmt(RATE)} msg/s`, results['embedded.p99']! < 10);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
