import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { emptyPolicies, startGateway, upstream, waitFor } from './harness.js';

test('HTTP decorators: a hook that never answers fails after 10 s on the clock; an upstream hook goes through its upstream\'s breaker', async () => {
  const clock = new ManualClock();
  const silent = await upstream(() => undefined);
  const broken = await upstream((_req, res) => res.writeHead(500).end('down'));
  const service = await upstream();
  const { runtime, url } = await startGateway(
    {
      upstreams: { svc: { url: service.url, policies: [] }, hooks: { url: broken.url, policies: ['breaker'] } },
      policies: { ...emptyPolicies, circuitBreakers: { breaker: { failureRate: 50, minRequests: 2, window: 60_000, openFor: 30_000, halfOpenRequests: 1 } } },
      endpoints: [
        { basePath: '/slow', target: { upstream: 'svc' }, public: true, decorators: { pre: [{ url: `${silent.url}/pre` }] } },
        { basePath: '/guarded', target: { upstream: 'svc' }, public: true, decorators: { pre: [{ upstream: 'hooks', path: '/pre' }] } },
      ],
    },
    { clock },
  );
  try {
    const pending = fetch(`${url}/slow`);
    await waitFor(() => silent.seen.length === 1, 'the hook call');
    await clock.advance(10_000);
    const res = await pending;
    assert.equal(res.status, 502);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'MR_GW_DECORATOR_FAILED');
    assert.match(body.message, /did not answer within 10000 ms/);

    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${url}/guarded`)).status, 502);
    assert.equal(broken.seen.length, 2);
    const open = await fetch(`${url}/guarded`);
    assert.equal(open.status, 502);
    assert.match(((await open.json()) as { message: string }).message, /circuit breaker of hooks is open/);
    assert.equal(broken.seen.length, 2, 'the open breaker spares the hook service');
    assert.equal(service.seen.length, 0);
  } finally {
    await runtime.stop();
    await Promise.all([silent.close(), broken.close(), service.close()]);
  }
});
