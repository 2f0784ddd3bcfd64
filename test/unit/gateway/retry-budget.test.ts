import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { emptyPolicies, startGateway, upstream } from './harness.js';

test('the retry budget caps retries during an outage (counted at the upstream)', async () => {
  const clock = new ManualClock();
  const down = await upstream((_req, res) => res.writeHead(503).end('busy'));
  const { runtime, url } = await startGateway(
    {
      upstreams: { down: { url: down.url, policies: ['again'] } },
      // 10% budget: beyond the 10 retries always allowed per window, at most one retry per ten calls.
      policies: { ...emptyPolicies, retries: { again: { attempts: 3, backoff: 'constant', base: 0, max: 0, methods: ['GET'], budget: 10 } } },
      endpoints: [{ basePath: '/api', target: { upstream: 'down' }, public: true }],
    },
    { clock },
  );
  const driving = setInterval(() => void clock.advance(0), 1); // back-off of 0 ms still waits on the clock
  try {
    for (let i = 0; i < 30; i++) assert.equal((await fetch(`${url}/api`)).status, 503);
    assert.equal(down.seen.length, 30 + 10, 'without the budget 30 calls would have been 90 at the upstream');
  } finally {
    clearInterval(driving);
    await runtime.stop();
    await down.close();
  }
});
