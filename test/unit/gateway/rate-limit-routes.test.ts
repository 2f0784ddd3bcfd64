import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { emptyPolicies, startGateway, upstream } from './harness.js';

const keys = [
  { key: 'key-one', clientType: 'web' },
  { key: 'key-two', clientType: 'web' },
];

test('an upstream rate limit reached through a strangler or a BFF call counts per caller, not for everyone at once', async () => {
  const clock = new ManualClock();
  const legacy = await upstream();
  const parts = await upstream();
  const { runtime, url } = await startGateway(
    {
      auth: { apiKeys: keys },
      upstreams: { legacy: { url: legacy.url, policies: ['one'] }, parts: { url: parts.url, policies: ['one'] } },
      policies: { ...emptyPolicies, rateLimits: { one: { requests: 1, per: 60_000, key: 'client' } } },
      endpoints: [
        { basePath: '/bff', public: true, compose: [{ name: 'part', call: { upstream: 'parts' } }] },
        { basePath: '/', public: true, strangler: { legacy: 'legacy', routes: [] } },
      ],
    },
    { clock },
  );
  try {
    const as = (key: string) => ({ headers: { 'client-key': key } });
    assert.equal((await fetch(`${url}/old`, as('key-one'))).status, 200);
    const limited = await fetch(`${url}/old`, as('key-one'));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '60');
    assert.equal((await fetch(`${url}/old`, as('key-two'))).status, 200, 'another client has its own bucket');
    assert.equal(legacy.seen.length, 2);

    assert.equal((await fetch(`${url}/bff`, as('key-one'))).status, 200);
    const composed = await fetch(`${url}/bff`, as('key-one'));
    assert.equal(composed.status, 502);
    assert.match(((await composed.json()) as { message: string }).message, /required call "part" failed: rate limit/);
    assert.equal((await fetch(`${url}/bff`, as('key-two'))).status, 200);
    assert.equal(parts.seen.length, 2);
  } finally {
    await runtime.stop();
    await legacy.close();
    await parts.close();
  }
});
