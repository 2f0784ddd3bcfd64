import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { echoTarget, startGateway, targetCapability, upstream, waitFor } from './harness.js';

type Up = Awaited<ReturnType<typeof upstream>>;

describe('strangler endpoints run pre, post and catch decorators', () => {
  let legacy: Up;
  let v2: Up;
  let hooks: Up;
  let runtime: Runtime;
  let url: string;

  before(async () => {
    const answer = (side: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: string) => {
      if (req.url!.includes('fail')) return res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
      res.writeHead(200, { 'content-type': 'application/json', 'x-side': side }).end(JSON.stringify({ side, url: req.url, tag: req.headers['x-tag'] ?? null, body: body || null }));
    };
    legacy = await upstream(answer('legacy'));
    v2 = await upstream(answer('v2'));
    hooks = await upstream((req, res, raw) => {
      const input = JSON.parse(raw) as { method?: string; body?: unknown; response?: { statusCode: number; body: Record<string, unknown> } };
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/pre') return json(200, { headers: { 'x-tag': 'pre' }, ...(input.method === 'POST' ? { body: { replaced: true } } : {}) });
      if (req.url === '/post') return json(200, { body: { ...input.response!.body, post: true }, headers: { 'x-post': 'yes' } });
      if (req.url === '/catch') return json(200, { statusCode: 503, body: { message: 'caught', was: input.response!.statusCode } });
      return json(500, {});
    });
    ({ runtime, url } = await startGateway(
      {
        upstreams: { legacy: { url: legacy.url, policies: [] }, v2: { url: v2.url, policies: [] }, hooks: { url: hooks.url, policies: [] } },
        endpoints: [
          {
            basePath: '/',
            public: true,
            strangler: {
              legacy: 'legacy',
              routes: [
                { path: '/api/new/*', to: { upstream: 'v2' }, mode: 'serve' },
                { path: '/api/local/*', to: { collection: 'notes' }, mode: 'serve' },
                { path: '/api/shadowed/*', to: { upstream: 'v2' }, mode: 'shadow', ignoreFields: ['side'] },
              ],
            },
            decorators: { pre: [{ upstream: 'hooks', path: '/pre' }], post: [{ upstream: 'hooks', path: '/post' }], catch: [{ upstream: 'hooks', path: '/catch' }] },
          },
        ],
      },
      { capabilities: [targetCapability('crud', 'crud', { notes: echoTarget })] },
    ));
  });
  after(async () => {
    await runtime.stop();
    await Promise.all([legacy.close(), v2.close(), hooks.close()]);
  });

  test('the legacy catch-all: pre changes the request, post changes the answer', async () => {
    const res = await fetch(`${url}/old/page`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-post'), 'yes');
    assert.equal(res.headers.get('x-side'), 'legacy');
    assert.deepEqual(await res.json(), { side: 'legacy', url: '/old/page', tag: 'pre', body: null, post: true });
  });

  test('a serve route to an upstream: the body a pre hook replaced reaches the new target; post runs', async () => {
    const res = await fetch(`${url}/api/new/items`, { method: 'POST', body: '{"original":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { side: 'v2', url: '/api/new/items', tag: 'pre', body: '{"replaced":true}', post: true });
    assert.equal(v2.seen.at(-1)!.body, '{"replaced":true}');
  });

  test('a serve route to an in-process target: post runs on its answer', async () => {
    const res = await fetch(`${url}/api/local/7`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { url: string; post: boolean };
    assert.equal(body.url, '/api/local/7');
    assert.equal(body.post, true);
  });

  test('catch hooks replace an error answer from legacy', async () => {
    const res = await fetch(`${url}/old/fail`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { message: 'caught', was: 500 });
  });

  test('shadow: the caller gets legacy\'s answer through post; the copy still reaches the new target', async () => {
    const before = v2.seen.length;
    const res = await fetch(`${url}/api/shadowed/q`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { side: 'legacy', url: '/api/shadowed/q', tag: 'pre', body: null, post: true });
    await waitFor(() => v2.seen.length === before + 1, 'the shadow copy');
    assert.equal(v2.seen.at(-1)!.headers['x-tag'], 'pre');
  });
});
