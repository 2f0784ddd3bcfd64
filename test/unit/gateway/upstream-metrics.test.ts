import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { emptyPolicies, startGateway, upstream } from './harness.js';

test('/-/metrics counts upstream failures by upstream and code: 5xx answers, unreachable, breaker refusals', async () => {
  const clock = new ManualClock();
  const failing = await upstream((_req, res) => res.writeHead(500).end('no'));
  const gone = await upstream();
  const goneUrl = gone.url;
  await gone.close();
  const { runtime, url } = await startGateway(
    {
      upstreams: { failing: { url: failing.url, policies: ['breaker'] }, gone: { url: goneUrl, policies: [] } },
      policies: { ...emptyPolicies, circuitBreakers: { breaker: { failureRate: 50, minRequests: 2, window: 10_000, openFor: 30_000, halfOpenRequests: 1 } } },
      endpoints: [
        { basePath: '/failing', target: { upstream: 'failing' }, public: true },
        { basePath: '/gone', target: { upstream: 'gone' }, public: true },
      ],
    },
    { clock },
  );
  try {
    assert.equal((await fetch(`${url}/failing`)).status, 500);
    assert.equal((await fetch(`${url}/failing`)).status, 500);
    assert.equal((await fetch(`${url}/failing`)).status, 503, 'the breaker is open now');
    assert.equal((await fetch(`${url}/gone`)).status, 502);
    const metrics = await (await fetch(`${url}/-/metrics`)).text();
    assert.match(metrics, /^mia_run_gateway_upstream_errors_total\{upstream="failing",code="upstream_5xx"\} 2$/m);
    assert.match(metrics, /^mia_run_gateway_upstream_errors_total\{upstream="failing",code="MR_GW_CIRCUIT_OPEN"\} 1$/m);
    assert.match(metrics, /^mia_run_gateway_upstream_errors_total\{upstream="gone",code="MR_GW_UPSTREAM_UNAVAILABLE"\} 1$/m);
    assert.equal(failing.seen.length, 2);
  } finally {
    await runtime.stop();
    await failing.close();
  }
});
