// CRUD benchmark (issue 6), baseline measured in the same run with autocannon: the mia-run CRUD routes of a
// collection vs a hand-written Fastify server doing the same store calls (same embedded store, same data):
// GET /:id, list with a filter and _l=25 over --docs documents (default 100,000), POST /, PATCH /:id.
// Each server runs in a child process (one core), autocannon in this one. Targets: >= 0.8x the baseline
// requests/s on every route; on the embedded store >= 10,000 GET /:id requests/s with p99 < 10 ms.
// Usage: node --import tsx bench/crud.ts [--dist <dir>] [--duration 5] [--connections 20] [--docs 100000] [--mongo-docs 2000] [--only 'GET /:id'] [--stores embedded,mongodb] [--order mia-run-first]
//        MONGODB_URL=... adds the same table on the MongoDB adapter (random database, dropped afterwards).
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { ObjectId } from 'bson';
import Fastify from 'fastify';
import { createEmbeddedDocumentStore } from '../src/adapters/store-embedded/index.js';
import { createMongoDocumentStore } from '../src/adapters/store-mongodb/index.js';
import type { CollectionDefinition } from '../src/config/sections/collections.js';
import { createCrud } from '../src/crud/index.js';
import { installErrorMapper } from '../src/http/error-mapper.js';
import { systemClock } from '../src/ports/clock.js';
import type { DocumentStore } from '../src/ports/document-store.js';
import { silentLogger } from '../src/ports/logger.js';
import { projectConfig } from '../test/helpers/project-config.js';
import { numberArg, stringArg } from './lib/args.js';
import { autocannon, type LoadResult } from './lib/autocannon.js';
import { processCpuMicros } from './lib/cpu.js';

/** One run: autocannon's figures and the server's CPU microseconds per request. */
interface Result extends LoadResult {
  readonly cpuPerRequest: number;
}


// `--dist <dir>`: the servers run compiled JavaScript (`tsc -p tsconfig.build.json --outDir <dir>`) instead of
// src through tsx, whose per-closure helpers inflate mia-run's cost next to a baseline of a few lines.
const distArg = stringArg('dist');
const DIST = distArg === undefined ? undefined : resolve(distArg);
const DURATION = numberArg('duration', 5);
const CONNECTIONS = numberArg('connections', 20);
let DOCS = numberArg('docs', 100_000);
/** FerretDB (the MongoDB-protocol test server) scans for most filters: its run uses fewer documents. */
const MONGO_DOCS = numberArg('mongo-docs', 2_000);
const CATEGORIES = 200;
const ONLY = stringArg('only');
/** `--stores mongodb`: only these stores (default: embedded, and mongodb when MONGODB_URL is set). */
const STORES = new Set((stringArg('stores') ?? 'embedded,mongodb').split(','));
/** `--order mia-run-first` runs mia-run before the baseline (to check that order does not matter). */
const SERVERS = process.argv.includes('mia-run-first') ? ['mia-run', 'baseline'] : ['baseline', 'mia-run'];

const products: CollectionDefinition = {
  name: 'products',
  endpointBasePath: '/products',
  defaultState: 'PUBLIC',
  fields: [
    { name: 'sku', type: 'string', required: true },
    { name: 'name', type: 'string', required: true },
    { name: 'price', type: 'number' },
    { name: 'category', type: 'string' },
    { name: 'tags', type: 'Array', items: { type: 'string' } },
  ],
  indexes: [
    { name: 'sku_unique', type: 'normal', unique: true, fields: [{ name: 'sku', order: 1 }] },
    { name: 'by_category', type: 'normal', fields: [{ name: 'category', order: 1 }] },
  ],
};

interface Modules {
  readonly createEmbeddedDocumentStore: typeof createEmbeddedDocumentStore;
  readonly createMongoDocumentStore: typeof createMongoDocumentStore;
  readonly createCrud: typeof createCrud;
  readonly installErrorMapper: typeof installErrorMapper;
}

/** The mia-run code the servers run: src (through tsx) or the compiled `--dist` tree. */
async function modules(): Promise<Modules> {
  if (DIST === undefined) return { createEmbeddedDocumentStore, createMongoDocumentStore, createCrud, installErrorMapper };
  const from = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(DIST, `${path}.js`)).href)) as T;
  return {
    ...(await from<Pick<Modules, 'createEmbeddedDocumentStore'>>('adapters/store-embedded/index')),
    ...(await from<Pick<Modules, 'createMongoDocumentStore'>>('adapters/store-mongodb/index')),
    ...(await from<Pick<Modules, 'createCrud'>>('crud/index')),
    ...(await from<Pick<Modules, 'installErrorMapper'>>('http/error-mapper')),
  };
}

function openStore(kind: string, where: string, m: Pick<Modules, 'createEmbeddedDocumentStore' | 'createMongoDocumentStore'> = { createEmbeddedDocumentStore, createMongoDocumentStore }): DocumentStore {
  if (kind === 'mongodb') return m.createMongoDocumentStore('default', { kind: 'mongodb', url: process.env.MONGODB_URL ?? '', database: where, connectTimeout: 10_000 }, { clock: systemClock, logger: silentLogger });
  return m.createEmbeddedDocumentStore('default', { kind: 'embedded', path: where }, { dataDir: where, clock: systemClock, logger: silentLogger });
}

/** Child-process side: one server over the seeded store; prints its URL. */
async function serve(server: string, kind: string, where: string): Promise<void> {
  const m = await modules();
  const store = openStore(kind, where, m);
  await store.start();
  const app = Fastify({ bodyLimit: 1 << 20 });
  if (server === 'mia-run') {
    const crud = m.createCrud({
      config: projectConfig({ collections: [products] }), stores: new Map([['default', store]]), bus: store, logger: silentLogger,
      clock: systemClock, dataDir: where, roles: ['crud'], targets: { get: () => undefined, list: () => [] },
    });
    await crud.start();
    m.installErrorMapper(app);
    await app.register(crud.routes.get('products')!, { prefix: '/products' });
  } else {
    // The hand-written baseline: the same store calls and answers, no descriptor, no checks.
    const c = store.collection('products');
    const wire = (doc: Record<string, unknown>) => doc;
    app.get<{ Params: { id: string } }>('/products/:id', async (req, reply) => {
      if (!ObjectId.isValid(req.params.id)) return reply.code(404).send({ error: 'not found' });
      const doc = await c.findOne({ _id: new ObjectId(req.params.id), __STATE__: 'PUBLIC' });
      return doc === null ? reply.code(404).send({ error: 'not found' }) : wire(doc);
    });
    app.get<{ Querystring: { category?: string; _l?: string } }>('/products/', async (req) =>
      c.find({ category: req.query.category, __STATE__: 'PUBLIC' }, { limit: Number(req.query._l ?? 25) }).toArray());
    app.post<{ Body: Record<string, unknown> }>('/products/', async (req) => {
      const now = new Date();
      const doc = { _id: new ObjectId(), ...req.body, __STATE__: 'PUBLIC', creatorId: 'public', createdAt: now, updaterId: 'public', updatedAt: now };
      await c.insertOne(doc);
      return { _id: doc._id };
    });
    app.patch<{ Params: { id: string }; Body: Record<string, Record<string, unknown>> }>('/products/:id', async (req, reply) => {
      const doc = await c.findOneAndUpdate({ _id: new ObjectId(req.params.id), __STATE__: 'PUBLIC' }, { $set: { ...req.body.$set, updaterId: 'public', updatedAt: new Date() } }, { returnDocument: 'after' });
      return doc === null ? reply.code(404).send({ error: 'not found' }) : doc;
    });
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${url}\n`);
  process.on('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)));
}

async function seed(kind: string, where: string): Promise<string[]> {
  const store = openStore(kind, where);
  await store.start();
  const c = store.collection('products');
  await c.ensureIndexes([{ name: 'sku_unique', key: { sku: 1 }, unique: true }, { name: 'by_category', key: { category: 1 } }]);
  const ids: string[] = [];
  const now = new Date();
  for (let start = 0; start < DOCS; start += 1000) {
    const batch = [];
    for (let i = start; i < Math.min(DOCS, start + 1000); i++) {
      const _id = new ObjectId();
      if (i % 100 === 0) ids.push(_id.toHexString());
      batch.push({ _id, sku: `sku-${i}`, name: `Product ${i}`, price: i % 997, category: `cat-${i % CATEGORIES}`, tags: ['a', 'b'], __STATE__: 'PUBLIC', creatorId: 'seed', createdAt: now, updaterId: 'seed', updatedAt: now });
    }
    await c.insertMany(batch);
  }
  await store.close();
  return ids;
}

function startServer(server: string, kind: string, where: string): Promise<{ url: string; child: ChildProcess }> {
  const args = ['--import', 'tsx', new URL(import.meta.url).pathname, '--serve', server, kind, where, ...(DIST === undefined ? [] : ['--dist', DIST])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${server} server exited with ${code}`)));
    child.stdout!.once('data', (d: Buffer) => resolve({ url: d.toString().trim(), child }));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

let counter = 0;
const pick = (ids: readonly string[]): string => ids[Math.floor(Math.random() * ids.length)]!;

function scenarios(ids: readonly string[], tag: string) {
  return {
    'GET /:id': { requests: [{ method: 'GET', setupRequest: (r: Record<string, unknown>) => ({ ...r, path: `/products/${pick(ids)}` }) }] },
    'GET /?category=&_l=25': { requests: [{ method: 'GET', setupRequest: (r: Record<string, unknown>) => ({ ...r, path: `/products/?category=cat-${Math.floor(Math.random() * CATEGORIES)}&_l=25` }) }] },
    'POST /': {
      requests: [{
        method: 'POST', path: '/products/', headers: { 'content-type': 'application/json' },
        setupRequest: (r: Record<string, unknown>) => ({ ...r, body: JSON.stringify({ sku: `new-${tag}-${counter++}`, name: 'New', price: 1, category: 'cat-new', tags: ['x'] }) }),
      }],
    },
    'PATCH /:id': {
      requests: [{
        method: 'PATCH', headers: { 'content-type': 'application/json' },
        setupRequest: (r: Record<string, unknown>) => ({ ...r, path: `/products/${pick(ids)}`, body: JSON.stringify({ $set: { price: Math.floor(Math.random() * 1000) } }) }),
      }],
    },
  };
}

const ROUNDS = numberArg('rounds', 3);

function average(results: readonly Result[]): Result {
  const mean = (f: (r: Result) => number): number => results.reduce((a, r) => a + f(r), 0) / results.length;
  return {
    requests: { average: mean((r) => r.requests.average) },
    latency: { p50: mean((r) => r.latency.p50), p99: mean((r) => r.latency.p99), average: mean((r) => r.latency.average) },
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    cpuPerRequest: mean((r) => r.cpuPerRequest),
  };
}

/**
 * Both servers run at once, each on its own copy of the seeded data; runs alternate (baseline, mia-run,
 * baseline, ...) for `--rounds` rounds so that load changes on the machine hit both alike.
 */
async function measure(kind: string, where: Readonly<Record<string, string>>, ids: readonly string[]): Promise<void> {
  const servers = await Promise.all(SERVERS.map(async (server) => ({ server, ...(await startServer(server, kind, where[server]!)) })));
  const results: Record<string, Record<string, Result[]>> = {};
  try {
    for (const server of servers) for (const [name, scenario] of Object.entries(scenarios(ids, `${kind}-${server.server}-warm`))) {
      if (ONLY === undefined || name.includes(ONLY)) await autocannon({ url: server.url, connections: CONNECTIONS, duration: 1, ...scenario });
    }
    for (const name of Object.keys(scenarios(ids, ''))) {
      if (ONLY !== undefined && !name.includes(ONLY)) continue;
      for (let round = 0; round < ROUNDS; round++) {
        for (const { server, url, child } of servers) {
          const scenario = scenarios(ids, `${kind}-${server}-${round}`)[name as keyof ReturnType<typeof scenarios>];
          const before = processCpuMicros(child.pid);
          const load = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...scenario });
          const result = { ...load, cpuPerRequest: (processCpuMicros(child.pid) - before) / (load.requests.average * DURATION) };
          if (result.non2xx > 0 || result.errors > 0) console.warn(`  ${server} ${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
          ((results[name] ??= {})[server] ??= []).push(result);
        }
      }
    }
  } finally {
    await Promise.all(servers.map((s) => stopServer(s.child)));
  }
  const fewer = kind === 'mongodb' ? ' (--mongo-docs: fewer than the embedded run, the MongoDB-protocol test server scans for most filters)' : '';
  console.log(`\nstore: ${kind}, ${DOCS} documents${fewer}, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${DURATION}s per server and route; mia-run from ${DIST ?? 'src (tsx; pass --dist for compiled code)'}`);
  console.log('route                    baseline req/s   mia-run req/s   ratio   mia-run p50/p99 ms   server CPU µs/req (baseline/mia-run)   target');
  for (const [name, byServer] of Object.entries(results)) {
    const base = average(byServer.baseline!);
    const mine = average(byServer['mia-run']!);
    const ratio = mine.requests.average / base.requests.average;
    const extra = kind === 'embedded' && name === 'GET /:id' ? ` and >= 10000 req/s, p99 < 10 ms: ${mine.requests.average >= 10_000 && mine.latency.p99 < 10 ? 'ok' : 'MISSED'}` : '';
    console.log(`${name.padEnd(24)} ${base.requests.average.toFixed(0).padStart(14)} ${mine.requests.average.toFixed(0).padStart(15)} ${ratio.toFixed(2).padStart(7)}   ${`${mine.latency.p50.toFixed(1)}/${mine.latency.p99.toFixed(1)}`.padStart(18)}   ${`${base.cpuPerRequest.toFixed(0)}/${mine.cpuPerRequest.toFixed(0)}`.padStart(36)}   >= 0.8x: ${ratio >= 0.8 ? 'ok' : 'MISSED'}${extra}`);
  }
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-bench-crud-'));
  try {
    let started = Date.now();
    if (STORES.has('embedded')) {
      const ids = await seed('embedded', join(dir, 'baseline'));
      await cp(join(dir, 'baseline'), join(dir, 'mia-run'), { recursive: true });
      console.log(`seeded ${DOCS} documents on the embedded store in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      await measure('embedded', { baseline: join(dir, 'baseline'), 'mia-run': join(dir, 'mia-run') }, ids);
    }
    if (process.env.MONGODB_URL && STORES.has('mongodb')) {
      const database = `bench_crud_${randomBytes(4).toString('hex')}`;
      DOCS = MONGO_DOCS;
      started = Date.now();
      const mongoIds = await seed('mongodb', database);
      console.log(`seeded ${DOCS} documents on MongoDB in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      try {
        // Both servers share the database: the writes of one are visible to the other, as on a real deployment.
        await measure('mongodb', { baseline: database, 'mia-run': database }, mongoIds);
      } finally {
        const store = openStore('mongodb', database);
        await store.start();
        await store.collection('products').drop();
        await store.close();
      }
    } else {
      console.log('\nMongoDB: skipped (set MONGODB_URL to run)');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
