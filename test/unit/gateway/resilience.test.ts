import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { emptyPolicies, startGateway, upstream, waitFor } from './harness.js';

const failing = (status: number) => (_req: unknown, res: import('node:http').ServerResponse) => res.writeHead(status, { 'content-type': 'application/json' }).end(`{"status":${status}}`);

describe('gateway resilience with real upstreams', () => {
  test('circuit breaker: opens after failures (503 at once, no upstream call), half-opens after openFor, closes on a good probe', async () => {
    const clock = new ManualClock();
    const up = await upstream(failing(500));
    const { runtime, url } = await startGateway(
      {
        upstreams: { orders: { url: up.url, policies: ['cb'] } },
        policies: { ...emptyPolicies, circuitBreakers: { cb: { failureRate: 50, minRequests: 2, window: 10_000, openFor: 5_000, halfOpenRequests: 1 } } },
        endpoints: [{ basePath: '/orders', target: { upstream: 'orders' }, public: true }],
      },
      { clock },
    );
    try {
      assert.equal((await fetch(`${url}/orders`)).status, 500, 'the upstream 5xx passes through');
      assert.equal((await fetch(`${url}/orders`)).status, 500);
      const open = await fetch(`${url}/orders`);
      assert.equal(open.status, 503);
      assert.equal(open.headers.get('retry-after'), '5');
      const body = (await open.json()) as { code: string; statusCode: number };
      assert.equal(body.code, 'MR_GW_CIRCUIT_OPEN');
      assert.equal(up.seen.length, 2, 'an open breaker does not call the upstream');

      const metrics = await (await fetch(`${url}/-/metrics`)).text();
      assert.match(metrics, /mia_run_gateway_circuit_breaker_state\{breaker="orders"\} 2/);
      assert.match(metrics, /mia_run_gateway_circuit_breaker_transitions_total\{breaker="orders",from="closed",to="open"\} 1/);

      // Half-open: one probe goes through; it fails, so the breaker opens again.
      await clock.advance(5_000);
      assert.equal((await fetch(`${url}/orders`)).status, 500);
      assert.equal(up.seen.length, 3);
      assert.equal((await fetch(`${url}/orders`)).status, 503);

      // Next half-open probe succeeds: closed again, traffic flows.
      await clock.advance(5_000);
      up.respond((_req, res) => res.writeHead(200).end('ok'));
      assert.equal((await fetch(`${url}/orders`)).status, 200);
      assert.equal((await fetch(`${url}/orders`)).status, 200);
      assert.equal(up.seen.length, 5);
      assert.match(await (await fetch(`${url}/-/metrics`)).text(), /mia_run_gateway_circuit_breaker_state\{breaker="orders"\} 0/);
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('4xx answers never open the breaker', async () => {
    const up = await upstream(failing(404));
    const { runtime, url } = await startGateway({
      upstreams: { u: { url: up.url, policies: ['cb'] } },
      policies: { ...emptyPolicies, circuitBreakers: { cb: { failureRate: 50, minRequests: 2, window: 10_000, openFor: 5_000, halfOpenRequests: 1 } } },
      endpoints: [{ basePath: '/u', target: { upstream: 'u' }, public: true }],
    });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await fetch(`${url}/u`)).status, 404);
      assert.equal(up.seen.length, 5);
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('retries: idempotent requests are retried on 503 (counted at the upstream), POST is not', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const up = await upstream((_req, res) => {
      calls++;
      if (calls % 3 === 0) res.writeHead(200).end('third time');
      else res.writeHead(503).end('busy');
    });
    const { runtime, url } = await startGateway(
      {
        upstreams: { u: { url: up.url, policies: ['again'] } },
        policies: { ...emptyPolicies, retries: { again: { attempts: 3, backoff: 'constant', base: 10, max: 10, methods: ['GET'], budget: 100 } } },
        endpoints: [{ basePath: '/u', target: { upstream: 'u' }, public: true }],
      },
      { clock },
    );
    try {
      let settled: Response | undefined;
      const pending = fetch(`${url}/u`).then((r) => (settled = r));
      await waitFor(async () => {
        await clock.advance(10);
        return settled !== undefined;
      }, 'the retried GET');
      await pending;
      assert.equal(settled!.status, 200);
      assert.equal(await settled!.text(), 'third time');
      assert.equal(up.seen.length, 3);

      const post = await fetch(`${url}/u`, { method: 'POST' });
      assert.equal(post.status, 503);
      assert.equal(up.seen.length, 4, 'a POST is tried once');
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('timeout: 504 MR_GW_UPSTREAM_TIMEOUT when the upstream does not answer in time (endpoint timeout)', async () => {
    const clock = new ManualClock();
    const up = await upstream(() => undefined); // never answers
    const { runtime, url } = await startGateway(
      {
        upstreams: { slow: { url: up.url, policies: [] } },
        endpoints: [{ basePath: '/slow', target: { upstream: 'slow' }, public: true, timeout: '2s' }],
      },
      { clock },
    );
    try {
      const pending = fetch(`${url}/slow`);
      await waitFor(() => up.seen.length === 1, 'the upstream to receive the call');
      await clock.advance(2_000);
      const res = await pending;
      assert.equal(res.status, 504);
      assert.deepEqual(await res.json(), { statusCode: 504, code: 'MR_GW_UPSTREAM_TIMEOUT', error: 'Gateway Timeout', message: 'slow did not answer within 2000 ms' });
    } finally {
      await runtime.stop();
      await up.close();
    }
  });

  test('unreachable upstream: 502 MR_GW_UPSTREAM_UNAVAILABLE', async () => {
    const up = await upstream();
    const deadUrl = up.url;
    await up.close();
    const { runtime, url } = await startGateway({
      upstreams: { gone: { url: deadUrl, policies: [] } },
      endpoints: [{ basePath: '/gone', target: { upstream: 'gone' }, public: true }],
    });
    try {
      const res = await fetch(`${url}/gone/x`);
      assert.equal(res.status, 502);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, 'MR_GW_UPSTREAM_UNAVAILABLE');
      assert.match(body.message, /gone cannot be reached/);
    } finally {
      await runtime.stop();
    }
  });
});
