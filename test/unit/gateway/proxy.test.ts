import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { buildPolicies } from '../../../src/resilience/build-policies.js';
import { createUpstreamClient, forward, requestIdOf, rewritePath, type ForwardOptions, type UpstreamClient } from '../../../src/gateway/proxy/index.js';
import { DEFAULT_BODY_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HEADERS_TIMEOUT } from '../../../src/gateway/proxy/upstream-client.js';
import { stripIdentityHeaders, identityHeaders } from '../../../src/gateway/auth/identity.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
const close = (server: Server) => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });

/** Polls a condition with a bound instead of sleeping. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const agent = new Agent({ keepAliveTimeout: 10 });

/** A request through node:http, which sends the path and headers exactly as given. */
function raw(base: string, path: string, headers: Record<string, string> = {}): Promise<{ statusCode: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = httpRequest({ hostname, port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ statusCode: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}
after(() => agent.close());

/** An upstream that records what it received and answers as the test's `respond` says. */
function recorder() {
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let respond: Handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  const handler: Handler = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      respond(req, res);
    });
  };
  return { seen, handler, setRespond: (h: Handler) => (respond = h) };
}

/** A gateway on port 0 that forwards everything to one upstream with the given options. */
async function gateway(client: UpstreamClient, extra: Partial<ForwardOptions> = {}) {
  const outcomes: number[] = [];
  const { server, url } = await listen((req, res) => {
    stripIdentityHeaders(req.headers, { trust: false });
    void forward({
      req, res, client, upstream: 'orders', requestId: requestIdOf(req.headers),
      path: rewritePath(req.url!, '/api/orders', '/v2', client.basePath), ...extra,
    }).then((o) => outcomes.push(o.statusCode));
  });
  return { server, url, outcomes };
}

describe('proxy to a real upstream', () => {
  const up = recorder();
  let upstream: { server: Server; url: string };
  let client: UpstreamClient;
  let gw: Awaited<ReturnType<typeof gateway>>;

  before(async () => {
    upstream = await listen(up.handler);
    client = createUpstreamClient({ url: `${upstream.url}/base` });
    gw = await gateway(client, { identityHeaders: identityHeaders({ userId: 'u1', groups: ['admin'], permissions: [], properties: {}, isBackoffice: false }) });
  });
  after(async () => {
    await close(gw.server);
    await client.close();
    await close(upstream.server);
  });

  test('rewrites the path, passes status, headers and body, sets x-forwarded-* and the request id both ways', async () => {
    up.setRespond((_req, res) => res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' }).end('{"id":1}'));
    const res = await request(`${gw.url}/api/orders/1?expand=items`, {
      dispatcher: agent,
      headers: { 'x-request-id': 'req-123', 'x-forwarded-for': '10.0.0.1', accept: 'application/json' },
    });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['x-upstream'], 'yes');
    assert.equal(res.headers['x-request-id'], 'req-123');
    assert.equal(await res.body.text(), '{"id":1}');
    const got = up.seen.at(-1)!;
    assert.equal(got.url, '/base/v2/1?expand=items');
    assert.equal(got.headers['x-request-id'], 'req-123');
    assert.equal(got.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(got.headers['x-forwarded-proto'], 'http');
    assert.equal(got.headers['x-forwarded-host'], new URL(gw.url).host);
    assert.equal(got.headers.accept, 'application/json');
    assert.equal(got.headers.host, new URL(upstream.url).host, 'host is the upstream\'s');
  });

  test('generates a request id when the caller sends none (or a hostile one)', async () => {
    const res = await request(`${gw.url}/api/orders`, { dispatcher: agent, headers: { 'x-request-id': 'not a valid id; <script>' } });
    await res.body.text();
    const id = res.headers['x-request-id'] as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(up.seen.at(-1)!.headers['x-request-id'], id);
  });

  test('hop-by-hop headers are removed both ways, including those listed in Connection', async () => {
    up.setRespond((_req, res) => {
      res.setHeader('connection', 'x-up-hop');
      res.setHeader('x-up-hop', 'secret');
      res.setHeader('x-kept', '1');
      res.end('ok');
    });
    // node:http sends the Connection header as written (undici's client would rewrite it).
    const res = await raw(gw.url, '/api/orders', {
      connection: 'keep-alive, x-client-hop', 'x-client-hop': 'v', te: 'trailers', 'proxy-authorization': 'Basic x', 'x-kept': 'yes',
    });
    assert.equal(res.headers['x-up-hop'], undefined);
    assert.equal(res.headers['x-kept'], '1');
    const got = up.seen.at(-1)!.headers;
    assert.equal(got['x-client-hop'], undefined);
    assert.equal(got.te, undefined);
    assert.equal(got['proxy-authorization'], undefined);
    assert.equal(got['x-kept'], 'yes');
  });

  test('spoofed identity headers never reach the upstream; the gateway\'s own do', async () => {
    const res = await request(`${gw.url}/api/orders`, {
      dispatcher: agent,
      headers: { miauserid: 'root', miausergroups: 'superadmin', acl_rows: '{}', isbackoffice: 'true' },
    });
    await res.body.text();
    const got = up.seen.at(-1)!.headers;
    assert.equal(got.miauserid, 'u1');
    assert.equal(got.miausergroups, 'admin');
    assert.equal(got.isbackoffice, 'false');
    assert.equal(got.acl_rows, undefined);
  });

  test('the upstream\'s own 4xx and 5xx pass through unchanged', async () => {
    for (const status of [404, 500, 503]) {
      up.setRespond((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(`{"upstream":${status}}`));
      const res = await request(`${gw.url}/api/orders/x`, { dispatcher: agent });
      assert.equal(res.statusCode, status);
      assert.equal(await res.body.text(), `{"upstream":${status}}`);
    }
  });

  test('request and response bodies stream both ways (5 MiB echo, chunked response)', async () => {
    up.setRespond((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from(up.seen.at(-1)!.body));
    });
    const payload = Buffer.alloc(5 * 1024 * 1024, 'abcdefgh');
    const res = await request(`${gw.url}/api/orders/upload`, { dispatcher: agent, method: 'POST', body: payload });
    const echoed = Buffer.from(await res.body.arrayBuffer());
    assert.equal(echoed.length, payload.length);
    assert.equal(createHash('sha256').update(echoed).digest('hex'), createHash('sha256').update(payload).digest('hex'));
  });

  test('the first bytes reach the client before the upstream has finished (no buffering)', async () => {
    let finish!: () => void;
    up.setRespond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      finish = () => res.end('last');
    });
    const res = await request(`${gw.url}/api/orders/stream`, { dispatcher: agent });
    const reader = res.body[Symbol.asyncIterator]();
    const first = await reader.next();
    assert.equal(Buffer.from(first.value as Buffer).toString(), 'first;');
    finish();
    let rest = '';
    for (let r = await reader.next(); !r.done; r = await reader.next()) rest += Buffer.from(r.value as Buffer).toString();
    assert.equal(rest, 'last');
  });

  test('a client that goes away cancels the upstream request', async () => {
    let upstreamClosed = false;
    up.setRespond((_req, res) => {
      res.writeHead(200);
      res.write('partial');
      res.on('close', () => (upstreamClosed = true));
    });
    const res = await request(`${gw.url}/api/orders/slow`, { dispatcher: agent });
    const reader = res.body[Symbol.asyncIterator]();
    await reader.next();
    res.body.destroy();
    await waitFor(() => upstreamClosed, 'the upstream connection to close');
  });

  test('paths with dot segments are refused before reaching the upstream', async () => {
    const count = up.seen.length;
    for (const path of ['/api/orders/%2e%2e/admin', '/api/orders/../admin', '/api/orders/./x']) {
      const res = await raw(gw.url, path); // WHATWG URL parsing in a client would normalise these away
      assert.equal(res.statusCode, 400, path);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'MR_HTTP_BAD_REQUEST');
    }
    assert.equal(up.seen.length, count);
  });
});

describe('proxy errors and timeouts', () => {
  test('an unreachable upstream is 502 MR_GW_UPSTREAM_UNAVAILABLE as JSON', async () => {
    const probe = await listen(() => {});
    await close(probe.server);
    const client = createUpstreamClient({ url: probe.url });
    const gw = await gateway(client);
    try {
      const res = await request(`${gw.url}/api/orders`, { dispatcher: agent });
      assert.equal(res.statusCode, 502);
      assert.match(res.headers['content-type'] as string, /application\/json/);
      assert.deepEqual(await res.body.json(), { statusCode: 502, code: 'MR_GW_UPSTREAM_UNAVAILABLE', error: 'Bad Gateway', message: 'orders cannot be reached' });
    } finally {
      await close(gw.server);
      await client.close();
    }
  });

  test('an upstream that never answers is 504 MR_GW_UPSTREAM_TIMEOUT (undici headers timeout)', async () => {
    const silent = await listen(() => {});
    const client = createUpstreamClient({ url: silent.url, headersTimeout: 50 });
    const gw = await gateway(client);
    try {
      const res = await request(`${gw.url}/api/orders`, { dispatcher: agent });
      assert.equal(res.statusCode, 504);
      assert.equal(((await res.body.json()) as { code: string }).code, 'MR_GW_UPSTREAM_TIMEOUT');
    } finally {
      await close(gw.server);
      await client.close();
      await close(silent.server);
    }
  });

  test('defaults are connect 5 s, headers 30 s, body 30 s: never undici\'s 300 s', () => {
    assert.equal(DEFAULT_CONNECT_TIMEOUT, 5_000);
    const client = createUpstreamClient({ url: 'http://127.0.0.1:1' });
    assert.equal(client.headersTimeout, DEFAULT_HEADERS_TIMEOUT);
    assert.equal(client.bodyTimeout, DEFAULT_BODY_TIMEOUT);
    assert.equal(DEFAULT_HEADERS_TIMEOUT, 30_000);
    void client.close();
  });
});

describe('proxy with policies (manual clock)', () => {
  const policies = {
    timeouts: { fast: 2_000 },
    retries: { idempotent: { attempts: 3, backoff: 'constant' as const, base: 0, max: 0, methods: ['GET', 'PUT'], budget: 100 } },
    circuitBreakers: { upstream: { failureRate: 50, minRequests: 3, window: 10_000, openFor: 30_000, halfOpenRequests: 1 } },
    rateLimits: { perClient: { requests: 2, per: 60_000, key: 'client' as const } },
    bulkheads: {},
  };

  test('retry counts observed at the upstream: GET retried on 503, POST not', async () => {
    const up = recorder();
    let n = 0;
    up.setRespond((_req, res) => res.writeHead(++n % 3 === 0 ? 200 : 503).end(String(n)));
    const upstream = await listen(up.handler);
    const client = createUpstreamClient({ url: upstream.url });
    const clock = new ManualClock();
    const stack = buildPolicies(policies, { clock }).resolve(['idempotent'], 'orders');
    const gw = await gateway(client, { wrap: stack.wrap });
    const driving = setInterval(() => void clock.advance(0), 1); // back-off of 0 ms still waits on the clock
    try {
      const get = await request(`${gw.url}/api/orders`, { dispatcher: agent });
      assert.equal(get.statusCode, 200);
      assert.equal(await get.body.text(), '3');
      assert.equal(up.seen.length, 3, 'two retries reached the upstream');
      n = 0;
      const post = await request(`${gw.url}/api/orders`, { dispatcher: agent, method: 'POST', body: '{}' });
      assert.equal(post.statusCode, 503);
      await post.body.text();
      assert.equal(up.seen.length, 4, 'POST is never repeated');
    } finally {
      clearInterval(driving);
      await close(gw.server);
      await client.close();
      await close(upstream.server);
    }
  });

  test('the breaker opens on upstream 5xx, answers 503 with Retry-After without calling, then a probe closes it', async () => {
    const up = recorder();
    let status = 500;
    up.setRespond((_req, res) => res.writeHead(status).end());
    const upstream = await listen(up.handler);
    const client = createUpstreamClient({ url: upstream.url });
    const clock = new ManualClock();
    const stack = buildPolicies(policies, { clock }).resolve(['upstream'], 'orders');
    const gw = await gateway(client, { wrap: stack.wrap });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await request(`${gw.url}/api/orders`, { dispatcher: agent }).then(async (r) => (await r.body.text(), r))).statusCode, 500);
      const open = await request(`${gw.url}/api/orders`, { dispatcher: agent });
      assert.equal(open.statusCode, 503);
      assert.equal(open.headers['retry-after'], '30');
      assert.equal(((await open.body.json()) as { code: string }).code, 'MR_GW_CIRCUIT_OPEN');
      assert.equal(up.seen.length, 3, 'the open breaker did not call the upstream');
      await clock.advance(30_000);
      status = 200;
      const probe = await request(`${gw.url}/api/orders`, { dispatcher: agent });
      await probe.body.text();
      assert.equal(probe.statusCode, 200);
      assert.equal(stack.breaker?.state(), 'closed');
    } finally {
      await close(gw.server);
      await client.close();
      await close(upstream.server);
    }
  });

  test('the timeout policy answers 504 on the manual clock and aborts the upstream call', async () => {
    let upstreamClosed = false;
    let received = false;
    const upstream = await listen((_req, res) => {
      received = true;
      res.on('close', () => (upstreamClosed = true));
    });
    const client = createUpstreamClient({ url: upstream.url });
    const clock = new ManualClock();
    const stack = buildPolicies(policies, { clock }).resolve(['fast'], 'orders');
    const gw = await gateway(client, { wrap: stack.wrap });
    try {
      const pending = request(`${gw.url}/api/orders`, { dispatcher: agent });
      // Time moves only once the upstream holds the request, so there is a request to cancel.
      await waitFor(() => clock.pending > 0 && received, 'the timeout timer and the upstream request');
      await clock.advance(2_000);
      const res = await pending;
      assert.equal(res.statusCode, 504);
      assert.deepEqual(await res.body.json(), { statusCode: 504, code: 'MR_GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout', message: 'orders did not answer within 2000 ms' });
      await waitFor(() => upstreamClosed, 'the upstream request to be cancelled');
    } finally {
      await close(gw.server);
      await client.close();
      await close(upstream.server);
    }
  });

  test('rate limit: RateLimit-* on admitted calls, 429 with Retry-After past the limit', async () => {
    const up = recorder();
    const upstream = await listen(up.handler);
    const client = createUpstreamClient({ url: upstream.url });
    const stack = buildPolicies(policies, { clock: new ManualClock() }).resolve(['perClient'], 'orders');
    const gw = await gateway(client, { wrap: stack.wrap, rateLimitKey: 'web' });
    try {
      const first = await request(`${gw.url}/api/orders`, { dispatcher: agent });
      await first.body.text();
      assert.deepEqual([first.headers['ratelimit-limit'], first.headers['ratelimit-remaining'], first.headers['ratelimit-reset']], ['2', '1', '30']);
      await (await request(`${gw.url}/api/orders`, { dispatcher: agent })).body.text();
      const limited = await request(`${gw.url}/api/orders`, { dispatcher: agent });
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.headers['retry-after'], '30');
      assert.equal(limited.headers['ratelimit-remaining'], '0');
      assert.equal(((await limited.body.json()) as { code: string }).code, 'MR_GW_RATE_LIMITED');
      assert.equal(up.seen.length, 2);
    } finally {
      await close(gw.server);
      await client.close();
      await close(upstream.server);
    }
  });

  test('external upstreams do not receive the caller\'s cookies or client key', async () => {
    const up = recorder();
    const upstream = await listen(up.handler);
    const client = createUpstreamClient({ url: upstream.url });
    const gw = await gateway(client, { stripCredentials: true });
    try {
      await (await request(`${gw.url}/api/orders`, { dispatcher: agent, headers: { cookie: 'sid=1', 'client-key': 'k', secret: 's', 'x-ok': '1' } })).body.text();
      const got = up.seen.at(-1)!.headers;
      assert.deepEqual([got.cookie, got['client-key'], got.secret, got['x-ok']], [undefined, undefined, undefined, '1']);
    } finally {
      await close(gw.server);
      await client.close();
      await close(upstream.server);
    }
  });
});
