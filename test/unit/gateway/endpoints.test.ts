import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { SECRET, echoTarget, emptyPolicies, startGateway, targetCapability, token, upstream } from './harness.js';

describe('gateway endpoints: auth, identity headers, dispatch', () => {
  let up: Awaited<ReturnType<typeof upstream>>;
  let runtime: Runtime;
  let base: string;

  before(async () => {
    up = await upstream();
    ({ runtime, url: base } = await startGateway(
      {
        auth: { apiKeys: [{ key: 'web-key', clientType: 'web' }], jwt: { secret: SECRET, propertyClaims: ['tier'] } },
        upstreams: { payments: { url: `${up.url}/root`, policies: [] } },
        collections: [{ name: 'orders', endpointBasePath: '/orders' }, { name: 'catalog', endpointBasePath: '/catalog' }, { name: 'hidden', endpointBasePath: '/hidden' }],
        endpoints: [
          { basePath: '/api/payments', target: { upstream: 'payments', rewrite: '/v2' }, acl: 'groups.admin || user.tier == "gold"' },
          { basePath: '/api/orders', target: { collection: 'orders' }, crudAcl: { rows: { owner: '{userId}' }, readColumns: ['a', 'b'] } },
          { basePath: '/api/shops/:shopId/items', target: { collection: 'orders' }, public: true },
          { basePath: '/api/keyed', target: { upstream: 'payments' }, acl: 'clientType == "web"', public: true },
          { basePath: '/api/mixed', target: { upstream: 'payments' }, routes: { 'GET/': { public: true } } },
          { basePath: '/api/sagas', target: { saga: 'checkout' } },
          { basePath: '/api/backoffice-only', target: { upstream: 'payments' }, public: true, listeners: ['backoffice'] },
          { basePath: '/hidden', target: { upstream: 'payments' }, public: true },
        ],
      },
      { capabilities: [targetCapability('crud', 'crud', { orders: echoTarget, catalog: echoTarget })] },
    ));
  });
  after(async () => {
    await runtime.stop();
    await up.close();
  });

  test('a logged-in caller reaches the upstream with Mia identity headers, rewritten path and forwarded headers', async () => {
    const jwt = await token({ sub: 'u1', groups: ['admin', 'ops'], tier: 'silver' });
    const res = await fetch(`${base}/api/payments/42?x=1`, { headers: { authorization: `Bearer ${jwt}`, 'x-request-id': 'req-1' } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
    assert.equal(res.headers.get('x-request-id'), 'req-1');
    const seen = up.seen.at(-1)!;
    assert.equal(seen.url, '/root/v2/42?x=1');
    assert.equal(seen.headers.miauserid, 'u1');
    assert.equal(seen.headers.miausergroups, 'admin,ops');
    assert.equal(seen.headers.miauserproperties, '{"tier":"silver"}');
    assert.equal(seen.headers.isbackoffice, 'false');
    assert.equal(seen.headers['x-request-id'], 'req-1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
  });

  test('identity headers sent from outside never reach the upstream', async () => {
    const jwt = await token({ sub: 'u2', tier: 'gold' });
    const res = await fetch(`${base}/api/payments/1`, {
      headers: { authorization: `Bearer ${jwt}`, miauserid: 'admin', miausergroups: 'admin', acl_rows: '{}', 'client-type': 'backoffice', isbackoffice: 'true' },
    });
    assert.equal(res.status, 200);
    const seen = up.seen.at(-1)!;
    assert.equal(seen.headers.miauserid, 'u2');
    assert.equal(seen.headers.miausergroups, '');
    assert.equal(seen.headers.acl_rows, undefined);
    assert.equal(seen.headers['client-type'], undefined);
    assert.equal(seen.headers.isbackoffice, 'false');
  });

  test('401 without credentials (with WWW-Authenticate), 403 when the ACL says no, 403 for a wrong key', async () => {
    const anonymous = await fetch(`${base}/api/payments/1`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.deepEqual(await anonymous.json(), { statusCode: 401, code: 'MR_GW_UNAUTHORIZED', error: 'Unauthorized', message: 'this endpoint needs a logged-in user' });

    const silver = await fetch(`${base}/api/payments/1`, { headers: { authorization: `Bearer ${await token({ sub: 'u3', tier: 'silver' })}` } });
    assert.equal(silver.status, 403);
    assert.equal(((await silver.json()) as { code: string }).code, 'MR_GW_FORBIDDEN');

    const wrongKey = await fetch(`${base}/api/keyed/1`, { headers: { 'client-key': 'nope' } });
    assert.equal(wrongKey.status, 403);
    const spoofed = await fetch(`${base}/api/payments/1`, { headers: { authorization: 'Bearer not.a.token' } });
    assert.equal(spoofed.status, 401);
  });

  test('an ACL over clientType needs a client key; the key works from the header or the cookie', async () => {
    assert.equal((await fetch(`${base}/api/keyed/1`)).status, 401);
    const viaHeader = await fetch(`${base}/api/keyed/1`, { headers: { secret: 'web-key' } });
    assert.equal(viaHeader.status, 200);
    assert.equal(up.seen.at(-1)!.headers['client-type'], 'web');
    assert.equal(up.seen.at(-1)!.headers.secret, undefined, 'the caller key is not sent to an upstream');
    const viaCookie = await fetch(`${base}/api/keyed/1`, { headers: { cookie: 'mia_client_key=web-key' } });
    assert.equal(viaCookie.status, 200);
  });

  test('routes: overrides access per verb and exact path', async () => {
    assert.equal((await fetch(`${base}/api/mixed`)).status, 200);
    assert.equal((await fetch(`${base}/api/mixed/`)).status, 200);
    assert.equal((await fetch(`${base}/api/mixed/other`)).status, 401);
    assert.equal((await fetch(`${base}/api/mixed`, { method: 'POST', body: '{}' })).status, 401);
  });

  test('an in-process collection is mounted under the base path with identity and CRUD ACL headers', async () => {
    const jwt = await token({ sub: 'u"9', groups: ['g'] });
    const res = await fetch(`${base}/api/orders/abc`, { headers: { authorization: `Bearer ${jwt}`, acl_read_columns: 'secret' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { url: string; params: unknown; headers: Record<string, string> };
    assert.equal(body.url, '/api/orders/abc');
    assert.deepEqual(body.params, { id: 'abc' });
    assert.equal(body.headers.miauserid, 'u"9');
    assert.equal(body.headers.acl_rows, '{"owner":"u\\"9"}');
    assert.equal(body.headers.acl_read_columns, 'a,b');
    assert.equal(body.headers.acl_write_columns, undefined);
  });

  test('path parameters of the base path reach the target', async () => {
    const res = await fetch(`${base}/api/shops/s1/items/i2`);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { params: unknown }).params, { shopId: 's1', id: 'i2' });
  });

  test('a collection with endpointBasePath that no endpoint targets is mounted there, public', async () => {
    const res = await fetch(`${base}/catalog/7`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { url: string }).url, '/catalog/7');
    // orders is targeted by /api/orders: it is not mounted a second time at its own base path.
    assert.equal((await fetch(`${base}/orders/7`)).status, 404);
    // /hidden is declared by an endpoint: the endpoint wins over the implicit one.
    await fetch(`${base}/hidden/x`);
    assert.equal(up.seen.at(-1)!.url, '/root/hidden/x');
  });

  test('a target no capability serves answers 503 MR_RUNTIME_NOT_READY naming it', async () => {
    const res = await fetch(`${base}/api/sagas/1`, { headers: { authorization: `Bearer ${await token({ sub: 'u' })}` } });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'MR_RUNTIME_NOT_READY');
    assert.match(body.message, /saga "checkout"/);
  });

  test('no route: 404 JSON; an endpoint limited to the backoffice listener is 404 on the application one', async () => {
    const res = await fetch(`${base}/nothing/here`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'MR_HTTP_NOT_FOUND');
    assert.equal((await fetch(`${base}/api/backoffice-only`)).status, 404);
  });
});

describe('gateway policies at the edge', () => {
  test('rate limit: 429 with Retry-After and RateLimit-* headers, refilled by the clock', async () => {
    const clock = new ManualClock();
    const up = await upstream();
    const { runtime, url } = await startGateway(
      {
        upstreams: { u: { url: up.url, policies: [] } },
        policies: { ...emptyPolicies, rateLimits: { two: { requests: 2, per: 1000, key: 'ip' } } },
        endpoints: [{ basePath: '/limited', target: { upstream: 'u' }, public: true, rateLimit: 'two' }],
      },
      { clock },
    );
    try {
      const first = await fetch(`${url}/limited`);
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('ratelimit-limit'), '2');
      assert.equal(first.headers.get('ratelimit-remaining'), '1');
      assert.equal((await fetch(`${url}/limited`)).status, 200);
      const third = await fetch(`${url}/limited`);
      assert.equal(third.status, 429);
      assert.equal(third.headers.get('retry-after'), '1');
      assert.equal(third.headers.get('ratelimit-remaining'), '0');
      assert.equal(((await third.json()) as { code: string }).code, 'MR_GW_RATE_LIMITED');
      assert.equal(up.seen.length, 2);
      await clock.advance(1000);
      assert.equal((await fetch(`${url}/limited`)).status, 200);
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('body limit: 413 before the upstream is called; CORS preflight answered by the gateway', async () => {
    const up = await upstream();
    const { runtime, url } = await startGateway({
      upstreams: { u: { url: up.url, policies: [] } },
      server: { cors: { origins: ['https://shop.example'] } },
      endpoints: [{ basePath: '/small', target: { upstream: 'u' }, public: true, bodyLimit: '10b' }],
    });
    try {
      const big = await fetch(`${url}/small`, { method: 'POST', body: 'x'.repeat(11) });
      assert.equal(big.status, 413);
      assert.equal(((await big.json()) as { code: string }).code, 'MR_HTTP_PAYLOAD_TOO_LARGE');
      const chunked = await fetch(`${url}/small`, {
        method: 'POST',
        body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('y'.repeat(64))), c.close()) }),
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 413, 'a chunked body is counted as it streams');
      assert.equal(((await chunked.json()) as { code: string }).code, 'MR_HTTP_PAYLOAD_TOO_LARGE');
      const seenBefore = up.seen.length;
      const ok = await fetch(`${url}/small`, { method: 'POST', body: 'x'.repeat(10), headers: { origin: 'https://shop.example' } });
      assert.equal(ok.status, 200);
      assert.equal(up.seen.length, seenBefore + 1);
      assert.equal(up.seen.at(-1)!.body, 'xxxxxxxxxx');
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example');
      const preflight = await fetch(`${url}/small`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://shop.example');
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.equal(up.seen.length, seenBefore + 1, 'the preflight never reaches the upstream');
      const other = await fetch(`${url}/small`, { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('trustIdentityHeaders: the identity set by a gateway in front is used and passed on', async () => {
    const up = await upstream();
    const { runtime, url } = await startGateway({
      server: { trustIdentityHeaders: true },
      upstreams: { u: { url: up.url, policies: [] } },
      endpoints: [{ basePath: '/in', target: { upstream: 'u' }, acl: 'groups.admin' }],
    });
    try {
      const res = await fetch(`${url}/in`, { headers: { miauserid: 'front-user', miausergroups: 'admin' } });
      assert.equal(res.status, 200);
      assert.equal(up.seen[0]!.headers.miauserid, 'front-user');
      assert.equal(up.seen[0]!.headers.miausergroups, 'admin');
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('listeners: a backoffice-only endpoint answers on the backoffice port with isbackoffice: true', async () => {
    const up = await upstream();
    const { runtime, url, backofficeUrl } = await startGateway({
      server: { backofficePort: 0 },
      upstreams: { u: { url: up.url, policies: [] } },
      endpoints: [
        { basePath: '/admin', target: { upstream: 'u' }, public: true, listeners: ['backoffice'] },
        { basePath: '/both', target: { upstream: 'u' }, public: true },
      ],
    });
    try {
      assert.equal((await fetch(`${url}/admin`)).status, 404);
      assert.equal((await fetch(`${backofficeUrl}/admin`)).status, 200);
      assert.equal(up.seen.at(-1)!.headers.isbackoffice, 'true');
      assert.equal((await fetch(`${url}/both`, { headers: { isbackoffice: 'true' } })).status, 200);
      assert.equal(up.seen.at(-1)!.headers.isbackoffice, 'false', 'the application port never trusts the header');
    } finally {
      await runtime.stop();
      await up.close();
    }
  });
});
