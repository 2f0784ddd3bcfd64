import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { echoTarget, startGateway, targetCapability, upstream } from './harness.js';

const sourceFile = fileURLToPath(new URL('fixtures/decorators/project.yaml', import.meta.url));

describe('Mia decorators (pre, post, catch)', () => {
  let service: Awaited<ReturnType<typeof upstream>>;
  let hooks: Awaited<ReturnType<typeof upstream>>;
  let runtime: Runtime;
  let url: string;

  before(async () => {
    service = await upstream((req, res, body) => {
      if (req.url!.startsWith('/api/fail')) return res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ got: body ? JSON.parse(body) : null, added: req.headers['x-added'] ?? null }));
    });
    hooks = await upstream((req, res, raw) => {
      const input = JSON.parse(raw) as { headers?: Record<string, string>; request?: unknown; response?: { statusCode: number; body: Record<string, unknown> } };
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      switch (req.url) {
        case '/add-header':
          return json(200, { headers: { 'x-added': 'by-pre' } });
        case '/maybe-stop':
          if (input.headers?.['x-block'] === 'yes') return json(418, { statusCode: 403, headers: { 'x-stopped': 'true' }, body: { message: 'blocked by decorator' } });
          return res.writeHead(204).end();
        case '/post':
          return json(200, { body: { ...input.response!.body, decorated: true }, headers: { 'x-post': 'done' } });
        case '/catch':
          return json(200, { statusCode: 503, body: { message: 'friendly error', was: input.response!.statusCode } });
        default:
          return json(500, 'nope');
      }
    });
    ({ runtime, url } = await startGateway(
      {
        sourceFile,
        upstreams: { svc: { url: service.url, policies: [] }, hooks: { url: hooks.url, policies: [] } },
        endpoints: [
          {
            basePath: '/api',
            target: { upstream: 'svc' },
            public: true,
            decorators: {
              pre: [{ upstream: 'hooks', path: '/add-header' }, { url: `${hooks.url}/maybe-stop` }],
              post: [{ upstream: 'hooks', path: '/post' }],
              catch: [{ upstream: 'hooks', path: '/catch' }],
            },
          },
          {
            basePath: '/local',
            target: { collection: 'notes' },
            public: true,
            decorators: { pre: [{ module: './hooks.mjs', export: 'leaveAlone' }, { module: './hooks.mjs', export: 'tagRequest' }] },
          },
        ],
      },
      { capabilities: [targetCapability('crud', 'crud', { notes: echoTarget })] },
    ));
  });
  after(async () => {
    await runtime.stop();
    await service.close();
    await hooks.close();
  });

  test('pre hooks change the request (204 keeps it, 200 overrides headers); post hooks change the answer', async () => {
    const res = await fetch(`${url}/api/items`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-post'), 'done');
    assert.deepEqual(await res.json(), { got: { a: 1 }, added: 'by-pre', decorated: true });
    assert.equal(hooks.seen.length, 3);
    assert.deepEqual(JSON.parse(hooks.seen[0]!.body).body, { a: 1 });
  });

  test('a 418 from a pre hook stops the chain and answers the caller; the service is not called', async () => {
    const calls = service.seen.length;
    const res = await fetch(`${url}/api/items`, { headers: { 'x-block': 'yes' } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-stopped'), 'true');
    assert.deepEqual(await res.json(), { message: 'blocked by decorator' });
    assert.equal(service.seen.length, calls);
  });

  test('catch hooks see error answers and may replace them', async () => {
    const res = await fetch(`${url}/api/fail`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { message: 'friendly error', was: 500 });
  });

  test('in-process code hooks use the same protocol', async () => {
    const res = await fetch(`${url}/local`, { method: 'POST', body: '{"text":"hi"}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { body: unknown };
    assert.deepEqual(body.body, { text: 'hi', tagged: true });
  });
});
