import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUpstreams } from '../../../src/gateway/upstreams.js';
import { DEFAULT_HEADERS_TIMEOUT } from '../../../src/gateway/proxy/index.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { buildPolicies } from '../../../src/resilience/index.js';
import { emptyPolicies, startGateway, upstream, waitFor } from './harness.js';

test('a timeout policy longer than undici\'s 30 s response-headers default raises it for that route (same pool)', async () => {
  const clock = new ManualClock();
  const policies = { ...emptyPolicies, timeouts: { long: 60_000, short: 2_000 } };
  const registry = buildPolicies(policies, { clock });
  const upstreams = createUpstreams(
    { slow: { url: 'http://127.0.0.1:9', policies: ['long'] }, plain: { url: 'http://127.0.0.1:9', policies: [] } },
    registry,
    clock,
    undefined,
    policies,
  );
  try {
    const viaPolicy = upstreams.route('slow');
    assert.equal(viaPolicy.client.headersTimeout, 60_000);
    assert.equal(upstreams.route('slow', ['short']).client.headersTimeout, DEFAULT_HEADERS_TIMEOUT, 'a shorter endpoint timeout is the policy\'s job');
    assert.equal(upstreams.route('plain', [], 45_000).client.headersTimeout, 45_000, 'an inline endpoint timeout');
    assert.equal(upstreams.route('plain').client.headersTimeout, DEFAULT_HEADERS_TIMEOUT);
    assert.equal(upstreams.route('plain', [], undefined, 90_000).client.headersTimeout, 90_000, 'a BFF call\'s own longer timeout');
    assert.equal(viaPolicy.client.pool, upstreams.route('slow', ['short']).client.pool, 'one keep-alive pool per upstream');
  } finally {
    await upstreams.close();
  }
});

test('retries.attemptTimeout: an attempt that hangs times out alone and the retry answers, within the overall timeout', async () => {
  const clock = new ManualClock();
  let calls = 0;
  const up = await upstream((_req, res) => {
    if (++calls === 1) return; // the first attempt never answers
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"attempt":2}');
  });
  const { runtime, url } = await startGateway(
    {
      upstreams: { u: { url: up.url, policies: ['again', 'overall'] } },
      policies: { ...emptyPolicies, timeouts: { overall: 10_000 }, retries: { again: { attempts: 2, backoff: 'constant', base: 50, max: 50, methods: ['GET'], budget: 20, attemptTimeout: 1_000 } } },
      endpoints: [{ basePath: '/api', target: { upstream: 'u' }, public: true }],
    },
    { clock },
  );
  try {
    const pending = fetch(`${url}/api`);
    await waitFor(() => up.seen.length === 1, 'the first attempt');
    await clock.advance(1_000);
    await clock.advance(50);
    await waitFor(() => up.seen.length === 2, 'the second attempt');
    const res = await pending;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { attempt: 2 });
  } finally {
    await runtime.stop();
    await up.close();
  }
});
