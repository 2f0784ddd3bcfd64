// DocumentStore benchmark (issue 4), in one run: the embedded store against a raw lmdb baseline (the same BSON
// documents put/get by key with no store logic; for the query, a full scan + filter + sort in JS, which is what
// the store would do without indexes), and, when MONGODB_URL is set, the MongoDB adapter. Figures:
// - single inserts/s: 64 concurrent writers, one document per call, each acknowledged durably;
// - batched inserts/s: insertMany of 1,000 documents per call (this also loads 100,000 documents);
// - indexed point reads/s (one caller, unique index) with p50/p99 latency;
// - a filtered, sorted, limited query over the 100,000 documents (equality + range, sort desc, limit 20);
// - update-by-id/s: 64 concurrent writers, `$inc` by `_id`.
// Targets (embedded): >= 20,000 single inserts/s, >= 100,000 point reads/s, p99 < 1 ms, RSS < 500 MB at 1M docs.
// Usage: node --import tsx bench/store.ts [--single 20000] [--docs 100000] [--reads 50000] [--queries 200]
//        [--budget 20] (seconds per phase and store: a slow server reports what it did in that time)
//        [--rss 1000000]   (the RSS run loads that many small documents; it takes about a minute)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deserialize, serialize } from 'bson';
import { open } from 'lmdb';
import { EmbeddedDocumentStore } from '../src/adapters/store-embedded/index.js';
import { MongoDocumentStore } from '../src/adapters/store-mongodb/index.js';
import { systemClock } from '../src/ports/clock.js';
import type { Document, DocumentStore } from '../src/ports/document-store.js';
import { silentLogger } from '../src/ports/logger.js';
import { numberArg } from './lib/args.js';

const SINGLE = numberArg('single', 20_000);
const DOCS = numberArg('docs', 100_000);
const READS = numberArg('reads', 50_000);
const QUERIES = numberArg('queries', 200);
const RSS_DOCS = numberArg('rss', 0);
/** Seconds each phase may take per store; a slow server (FerretDB) reports what it did in that time. */
const BUDGET_MS = numberArg('budget', 20) * 1000;
const WRITERS = 64;
const BATCH = 1000;

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const doc = (i: number): Document => ({ _id: i, sku: `sku-${i}`, category: `c${i % 50}`, price: (i * 7919) % 1000, name: `product ${i}`, stock: i % 17, createdAt: new Date(1_700_000_000_000 + i) });

interface Figures {
  single: number;
  batched: number;
  reads: number;
  p50: number;
  p99: number;
  queryMs: number;
  updates: number;
  /** Documents loaded for reads, query and updates (fewer than --docs when the phase hit its budget). */
  loaded: number;
  /** CPU microseconds per operation (all threads of the process), per figure above. */
  cpu: Record<'single' | 'batched' | 'reads' | 'query' | 'updates', number>;
}

/** Runs `fn` and returns its result with the process CPU time (user + system, all threads) it took, in µs. */
async function withCpu<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const before = process.cpuUsage();
  const result = await fn();
  const used = process.cpuUsage(before);
  return [result, used.user + used.system];
}

async function concurrently(total: number, fn: (i: number) => Promise<unknown>): Promise<{ rate: number; done: number }> {
  let next = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + BUDGET_MS;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let i = next++; i < total && performance.now() < deadline; i = next++) {
        await fn(i);
        done++;
      }
    }),
  );
  return { rate: done / ((performance.now() - start) / 1000), done };
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<{ rate: number; p50: number; p99: number; count: number }> {
  const lat: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n && performance.now() < start + BUDGET_MS; i++) {
    const t = performance.now();
    await fn(i);
    lat.push(performance.now() - t);
  }
  const rate = lat.length / ((performance.now() - start) / 1000);
  lat.sort((a, b) => a - b);
  return { rate, p50: pct(lat, 50), p99: pct(lat, 99), count: lat.length };
}

async function runStore(store: DocumentStore): Promise<Figures> {
  const single = store.collection('single');
  const items = store.collection('items');
  await items.ensureIndexes([{ name: 'sku', key: { sku: 1 }, unique: true }, { name: 'category_price', key: { category: 1, price: 1 } }]);
  const [singles, cpuSingle] = await withCpu(() => concurrently(SINGLE, (i) => single.insertOne(doc(i))));
  let start = performance.now();
  let loaded = 0;
  const [, cpuBatched] = await withCpu(async () => {
    for (; loaded < DOCS && performance.now() < start + BUDGET_MS; loaded += BATCH) {
      await items.insertMany(Array.from({ length: Math.min(BATCH, DOCS - loaded) }, (_, j) => doc(loaded + j)));
    }
    loaded = Math.min(loaded, DOCS);
  });
  const batched = loaded / ((performance.now() - start) / 1000);
  const [reads, cpuReads] = await withCpu(() => timed(READS, (i) => items.findOne({ sku: `sku-${(i * 7919) % loaded}` })));
  const found = (await items.find({ category: 'c7', price: { $gte: 500 } }, { sort: { price: -1 }, limit: 20 }).toArray()).length;
  if (found !== Math.min(20, Math.floor(loaded / 100))) throw new Error(`query returned ${found} documents`);
  start = performance.now();
  let queries = 0;
  const [, cpuQuery] = await withCpu(async () => {
    for (; queries < QUERIES && performance.now() < start + BUDGET_MS; queries++) {
      await items.find({ category: `c${queries % 50}`, price: { $gte: 500 } }, { sort: { price: -1 }, limit: 20 }).toArray();
    }
  });
  const queryMs = (performance.now() - start) / queries;
  const [updates, cpuUpdates] = await withCpu(() => concurrently(SINGLE, (i) => items.updateOne({ _id: (i * 7919) % loaded }, { $inc: { stock: 1 } })));
  const per = (used: number, n: number): number => used / Math.max(1, n);
  const cpu = { single: per(cpuSingle, singles.done), batched: per(cpuBatched, loaded), reads: per(cpuReads, reads.count), query: per(cpuQuery, queries), updates: per(cpuUpdates, updates.done) };
  return { single: singles.rate, batched, reads: reads.rate, p50: reads.p50, p99: reads.p99, queryMs, updates: updates.rate, loaded, cpu };
}

async function runBaseline(dir: string): Promise<Figures> {
  const db = open<Buffer, Buffer>({ path: join(dir, 'raw'), keyEncoding: 'binary', encoding: 'binary', overlappingSync: false });
  const key = (space: number, i: number): Buffer => {
    const b = Buffer.alloc(5);
    b[0] = space;
    b.writeUInt32BE(i, 1);
    return b;
  };
  const bytes = (d: Document): Buffer => Buffer.from(serialize(d));
  const [singles, cpuSingle] = await withCpu(() => concurrently(SINGLE, (i) => db.put(key(1, i), bytes(doc(i)))));
  let start = performance.now();
  const [, cpuBatched] = await withCpu(async () => {
    for (let i = 0; i < DOCS; i += BATCH) {
      await db.transaction(() => {
        for (let j = i; j < Math.min(DOCS, i + BATCH); j++) db.putSync(key(2, j), bytes(doc(j)));
      });
    }
  });
  const batched = DOCS / ((performance.now() - start) / 1000);
  const [reads, cpuReads] = await withCpu(() => timed(READS, async (i) => deserialize(db.getBinary(key(2, (i * 7919) % DOCS))!)));
  start = performance.now();
  const scans = Math.max(3, Math.round(QUERIES / 20));
  const cpuQuery0 = process.cpuUsage();
  for (let q = 0; q < scans; q++) {
    const hits: Document[] = [];
    for (const { value } of db.getRange({ start: key(2, 0), end: key(3, 0) })) {
      const d = deserialize(value);
      if (d.category === `c${q % 50}` && d.price >= 500) hits.push(d);
    }
    hits.sort((a, b) => Number(b.price) - Number(a.price)).slice(0, 20);
  }
  const queryMs = (performance.now() - start) / scans;
  const cpuQueryUsed = process.cpuUsage(cpuQuery0);
  const [updates, cpuUpdates] = await withCpu(() =>
    concurrently(SINGLE, (i) =>
      db.transaction(() => {
        const k = key(2, (i * 7919) % DOCS);
        const d = deserialize(db.getBinary(k)!);
        d.stock = Number(d.stock) + 1;
        db.putSync(k, bytes(d));
      }),
    ),
  );
  await db.close();
  const cpu = { single: cpuSingle / singles.done, batched: cpuBatched / DOCS, reads: cpuReads / reads.count, query: (cpuQueryUsed.user + cpuQueryUsed.system) / scans, updates: cpuUpdates / updates.done };
  return { single: singles.rate, batched, reads: reads.rate, p50: reads.p50, p99: reads.p99, queryMs, updates: updates.rate, loaded: DOCS, cpu };
}

async function rssRun(dir: string): Promise<void> {
  const store = new EmbeddedDocumentStore('rss', { path: join(dir, 'rss'), clock: systemClock, logger: silentLogger });
  await store.start();
  const c = store.collection('small');
  await c.ensureIndexes([{ name: 'k', key: { k: 1 }, unique: true }]);
  const start = performance.now();
  for (let i = 0; i < RSS_DOCS; i += 10_000) {
    await c.insertMany(Array.from({ length: Math.min(10_000, RSS_DOCS - i) }, (_, j) => ({ _id: i + j, k: `k${i + j}`, v: (i + j) % 1000 })));
  }
  const loaded = performance.now() - start;
  for (let i = 0; i < 100_000; i++) await c.findOne({ k: `k${(i * 7919) % RSS_DOCS}` });
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(`RSS with ${fmt(RSS_DOCS)} documents: ${fmt(rss / 2 ** 20)} MB (heap ${fmt(heapUsed / 2 ** 20)} MB); loaded in ${(loaded / 1000).toFixed(1)} s; target < 500 MB`);
  await store.close();
}

function row(label: string, f: Figures, base?: Figures): string {
  const r = (a: number, b: number | undefined, lowerBetter = false): string => (b === undefined ? '' : ` (${Math.round(((lowerBetter ? b / a : a / b) * 100))}%)`);
  return [
    label.padEnd(10),
    `${fmt(f.single)}${r(f.single, base?.single)}`.padStart(16),
    `${fmt(f.batched)}${r(f.batched, base?.batched)}`.padStart(18),
    `${fmt(f.reads)}${r(f.reads, base?.reads)}`.padStart(17),
    `${f.p50.toFixed(3)}/${f.p99.toFixed(3)}`.padStart(14),
    `${f.queryMs.toFixed(2)}${r(f.queryMs, base?.queryMs, true)}`.padStart(16),
    `${fmt(f.updates)}${r(f.updates, base?.updates)}`.padStart(16),
    fmt(f.loaded).padStart(9),
  ].join(' ');
}

const dir = mkdtempSync(join(tmpdir(), 'mia-run-bench-store-'));
try {
  if (RSS_DOCS > 0) {
    await rssRun(dir);
  } else {
    console.log(`documents: ${fmt(DOCS)}; single inserts and updates: ${fmt(SINGLE)} by ${WRITERS} writers; point reads: ${fmt(READS)}; queries: ${QUERIES}`);
    const baseline = await runBaseline(dir);
    const embedded = new EmbeddedDocumentStore('bench', { path: join(dir, 'embedded'), clock: systemClock, logger: silentLogger });
    await embedded.start();
    const emb = await runStore(embedded);
    await embedded.close();
    let mongo: Figures | undefined;
    let mongoError: string | undefined;
    if (process.env.MONGODB_URL) {
      const store = new MongoDocumentStore({ name: 'bench', config: { kind: 'mongodb', url: process.env.MONGODB_URL, database: `bench_${Date.now()}`, connectTimeout: 10_000 }, clock: systemClock, logger: silentLogger });
      try {
        await store.start();
        mongo = await runStore(store);
      } catch (error) {
        mongoError = (error as Error).message;
      } finally {
        // Best effort: a failed server must not hide the figures already measured.
        for (const name of await store.listCollections().catch(() => [])) await store.collection(name).drop().catch(() => undefined);
        await store.close().catch(() => undefined);
      }
    }
    console.log(`${''.padEnd(10)} ${'single ins/s'.padStart(16)} ${'batched ins/s'.padStart(18)} ${'point reads/s'.padStart(17)} ${'p50/p99 ms'.padStart(14)} ${'query ms'.padStart(16)} ${'updates/s'.padStart(16)} ${'docs'.padStart(9)}`);
    console.log(row('lmdb raw', baseline));
    console.log(row('embedded', emb, baseline));
    console.log(mongo !== undefined ? row('mongodb', mongo, baseline) : mongoError !== undefined ? `mongodb    failed: ${mongoError}` : 'mongodb    skipped: set MONGODB_URL to run');
    console.log('(percentages: share of the raw lmdb baseline; for the query, baseline time / store time)');
    console.log('CPU µs per operation (process, all threads): single, batched, point read, query, update');
    const cpuRow = (label: string, f: Figures): string => `${label.padEnd(10)} ${[f.cpu.single, f.cpu.batched, f.cpu.reads, f.cpu.query, f.cpu.updates].map((v) => v.toFixed(1).padStart(10)).join(' ')}`;
    console.log(cpuRow('lmdb raw', baseline));
    console.log(cpuRow('embedded', emb));
    if (mongo !== undefined) console.log(cpuRow('mongodb', mongo));
    const ok = (cond: boolean): string => (cond ? 'ok' : 'MISSED');
    console.log(`targets: single >= 20,000/s ${ok(emb.single >= 20_000)}; point reads >= 100,000/s ${ok(emb.reads >= 100_000)}; p99 < 1 ms ${ok(emb.p99 < 1)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
