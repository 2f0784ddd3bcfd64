import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { startGateway, upstream, waitFor } from './harness.js';

type Up = Awaited<ReturnType<typeof upstream>>;
const side = (name: string, headers: Record<string, string> = {}) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ side: name, url: req.url }));

interface Report {
  stranglers: { routes: { path: string; shadow?: { compared: number; mismatches: number; samples: { differences: { path: string }[] }[] } }[] }[];
}

describe('strangler split stickiness by client key and by cookie; shadow header comparison', () => {
  let legacy: Up;
  let next: Up;
  let runtime: Runtime;
  let url: string;
  const keys = Array.from({ length: 24 }, (_, i) => ({ key: `key-${i}`, clientType: 'web' }));

  before(async () => {
    legacy = await upstream(side('legacy', { 'x-version': '1' }));
    next = await upstream(side('new', { 'x-version': '2' }));
    ({ runtime, url } = await startGateway({
      auth: { apiKeys: keys },
      upstreams: { legacy: { url: legacy.url, policies: [] }, next: { url: next.url, policies: [] } },
      endpoints: [
        {
          basePath: '/',
          public: true,
          strangler: {
            legacy: 'legacy',
            routes: [
              { path: '/by-client/*', to: { upstream: 'next' }, mode: 'split', weight: '50%', stickyBy: 'client' },
              { path: '/by-cookie/*', to: { upstream: 'next' }, mode: 'split', weight: '50%', stickyBy: 'cookie', cookie: 'route_id' },
              { path: '/shadowed', to: { upstream: 'next' }, mode: 'shadow', ignoreFields: ['side'], compareHeaders: ['x-version'] },
            ],
          },
        },
      ],
    }));
  });
  after(async () => {
    await runtime.stop();
    await Promise.all([legacy.close(), next.close()]);
  });

  test('stickyBy client: each client key stays on one side; keys spread over both', async () => {
    const sides: string[] = [];
    for (const { key } of keys) {
      const seen = new Set<string>();
      for (let n = 0; n < 3; n++) seen.add(((await (await fetch(`${url}/by-client/x`, { headers: { 'client-key': key } })).json()) as { side: string }).side);
      assert.equal(seen.size, 1, `${key} switched sides`);
      sides.push([...seen][0]!);
    }
    const onNew = sides.filter((s) => s === 'new').length;
    assert.ok(onNew > 0 && onNew < keys.length, `both sides get clients (new: ${onNew}/${keys.length})`);
  });

  test('stickyBy cookie: a caller without the cookie gets one that keeps it on its side', async () => {
    const sides: string[] = [];
    for (let i = 0; i < 24; i++) {
      const first = await fetch(`${url}/by-cookie/page`);
      const setCookie = first.headers.get('set-cookie') ?? '';
      assert.match(setCookie, /^route_id=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
      const cookie = setCookie.split(';', 1)[0]!;
      const firstSide = ((await first.json()) as { side: string }).side;
      for (let n = 0; n < 3; n++) {
        const again = await fetch(`${url}/by-cookie/page`, { headers: { cookie } });
        assert.equal(again.headers.get('set-cookie'), null, 'a caller with the cookie keeps it');
        assert.equal(((await again.json()) as { side: string }).side, firstSide, `${cookie} switched sides`);
      }
      sides.push(firstSide);
    }
    const onNew = sides.filter((s) => s === 'new').length;
    assert.ok(onNew > 0 && onNew < 24, `both sides get callers (new: ${onNew}/24)`);
  });

  test('shadow with compareHeaders: a header that differs is a mismatch even when bodies match (volatile fields ignored)', async () => {
    const res = await fetch(`${url}/shadowed`);
    assert.equal(((await res.json()) as { side: string }).side, 'legacy');
    const report = async (): Promise<Report> => (await fetch(`${url}/-/strangler`)).json() as Promise<Report>;
    await waitFor(async () => (await report()).stranglers[0]!.routes[2]!.shadow!.compared === 1, 'the comparison');
    const shadow = (await report()).stranglers[0]!.routes[2]!.shadow!;
    assert.equal(shadow.mismatches, 1);
    assert.deepEqual(shadow.samples[0]!.differences.map((d) => d.path), ['header:x-version']);
  });
});
