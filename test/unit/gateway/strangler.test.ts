import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { SECRET, echoTarget, startGateway, targetCapability, token, upstream, waitFor } from './harness.js';

const json = (body: unknown) => (_req: unknown, res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

interface Report {
  stranglers: { basePath: string; legacyRequests: number; routes: { path: string; mode: string; requests: number; newShare: number | null; shadow?: { compared: number; matches: number; mismatches: number; errors: number; matchRate: number | null; samples: { differences: { path: string }[] }[] } }[] }[];
}

describe('strangler', () => {
  let legacy: Awaited<ReturnType<typeof upstream>>;
  let cart: Awaited<ReturnType<typeof upstream>>;
  let search: Awaited<ReturnType<typeof upstream>>;
  let runtime: Runtime;
  let url: string;
  const report = async (): Promise<Report> => (await fetch(`${url}/-/strangler`)).json() as Promise<Report>;

  before(async () => {
    legacy = await upstream((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ side: 'legacy', url: req.url, results: [1, 2], took: 5 })));
    cart = await upstream(json({ side: 'new' }));
    search = await upstream((req, res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ side: 'legacy', url: req.url, results: [1, 2], took: 9, echo: body || undefined })));
    ({ runtime, url } = await startGateway(
      {
        auth: { jwt: { secret: SECRET } },
        upstreams: { legacy: { url: legacy.url, policies: [] }, cart: { url: cart.url, policies: [] }, search: { url: search.url, policies: [] } },
        endpoints: [
          {
            basePath: '/',
            public: true,
            strangler: {
              legacy: 'legacy',
              routes: [
                { path: '/api/catalog/*', to: { collection: 'products' }, mode: 'serve' },
                { path: '/api/cart/*', to: { upstream: 'cart' }, mode: 'split', weight: '50%', stickyBy: 'user' },
                { path: '/api/search/*', to: { upstream: 'search' }, mode: 'shadow', ignoreFields: ['took', 'side'] },
              ],
            },
          },
        ],
      },
      { capabilities: [targetCapability('crud', 'crud', { products: echoTarget })] },
    ));
  });
  after(async () => {
    await runtime.stop();
    await Promise.all([legacy.close(), cart.close(), search.close()]);
  });

  test('unclaimed paths go to legacy (catch-all); a serve route goes to the in-process target', async () => {
    const res = await fetch(`${url}/old/page?x=1`);
    assert.deepEqual(await res.json(), { side: 'legacy', url: '/old/page?x=1', results: [1, 2], took: 5 });
    const served = await fetch(`${url}/api/catalog/5`);
    assert.equal(served.status, 200);
    assert.equal(((await served.json()) as { url: string }).url, '/api/catalog/5');
  });

  test('split: each user stays on one side; both sides get users; x-mia-route forces a side', async () => {
    const sides = new Map<string, string>();
    for (let i = 0; i < 24; i++) {
      const jwt = await token({ sub: `user-${i}` });
      const seen = new Set<string>();
      for (let n = 0; n < 3; n++) {
        const res = await fetch(`${url}/api/cart/items`, { headers: { authorization: `Bearer ${jwt}` } });
        seen.add(((await res.json()) as { side: string }).side);
      }
      assert.equal(seen.size, 1, `user-${i} switched sides`);
      sides.set(`user-${i}`, [...seen][0]!);
    }
    const onNew = [...sides.values()].filter((s) => s === 'new').length;
    assert.ok(onNew > 0 && onNew < 24, `both sides get users (new: ${onNew}/24)`);
    const forced = await fetch(`${url}/api/cart/items`, { headers: { 'x-mia-route': 'new' } });
    assert.equal(((await forced.json()) as { side: string }).side, 'new');
    const cartRoute = (await report()).stranglers[0]!.routes[1]!;
    assert.equal(cartRoute.mode, 'split');
    assert.equal(cartRoute.requests, 73);
    assert.ok(cartRoute.newShare! > 0 && cartRoute.newShare! < 1);
  });

  test('shadow: legacy answers, the new target gets a copy, answers are compared ignoring volatile fields', async () => {
    const res = await fetch(`${url}/api/search/q?term=a`);
    assert.deepEqual(await res.json(), { side: 'legacy', url: '/api/search/q?term=a', results: [1, 2], took: 5 });
    await waitFor(async () => (await report()).stranglers[0]!.routes[2]!.shadow!.compared === 1, 'the first comparison');
    assert.equal(search.seen[0]!.url, '/api/search/q?term=a');

    search.respond((req, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ side: 'new', url: req.url, results: [1, 3], took: 1 })));
    const posted = await fetch(`${url}/api/search/q`, { method: 'POST', body: '{"term":"b"}', headers: { 'content-type': 'application/json' } });
    assert.equal(((await posted.json()) as { side: string }).side, 'legacy');
    await waitFor(async () => (await report()).stranglers[0]!.routes[2]!.shadow!.compared === 2, 'the second comparison');
    assert.equal(search.seen[1]!.body, '{"term":"b"}', 'the copy carries the body');
    assert.equal(legacy.seen.at(-1)!.body, '{"term":"b"}');

    const shadow = (await report()).stranglers[0]!.routes[2]!.shadow!;
    assert.equal(shadow.matches, 1);
    assert.equal(shadow.mismatches, 1);
    assert.equal(shadow.matchRate, 0.5);
    assert.deepEqual(shadow.samples[0]!.differences.map((d) => d.path), ['results.1']);
  });
});
