import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { emptyPolicies, startGateway, upstream, waitFor } from './harness.js';

const json = (body: unknown) => (_req: unknown, res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('BFF: the endpoint timeout bounds the whole composition', () => {
  test('a slow dependent chain over the endpoint timeout is 504 naming the calls that did not finish; each call keeps its own deadline', async () => {
    const clock = new ManualClock();
    const fast = await upstream(json({ next: 'n1' }));
    let cancelled = 0;
    const slow = await upstream((_req, res) => res.on('close', () => cancelled++)); // never answers
    const { runtime, url } = await startGateway(
      {
        upstreams: { fast: { url: fast.url, policies: [] }, slow: { url: slow.url, policies: [] } },
        endpoints: [
          {
            basePath: '/chain',
            public: true,
            timeout: '1s',
            compose: [
              { name: 'first', call: { upstream: 'fast', path: '/first' } },
              // 5 s each: alone, no call reaches its own deadline before the endpoint's 1 s.
              { name: 'second', call: { upstream: 'slow', path: '/second/{first.next}' }, timeout: '5s' },
              { name: 'third', call: { upstream: 'fast', path: '/third/{second.id}' }, timeout: '5s' },
            ],
          },
        ],
      },
      { clock },
    );
    try {
      const pending = fetch(`${url}/chain`);
      await waitFor(() => slow.seen.length === 1, 'the dependent call to reach the slow upstream');
      assert.equal(slow.seen[0]!.url, '/second/n1');
      await clock.advance(1_000);
      const res = await pending;
      assert.equal(res.status, 504);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, 'MR_GW_UPSTREAM_TIMEOUT');
      assert.match(body.message, /within 1000 ms/);
      assert.match(body.message, /unfinished calls: "second", "third"$/);
      assert.doesNotMatch(body.message, /"first"/);
      assert.equal(fast.seen.length, 1, 'the call after the slow one never started');
      await waitFor(() => cancelled === 1, 'the unfinished upstream call to be cancelled');
    } finally {
      await runtime.stop();
      await fast.close();
      await slow.close();
    }
  });

  test('a named timeout policy works as the endpoint deadline; within it, a per-call timeout still names its call', async () => {
    const clock = new ManualClock();
    const slow = await upstream(() => undefined);
    const fast = await upstream(json({ ok: 1 }));
    const { runtime, url } = await startGateway(
      {
        upstreams: { slow: { url: slow.url, policies: [] }, fast: { url: fast.url, policies: [] } },
        policies: { ...emptyPolicies, timeouts: { page: 2_000 } },
        endpoints: [
          {
            basePath: '/page',
            public: true,
            timeout: 'page',
            compose: [
              { name: 'main', call: { upstream: 'fast' } },
              { name: 'extra', call: { upstream: 'slow' }, timeout: '500ms', optional: true },
              { name: 'late', call: { upstream: 'slow', path: '/late' }, timeout: '10s' },
            ],
          },
        ],
      },
      { clock },
    );
    try {
      const pending = fetch(`${url}/page`);
      await waitFor(() => slow.seen.length === 2 && fast.seen.length === 1, 'the calls to arrive');
      await clock.advance(500);
      await clock.advance(1_500);
      const res = await pending;
      assert.equal(res.status, 504);
      const body = (await res.json()) as { message: string };
      assert.match(body.message, /within 2000 ms; unfinished calls: "late"$/, 'the optional call ended at its own deadline, before the endpoint\'s');
    } finally {
      await runtime.stop();
      await slow.close();
      await fast.close();
    }
  });
});
