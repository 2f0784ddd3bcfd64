import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyPluginAsync } from 'fastify';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { SECRET, startGateway, targetCapability, token, upstream, waitFor } from './harness.js';

const orders: FastifyPluginAsync = async (app) => {
  app.get('/:id', async (request) => {
    const { id } = request.params as { id: string };
    if (id === 'missing') throw Object.assign(new Error('not found'), { statusCode: 404 });
    return { id, customerId: `c-${id}`, total: 10, owner: request.headers.miauserid ?? null };
  });
};

describe('Backend For Frontend (compose)', () => {
  test('parallel calls, a dependent call after what it reads, identity to every call, partial answer for a failed optional call', async () => {
    const customers = await upstream((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: req.url!.split('/').pop(), name: 'Ada', secret: 'x' })));
    const payments = await upstream((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"code":"PAY_DOWN"}'));
    const { runtime, url } = await startGateway(
      {
        auth: { jwt: { secret: SECRET } },
        upstreams: { customers: { url: customers.url, policies: [] }, payments: { url: payments.url, policies: [] } },
        endpoints: [
          {
            basePath: '/bff/order-page/:orderId',
            compose: [
              { name: 'order', call: { collection: 'orders', id: '{orderId}' } },
              { name: 'customer', call: { upstream: 'customers', path: '/customers/{order.customerId}' }, fields: ['id', 'name'] },
              { name: 'payments', call: { upstream: 'payments', path: '/by-order/{orderId}' }, optional: true },
              { name: 'totals', call: { collection: 'orders', id: '{orderId}' }, fields: ['total'], flatten: true },
            ],
          },
        ],
      },
      { capabilities: [targetCapability('crud', 'crud', { orders })] },
    );
    try {
      const jwt = await token({ sub: 'u1', groups: ['shop'] });
      const res = await fetch(`${url}/bff/order-page/42`, { headers: { authorization: `Bearer ${jwt}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-mia-completed'), 'false');
      assert.deepEqual(await res.json(), {
        order: { id: '42', customerId: 'c-42', total: 10, owner: 'u1' },
        customer: { id: 'c-42', name: 'Ada' },
        total: 10,
        errors: { payments: { statusCode: 500, code: 'PAY_DOWN', message: 'call "payments" answered 500' } },
      });
      assert.equal(customers.seen[0]!.url, '/customers/c-42');
      assert.equal(customers.seen[0]!.headers.miauserid, 'u1');
      assert.equal(customers.seen[0]!.headers.miausergroups, 'shop');
      assert.equal(payments.seen[0]!.url, '/by-order/42');

      payments.respond((_req, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('[]'));
      const complete = await fetch(`${url}/bff/order-page/7`, { headers: { authorization: `Bearer ${jwt}` } });
      assert.equal(complete.headers.get('x-mia-completed'), 'true');
      const body = (await complete.json()) as Record<string, unknown>;
      assert.deepEqual(body.payments, []);
      assert.equal(body.errors, undefined);

      const failed = await fetch(`${url}/bff/order-page/missing`, { headers: { authorization: `Bearer ${jwt}` } });
      assert.equal(failed.status, 502);
      const error = (await failed.json()) as { code: string; message: string };
      assert.equal(error.code, 'MR_GW_COMPOSE_FAILED');
      assert.match(error.message, /required call "order" failed/);
    } finally {
      await runtime.stop();
      await customers.close();
      await payments.close();
    }
  });

  test('independent calls run at the same time (each upstream answers only once both arrived)', async () => {
    const holding: (() => void)[] = [];
    const release = () => holding.splice(0).forEach((answer) => answer());
    const a = await upstream((_req, res) => {
      holding.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('"a"'));
      if (holding.length === 2) release();
    });
    const b = await upstream((_req, res) => {
      holding.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('"b"'));
      if (holding.length === 2) release();
    });
    const { runtime, url } = await startGateway({
      upstreams: { a: { url: a.url, policies: [] }, b: { url: b.url, policies: [] } },
      endpoints: [{ basePath: '/both', public: true, compose: [{ name: 'a', call: { upstream: 'a' } }, { name: 'b', call: { upstream: 'b' } }] }],
    });
    try {
      const res = await fetch(`${url}/both`);
      assert.deepEqual(await res.json(), { a: 'a', b: 'b' });
    } finally {
      await runtime.stop();
      await a.close();
      await b.close();
    }
  });

  test('a required call over its own timeout gives 504 naming the call', async () => {
    const clock = new ManualClock();
    const slow = await upstream(() => undefined);
    const { runtime, url } = await startGateway(
      {
        upstreams: { slow: { url: slow.url, policies: [] } },
        endpoints: [{ basePath: '/page', public: true, compose: [{ name: 'profile', call: { upstream: 'slow', path: '/p' }, timeout: '1s' }] }],
      },
      { clock },
    );
    try {
      const pending = fetch(`${url}/page`);
      await waitFor(() => slow.seen.length === 1, 'the call to arrive');
      await clock.advance(1_000);
      const res = await pending;
      assert.equal(res.status, 504);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, 'MR_GW_UPSTREAM_TIMEOUT');
      assert.match(body.message, /"profile"/);
    } finally {
      await runtime.stop();
      await slow.close();
    }
  });
});
