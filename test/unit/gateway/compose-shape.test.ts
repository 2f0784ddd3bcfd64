import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, upstream } from './harness.js';

const json = (status: number, body: unknown) => (_req: unknown, res: import('node:http').ServerResponse) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('BFF answer shape, total failure and metrics', () => {
  test('as renames a result; fields (allow) then omit (deny, nested, per list element) shape it', async () => {
    const users = await upstream(json(200, { id: 'u1', name: 'Ada', password: 'x', address: { city: 'Rome', secret: 's' } }));
    const orders = await upstream(json(200, [{ id: 1, total: 5, internal: true }, { id: 2, total: 7, internal: false }]));
    const { runtime, url } = await startGateway({
      upstreams: { users: { url: users.url, policies: [] }, orders: { url: orders.url, policies: [] } },
      endpoints: [
        {
          basePath: '/me',
          public: true,
          compose: [
            { name: 'user', call: { upstream: 'users' }, as: 'profile', omit: ['password', 'address.secret'] },
            { name: 'orders', call: { upstream: 'orders' }, fields: ['id', 'total', 'internal'], omit: ['internal'] },
          ],
        },
      ],
    });
    try {
      const res = await fetch(`${url}/me`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        profile: { id: 'u1', name: 'Ada', address: { city: 'Rome' } },
        orders: [{ id: 1, total: 5 }, { id: 2, total: 7 }],
      });
    } finally {
      await runtime.stop();
      await users.close();
      await orders.close();
    }
  });

  test('when no call succeeds the answer is 502; a partial answer is counted in /-/metrics', async () => {
    const down = await upstream(json(503, { code: 'DOWN' }));
    const ok = await upstream(json(200, { ok: true }));
    const { runtime, url } = await startGateway({
      upstreams: { down: { url: down.url, policies: [] }, ok: { url: ok.url, policies: [] } },
      endpoints: [
        { basePath: '/none', public: true, compose: [{ name: 'a', call: { upstream: 'down' }, optional: true }, { name: 'b', call: { upstream: 'down' }, optional: true }] },
        { basePath: '/some', public: true, compose: [{ name: 'a', call: { upstream: 'ok' } }, { name: 'b', call: { upstream: 'down' }, optional: true }] },
      ],
    });
    try {
      const none = await fetch(`${url}/none`);
      assert.equal(none.status, 502);
      const body = (await none.json()) as { code: string; message: string };
      assert.equal(body.code, 'MR_GW_COMPOSE_FAILED');
      assert.match(body.message, /no call of the composition succeeded/);
      const some = await fetch(`${url}/some`);
      assert.equal(some.status, 200);
      assert.equal(some.headers.get('x-mia-completed'), 'false');
      const metrics = await (await fetch(`${url}/-/metrics`)).text();
      assert.match(metrics, /^mia_run_gateway_bff_partial_responses_total\{endpoint="\/some"\} 1$/m);
    } finally {
      await runtime.stop();
      await down.close();
      await ok.close();
    }
  });
});
