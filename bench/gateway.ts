// Gateway benchmark (issue 7), every baseline measured in the same run with autocannon:
//  (a) in-process dispatch: a trivial in-process route behind an endpoint with client-key auth + ACL + rate
//      limit, vs the same route on bare Fastify (target >= 0.9x requests/s);
//  (b) proxy: mia-run proxying to a local upstream vs @fastify/http-proxy vs calling the upstream directly
//      (target >= 1.0x @fastify/http-proxy requests/s; added p99 < 1 ms at a moderate fixed rate);
//  (c) BFF: one composed endpoint making three upstream calls vs a handler making them in sequence.
// Servers run in child processes (the upstream in its own), autocannon in this one. On a shared machine
// requests/s swing with the load of other processes, so each run also reports the server process's CPU
// time per request (user + system, read from the child before and after): the cost the gateway adds.
// Usage: node --import tsx bench/gateway.ts [--dist <dir>] [--duration 3] [--connections 50] [--rate 1000] [--only a,b,c] [--rounds 1]
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyPluginAsync } from 'fastify';
import { Pool } from 'undici';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { createGateway as CreateGateway } from '../src/gateway/index.js';
import type { createRuntime as CreateRuntime } from '../src/runtime/create-runtime.js';
import type { Backend } from '../src/ports/lifecycle.js';
import type { ProjectConfig } from '../src/config/types.js';
import { projectConfig } from '../test/helpers/project-config.js';
import { numberArg, stringArg } from './lib/args.js';
import { autocannon, type LoadResult as Result } from './lib/autocannon.js';


// `--dist <dir>`: run the servers on compiled JavaScript (`npm run build`, or `tsc -p tsconfig.build.json
// --outDir <dir>`) rather than on src through tsx, whose per-closure helpers inflate the gateway's cost next
// to baselines that are compiled packages. Report numbers measured with --dist.
const distArg = stringArg('dist');
const DIST = distArg === undefined ? undefined : resolve(distArg);
const DURATION = numberArg('duration', 3);
const CONNECTIONS = numberArg('connections', 50);
const RATE = numberArg('rate', 1000);
// `--only a,b`: run only these parts (a: in-process dispatch, b: proxy, c: BFF).
// `--rounds n`: measure compared servers n times in alternation and keep each one's best run (most requests/s),
// which filters out the bursts of load other processes put on a shared machine.
const ROUNDS = numberArg('rounds', 1);
const PARTS = new Set((stringArg('only') ?? 'a,b,c').split(','));
const KEY = 'bench-client-key';
const policies = { timeouts: {}, retries: {}, circuitBreakers: {}, rateLimits: { lots: { requests: 10_000_000, per: 1000, key: 'client' as const } }, bulkheads: {} };

const hello: FastifyPluginAsync = async (app) => {
  app.get('/', async () => ({ hello: 'world' }));
};

async function listen(app: { listen(o: { port: number; host: string }): Promise<string> }): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

/** Child-process side: starts one server kind and prints its URL. */
async function serve(kind: string, upstream: string | undefined): Promise<string> {
  const from = (path: string): Promise<unknown> => import(DIST ? pathToFileURL(`${DIST}/${path}.js`).href : `../src/${path}.js`);
  const { createGateway } = (await from('gateway/index')) as { createGateway: typeof CreateGateway };
  const { createRuntime } = (await from('runtime/create-runtime')) as { createRuntime: typeof CreateRuntime };
  const { silentLogger } = (await from('ports/logger')) as typeof import('../src/ports/logger.js');
  const backend = (kind: string, name: string): Backend => ({ kind, name, features: new Set(), start: async () => {}, health: async () => ({ name, status: 'OK' }), close: async () => {} });
  const backends = { 'store.embedded': (name: string) => backend('store.embedded', name), 'bus.embedded': (name: string) => backend('bus.embedded', name) };
  const runtime = (overrides: Parameters<typeof projectConfig>[0], targets = new Map<string, FastifyPluginAsync>()) =>
    createRuntime(projectConfig(overrides) as ProjectConfig, {
      port: 0,
      logger: silentLogger,
      backends,
      capabilities: [
        { name: 'gateway', role: 'gateway', create: createGateway },
        { name: 'crud', role: 'crud', create: () => ({ name: 'crud', routes: targets, start: async () => {}, stop: async () => {}, health: async () => ({ name: 'crud', status: 'OK' }) }) },
      ],
    })
      .start()
      .then((r) => r.url);
  switch (kind) {
    case 'upstream': {
      const body = JSON.stringify({ id: 1, name: 'item', price: 10, tags: ['a', 'b'] });
      const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    case 'slow-upstream': {
      // Answers after 5 ms, like a real service: what composition saves is waiting, not CPU.
      const body = JSON.stringify({ id: 1, name: 'item' });
      const server = createServer((req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), 5));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    case 'bare-fastify': {
      const app = Fastify({ logger: false });
      await app.register(hello, { prefix: '/api/hello' });
      return listen(app);
    }
    case 'gateway-in-process':
      return runtime(
        {
          auth: { apiKeys: [{ key: KEY, clientType: 'web' }] },
          policies,
          collections: [{ name: 'hello' }],
          endpoints: [{ basePath: '/api/hello', target: { collection: 'hello' }, public: true, acl: 'clientType == "web" || groups.admin', rateLimit: 'lots' }],
        },
        new Map([['hello', hello]]),
      );
    case 'gateway-proxy':
      return runtime({ upstreams: { up: { url: upstream!, policies: [] } }, endpoints: [{ basePath: '/api', target: { upstream: 'up' }, public: true }] });
    case 'forward-only': {
      // The proxy module alone on bare Fastify: separates the proxy's cost from the runtime shell's.
      const { createUpstreamClient, forward } = (await from('gateway/proxy/index')) as typeof import('../src/gateway/proxy/index.js');
      const client = createUpstreamClient({ url: upstream! });
      const app = Fastify({ logger: false });
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', (_request, _payload, done) => done(null));
      app.all('/api/*', async (request, reply) => {
        reply.hijack();
        await forward({ req: request.raw, res: reply.raw, client, upstream: 'up', path: request.raw.url ?? '/', requestId: request.id });
      });
      return listen(app);
    }
    case 'fastify-http-proxy': {
      const app = Fastify({ logger: false });
      const { default: proxy } = await import('@fastify/http-proxy');
      await app.register(proxy, { upstream: upstream!, prefix: '/api', rewritePrefix: '/api' });
      return listen(app);
    }
    case 'gateway-bff':
      return runtime({
        upstreams: { up: { url: upstream!, policies: [] } },
        endpoints: [{ basePath: '/page', public: true, compose: ['a', 'b', 'c'].map((name) => ({ name, call: { upstream: 'up', path: `/${name}` } })) }],
      });
    case 'sequential-bff': {
      const pool = new Pool(upstream!, { connections: 128 });
      const app = Fastify({ logger: false });
      app.get('/page', async () => {
        const out: Record<string, unknown> = {};
        for (const name of ['a', 'b', 'c']) out[name] = await (await pool.request({ method: 'GET', path: `/${name}` })).body.json();
        return out;
      });
      return listen(app);
    }
    default:
      throw new Error(`unknown server kind ${kind}`);
  }
}

/** Parent side: starts a server kind in a child process and resolves with its URL. */
function start(kind: string, upstream?: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--serve', kind, upstream ?? '-', ...(DIST ? ['--dist', DIST] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^URL (\S+)$/m.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

/** CPU microseconds (user + system) the child has used so far. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onData = (d: Buffer): void => {
      const m = /^CPU (\d+)$/m.exec(d.toString());
      if (!m) return;
      child.stdout!.off('data', onData);
      resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stdin!.write('cpu\n');
  });
}

interface Measured extends Result {
  /** Server CPU microseconds per request. */
  cpuPerRequest: number;
}

async function measure(label: string, target: { url: string; child: ChildProcess }, path: string, options: Record<string, unknown> = {}): Promise<Measured> {
  const url = target.url + path;
  await autocannon({ url, connections: 10, duration: 1, ...options }); // warm-up (JIT, keep-alive pools)
  const before = await cpuOf(target.child);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...options });
  const total = result.requests.average * DURATION;
  const cpuPerRequest = total > 0 ? ((await cpuOf(target.child)) - before) / total : Number.NaN;
  console.log(`  ${label.padEnd(40)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   server CPU ${cpuPerRequest.toFixed(0)} µs/req${result.non2xx || result.errors ? `   (non-2xx ${result.non2xx}, errors ${result.errors})` : ''}`);
  return { ...result, cpuPerRequest };
}

interface Contender {
  readonly label: string;
  readonly target: { url: string; child: ChildProcess };
  readonly path: string;
  readonly options?: Record<string, unknown>;
}

/** Measures the contenders in alternation, `ROUNDS` times, and returns each one's best run (highest `score`). */
async function alternate<T extends readonly Contender[]>(contenders: readonly [...T], score = (m: Measured): number => m.requests.average): Promise<{ [K in keyof T]: Measured }> {
  const best: (Measured | undefined)[] = contenders.map(() => undefined);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of contenders.entries()) {
      const m = await measure(ROUNDS > 1 ? `${c.label} #${round + 1}` : c.label, c.target, c.path, c.options);
      if (best[i] === undefined || score(m) > score(best[i]!)) best[i] = m;
    }
  }
  return best as { [K in keyof T]: Measured };
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  const run = async (kind: string, upstream?: string): Promise<{ url: string; child: ChildProcess }> => {
    const started = await start(kind, upstream);
    children.push(started.child);
    return started;
  };
  const stop = (): void => children.splice(0).forEach((c) => c.kill('SIGKILL'));
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  try {
    console.log(`gateway benchmark: ${DURATION} s per run, ${CONNECTIONS} connections (moderate load: ${RATE} req/s); mia-run from ${DIST ?? 'src (tsx; pass --dist for compiled code)'}`);
    const lines: string[] = [];
    if (PARTS.has('a')) {
      console.log('(a) in-process dispatch: auth (client key) + ACL + rate limit vs bare Fastify');
      const [bare, gw] = await alternate([
        { label: 'bare Fastify route', target: await run('bare-fastify'), path: '/api/hello' },
        { label: 'mia-run endpoint -> in-process target', target: await run('gateway-in-process'), path: '/api/hello', options: { headers: { 'client-key': KEY } } },
      ]);
      stop();
      lines.push(`  (a) in-process / bare Fastify:           ${ratio(gw.requests.average, bare.requests.average)} [CPU ${ratio(gw.cpuPerRequest, bare.cpuPerRequest)}] (target >= 0.90x)`);
    }

    let upstream: { url: string; child: ChildProcess } | undefined;
    if (PARTS.has('b')) {
      console.log('(b) proxy to a local upstream');
      upstream = await run('upstream');
      const direct = await measure('direct to the upstream', upstream, '/api/x');
      // Each proxy gets its own fresh upstream process, so no run inherits another's sockets or heap.
      const upstreamFor = async (): Promise<string> => (await run('upstream')).url;
      const gatewayProxy = await run('gateway-proxy', await upstreamFor());
      const forwardOnlyServer = await run('forward-only', await upstreamFor());
      const httpProxyServer = await run('fastify-http-proxy', await upstreamFor());
      const [gwProxy, forwardOnly, httpProxy] = await alternate([
        { label: 'mia-run proxy', target: gatewayProxy, path: '/api/x' },
        { label: 'mia-run proxy module on bare Fastify', target: forwardOnlyServer, path: '/api/x' },
        { label: '@fastify/http-proxy', target: httpProxyServer, path: '/api/x' },
      ]);
      // Added latency at a moderate fixed rate (autocannon overallRate), where neither server is saturated.
      const moderate = { connections: 10, overallRate: RATE };
      const [directModerate, proxyModerate, httpProxyModerate] = await alternate([
        { label: `direct, ${RATE} req/s`, target: upstream, path: '/api/x', options: moderate },
        { label: `mia-run proxy, ${RATE} req/s`, target: gatewayProxy, path: '/api/x', options: moderate },
        { label: `@fastify/http-proxy, ${RATE} req/s`, target: httpProxyServer, path: '/api/x', options: moderate },
      ], (m) => -m.latency.p99);
      lines.push(`  (b) mia-run proxy / @fastify/http-proxy: ${ratio(gwProxy.requests.average, httpProxy.requests.average)} [CPU ${ratio(gwProxy.cpuPerRequest, httpProxy.cpuPerRequest)}] (target >= 1.00x)`);
      lines.push(`  (b) mia-run proxy / direct:              ${ratio(gwProxy.requests.average, direct.requests.average)}`);
      lines.push(`  (b) proxy module alone / @fastify/http-proxy: ${ratio(forwardOnly.requests.average, httpProxy.requests.average)} [CPU ${ratio(forwardOnly.cpuPerRequest, httpProxy.cpuPerRequest)}]`);
      lines.push(
        `  (b) added p99 at ${RATE} req/s: mia-run ${(proxyModerate.latency.p99 - directModerate.latency.p99).toFixed(2)} ms, @fastify/http-proxy ${(httpProxyModerate.latency.p99 - directModerate.latency.p99).toFixed(2)} ms (target < 1 ms); p99 direct / mia-run / @fastify/http-proxy ${directModerate.latency.p99} / ${proxyModerate.latency.p99} / ${httpProxyModerate.latency.p99} ms; p50 ${directModerate.latency.p50} / ${proxyModerate.latency.p50} / ${httpProxyModerate.latency.p50} ms`,
      );
    }

    if (PARTS.has('c')) {
      console.log('(c) BFF: three upstream calls');
      upstream ??= await run('upstream');
      const composed = await measure('mia-run compose (parallel)', await run('gateway-bff', upstream.url), '/page');
      const sequential = await measure('handler calling them in sequence', await run('sequential-bff', upstream.url), '/page');
      const slow = (await run('slow-upstream')).url;
      const oneCaller = { connections: 1 };
      const composedSlow = await measure('compose, 5 ms upstream, 1 caller', await run('gateway-bff', slow), '/page', oneCaller);
      const sequentialSlow = await measure('sequence, 5 ms upstream, 1 caller', await run('sequential-bff', slow), '/page', oneCaller);
      lines.push(`  (c) compose / sequential:                ${ratio(composed.requests.average, sequential.requests.average)} [CPU ${ratio(composed.cpuPerRequest, sequential.cpuPerRequest)}]; mean latency ${composed.latency.average.toFixed(2)} vs ${sequential.latency.average.toFixed(2)} ms`);
      lines.push(`  (c) one caller, 5 ms upstream: compose p50 ${composedSlow.latency.p50} ms vs sequence ${sequentialSlow.latency.p50} ms (mean ${composedSlow.latency.average.toFixed(2)} vs ${sequentialSlow.latency.average.toFixed(2)} ms)`);
    }

    console.log('ratios (requests/s; server CPU per request in brackets, lower is cheaper)');
    for (const line of lines) console.log(line);
  } finally {
    stop();
  }
}

if (process.argv[2] === '--serve') {
  const url = await serve(process.argv[3]!, process.argv[4] === '-' ? undefined : process.argv[4]);
  console.log(`URL ${url}`);
  process.once('SIGTERM', () => process.exit(0)); // a clean exit, so --cpu-prof can write its profile
  process.stdin.on('data', () => {
    const { user, system } = process.cpuUsage();
    console.log(`CPU ${user + system}`);
  });
} else {
  await main();
}
