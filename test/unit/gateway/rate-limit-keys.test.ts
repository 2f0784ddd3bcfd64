import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import { createGateway } from '../../../src/gateway/index.js';
import { RATE_LIMIT_COLLECTION } from '../../../src/gateway/rate-limit/index.js';
import type { DocumentStore } from '../../../src/ports/document-store.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { createRuntime, type Runtime } from '../../../src/runtime/create-runtime.js';
import type { BackendFactories } from '../../../src/runtime/registry.js';
import { fakeBackends } from '../../helpers/fake-backends.js';
import { projectConfig, type ProjectConfigOverrides } from '../../helpers/project-config.js';
import { SECRET, emptyPolicies, startGateway, token, upstream } from './harness.js';

const keys = [
  { key: 'web-key-one', clientType: 'web' },
  { key: 'web-key-two', clientType: 'web' },
];

describe('rate limits count per client key, per user, per IP', () => {
  test('key: client — two keys of one client type have their own buckets; a caller without a key is counted by address', async () => {
    const clock = new ManualClock();
    const up = await upstream();
    const { runtime, url } = await startGateway(
      {
        auth: { apiKeys: keys },
        upstreams: { u: { url: up.url, policies: [] } },
        policies: { ...emptyPolicies, rateLimits: { perClient: { requests: 2, per: 60_000, key: 'client' } } },
        endpoints: [{ basePath: '/api', target: { upstream: 'u' }, public: true, rateLimit: 'perClient' }],
      },
      { clock },
    );
    try {
      const call = (headers: Record<string, string> = {}) => fetch(`${url}/api`, { headers });
      assert.equal((await call({ 'client-key': 'web-key-one' })).status, 200);
      assert.equal((await call({ 'client-key': 'web-key-one' })).status, 200);
      const third = await call({ 'client-key': 'web-key-one' });
      assert.equal(third.status, 429);
      assert.equal(third.headers.get('retry-after'), '30');
      assert.equal(third.headers.get('ratelimit-limit'), '2');
      assert.equal(third.headers.get('ratelimit-remaining'), '0');
      const other = await call({ 'client-key': 'web-key-two' });
      assert.equal(other.status, 200, 'another key of the same client type is not limited by the first');
      assert.equal(other.headers.get('ratelimit-remaining'), '1');
      assert.equal((await call({ cookie: 'mia_client_key=web-key-two' })).status, 200, 'the same key from the cookie shares its bucket');
      assert.equal((await call({ secret: 'web-key-two' })).status, 429);
      assert.equal((await call()).status, 200, 'no key: counted by address, apart from the keys');
      const metrics = await (await fetch(`${url}/-/metrics`)).text();
      assert.match(metrics, /^mia_run_gateway_rate_limit_rejections_total\{policy="perClient",scope="endpoint \/api"\} 2$/m);
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('key: user — each user has a bucket; anonymous callers share their address\'s', async () => {
    const clock = new ManualClock();
    const up = await upstream();
    const { runtime, url } = await startGateway(
      {
        auth: { jwt: { secret: SECRET } },
        upstreams: { u: { url: up.url, policies: [] } },
        policies: { ...emptyPolicies, rateLimits: { perUser: { requests: 1, per: 1_000, key: 'user' } } },
        endpoints: [{ basePath: '/api', target: { upstream: 'u' }, public: true, rateLimit: 'perUser' }],
      },
      { clock },
    );
    try {
      const ada = `Bearer ${await token({ sub: 'ada' }, clock.now())}`;
      const bob = `Bearer ${await token({ sub: 'bob' }, clock.now())}`;
      assert.equal((await fetch(`${url}/api`, { headers: { authorization: ada } })).status, 200);
      assert.equal((await fetch(`${url}/api`, { headers: { authorization: ada } })).status, 429);
      assert.equal((await fetch(`${url}/api`, { headers: { authorization: bob } })).status, 200);
      assert.equal((await fetch(`${url}/api`)).status, 200);
      assert.equal((await fetch(`${url}/api`)).status, 429);
      await clock.advance(1_000);
      assert.equal((await fetch(`${url}/api`, { headers: { authorization: ada } })).status, 200);
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('an upstream\'s own rate limit policy counts per client key too', async () => {
    const clock = new ManualClock();
    const up = await upstream();
    const { runtime, url } = await startGateway(
      {
        auth: { apiKeys: keys },
        upstreams: { u: { url: up.url, policies: ['perClient'] } },
        policies: { ...emptyPolicies, rateLimits: { perClient: { requests: 1, per: 60_000, key: 'client' } } },
        endpoints: [{ basePath: '/api', target: { upstream: 'u' }, public: true }],
      },
      { clock },
    );
    try {
      assert.equal((await fetch(`${url}/api`, { headers: { 'client-key': 'web-key-one' } })).status, 200);
      const limited = await fetch(`${url}/api`, { headers: { 'client-key': 'web-key-one' } });
      assert.equal(limited.status, 429);
      assert.equal(((await limited.json()) as { code: string }).code, 'MR_GW_RATE_LIMITED');
      assert.equal((await fetch(`${url}/api`, { headers: { 'client-key': 'web-key-two' } })).status, 200);
      assert.equal(up.seen.length, 2);
      const metrics = await (await fetch(`${url}/-/metrics`)).text();
      assert.match(metrics, /^mia_run_gateway_rate_limit_rejections_total\{policy="perClient",scope="upstream u"\} 1$/m);
    } finally {
      await runtime.stop();
      await up.close();
    }
  });
});

/** The one store instance both gateways use, as if each process opened the project's shared database. */
function sharedStore(store: DocumentStore): DocumentStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'start' || property === 'close') return async () => undefined; // the test owns its lifecycle
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('a rate limit shared by every process through the project\'s store', () => {
  let dir: string;
  let store: DocumentStore;
  const runtimes: Runtime[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-rate-'));
    store = createEmbeddedDocumentStore('limits', { kind: 'embedded', path: dir }, { dataDir: dir, clock: new ManualClock(), logger: silentLogger });
    await store.start();
  });
  after(async () => {
    await Promise.all(runtimes.map((r) => r.stop()));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (overrides: ProjectConfigOverrides, clock: ManualClock, backend: DocumentStore): Promise<string> => {
    const backends: BackendFactories = { ...fakeBackends().factories, 'store.embedded': () => sharedStore(backend) };
    const runtime = createRuntime(projectConfig(overrides), { port: 0, logger: silentLogger, backends, clock, capabilities: [{ name: 'gateway', role: 'gateway', create: createGateway }] });
    runtimes.push(runtime);
    return (await runtime.start()).url;
  };

  test('two gateways share one count per key and window; counters expire with the window; each key is counted apart', async () => {
    const clock = new ManualClock();
    const up = await upstream();
    const config: ProjectConfigOverrides = {
      databases: { limits: { kind: 'embedded', path: dir } },
      auth: { apiKeys: keys },
      upstreams: { u: { url: up.url, policies: [] } },
      policies: { ...emptyPolicies, rateLimits: { shared: { requests: 3, per: 60_000, key: 'client', store: 'limits' } } },
      endpoints: [{ basePath: '/api', target: { upstream: 'u' }, public: true, rateLimit: 'shared' }],
    };
    try {
      const first = await start(config, clock, store);
      const second = await start(config, clock, store);
      const one = { 'client-key': 'web-key-one' };
      const a = await fetch(`${first}/api`, { headers: one });
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('ratelimit-remaining'), '2');
      assert.equal((await fetch(`${second}/api`, { headers: one })).status, 200);
      const c = await fetch(`${first}/api`, { headers: one });
      assert.equal(c.status, 200);
      assert.equal(c.headers.get('ratelimit-remaining'), '0');
      const over = await fetch(`${second}/api`, { headers: one });
      assert.equal(over.status, 429, 'the other process sees the same count');
      assert.equal(over.headers.get('retry-after'), '60');
      assert.equal(((await over.json()) as { code: string }).code, 'MR_GW_RATE_LIMITED');
      assert.equal((await fetch(`${second}/api`, { headers: { 'client-key': 'web-key-two' } })).status, 200);
      assert.equal(up.seen.length, 4);

      const counters = await store.collection(RATE_LIMIT_COLLECTION).find({}).toArray();
      assert.equal(counters.length, 2, 'one counter per key and window');
      assert.ok(counters.every((c) => c.expiresAt instanceof Date), 'counters carry their expiry for the TTL index');
      assert.deepEqual((await store.collection(RATE_LIMIT_COLLECTION).listIndexes()).map((i) => i.name).sort(), ['_id_', 'expiresAt_ttl']);

      await clock.advance(60_000);
      const next = await fetch(`${first}/api`, { headers: one });
      assert.equal(next.status, 200, 'a new window starts a new count');
      assert.equal(next.headers.get('ratelimit-remaining'), '2');
    } finally {
      await up.close();
    }
  });

  test('a shared rate limit in an upstream\'s policies counts across gateways too', async () => {
    const clock = new ManualClock();
    const up = await upstream();
    const config: ProjectConfigOverrides = {
      databases: { limits: { kind: 'embedded', path: dir } },
      upstreams: { u: { url: up.url, policies: ['upstreamShare'] } },
      policies: { ...emptyPolicies, rateLimits: { upstreamShare: { requests: 2, per: 60_000, key: 'ip', store: 'limits' } } },
      endpoints: [{ basePath: '/api', target: { upstream: 'u' }, public: true }],
    };
    try {
      const first = await start(config, clock, store);
      const second = await start(config, clock, store);
      const admitted = await fetch(`${first}/api`);
      assert.equal(admitted.status, 200);
      assert.equal(admitted.headers.get('ratelimit-remaining'), '1');
      assert.equal((await fetch(`${second}/api`)).status, 200);
      const over = await fetch(`${first}/api`);
      assert.equal(over.status, 429);
      assert.equal(over.headers.get('ratelimit-limit'), '2');
      assert.equal(up.seen.length, 2);
    } finally {
      await up.close();
    }
  });

  test('while the store fails, each process falls back to its own token bucket (neither open nor blocked)', async () => {
    const clock = new ManualClock();
    const up = await upstream();
    const broken = new Proxy(store, {
      get(target, property) {
        if (property === 'collection') return () => ({ ensureIndexes: async () => undefined, findOneAndUpdate: async () => Promise.reject(new Error('store down')) });
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    try {
      const url = await start(
        {
          databases: { limits: { kind: 'embedded', path: dir } },
          upstreams: { u: { url: up.url, policies: [] } },
          policies: { ...emptyPolicies, rateLimits: { shared: { requests: 2, per: 60_000, key: 'ip', store: 'limits' } } },
          endpoints: [{ basePath: '/api', target: { upstream: 'u' }, public: true, rateLimit: 'shared' }],
        },
        clock,
        broken,
      );
      assert.equal((await fetch(`${url}/api`)).status, 200);
      assert.equal((await fetch(`${url}/api`)).status, 200);
      assert.equal((await fetch(`${url}/api`)).status, 429);
    } finally {
      await up.close();
    }
  });
});
