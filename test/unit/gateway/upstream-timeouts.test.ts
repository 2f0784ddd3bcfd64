import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUpstreams } from '../../../src/gateway/upstreams.js';
import { DEFAULT_HEADERS_TIMEOUT } from '../../../src/gateway/proxy/index.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { buildPolicies } from '../../../src/resilience/index.js';
import { emptyPolicies } from './harness.js';

test('a timeout policy longer than undici\'s 30 s response-headers default raises it for that route (same pool)', async () => {
  const clock = new ManualClock();
  const policies = { ...emptyPolicies, timeouts: { long: 60_000, short: 2_000 } };
  const registry = buildPolicies(policies, { clock });
  const upstreams = createUpstreams(
    { slow: { url: 'http://127.0.0.1:9', policies: ['long'] }, plain: { url: 'http://127.0.0.1:9', policies: [] } },
    registry,
    clock,
    undefined,
    policies.timeouts,
  );
  try {
    const viaPolicy = upstreams.route('slow');
    assert.equal(viaPolicy.client.headersTimeout, 60_000);
    assert.equal(upstreams.route('slow', ['short']).client.headersTimeout, DEFAULT_HEADERS_TIMEOUT, 'a shorter endpoint timeout is the policy\'s job');
    assert.equal(upstreams.route('plain', [], 45_000).client.headersTimeout, 45_000, 'an inline endpoint timeout');
    assert.equal(upstreams.route('plain').client.headersTimeout, DEFAULT_HEADERS_TIMEOUT);
    assert.equal(viaPolicy.client.pool, upstreams.route('slow', ['short']).client.pool, 'one keep-alive pool per upstream');
  } finally {
    await upstreams.close();
  }
});
