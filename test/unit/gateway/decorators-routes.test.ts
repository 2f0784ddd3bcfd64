import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { gatewayRules } from '../../../src/config/rules/gateway.js';
import { HEADER, load } from '../config/files.js';
import { startGateway, targetCapability, upstream } from './harness.js';

const sourceFile = fileURLToPath(new URL('fixtures/decorators/project.yaml', import.meta.url));

const notes: FastifyPluginAsync = async (app) => {
  app.get('/', async () => ({ notes: ['a'] }));
  app.get('/plain', async () => ({ plain: true }));
  app.post('/', async () => ({ created: true }));
};

describe('decorators per route (routes: "VERB/path": { decorators })', () => {
  let service: Awaited<ReturnType<typeof upstream>>;
  let runtime: Runtime;
  let url: string;

  before(async () => {
    service = await upstream((req, res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url, body })));
    ({ runtime, url } = await startGateway(
      {
        sourceFile,
        upstreams: { svc: { url: service.url, policies: [] } },
        endpoints: [
          {
            basePath: '/notes',
            target: { collection: 'notes' },
            public: true,
            decorators: { post: [{ module: './hooks.mjs', export: 'stampAnswer' }] },
            routes: {
              'POST/': { decorators: { pre: [{ module: './hooks.mjs', export: 'refuseDrafts' }] } },
              'GET/plain': { decorators: { post: [] } },
            },
          },
          {
            // Only one route is decorated: the endpoint still buffers bodies so that route's hook can replace its answer.
            basePath: '/svc',
            target: { upstream: 'svc' },
            public: true,
            routes: { 'GET/one': { decorators: { post: [{ module: './hooks.mjs', export: 'stampAnswer' }] } } },
          },
        ],
      },
      { capabilities: [targetCapability('crud', 'crud', { notes })] },
    ));
  });
  after(async () => {
    await runtime.stop();
    await service.close();
  });

  test('a route\'s pre hook runs on that verb and path only; the endpoint\'s post hook still runs there', async () => {
    const refused = await fetch(`${url}/notes?draft=true`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(refused.status, 409);
    const created = await fetch(`${url}/notes`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.deepEqual(await created.json(), { created: true, stamped: true }, 'the kinds a route does not list are the endpoint\'s');
    const listed = await fetch(`${url}/notes?draft=true`);
    assert.equal(listed.status, 200, 'GET / has no pre hook');
    assert.deepEqual(await listed.json(), { notes: ['a'], stamped: true });
  });

  test('a route may clear a kind with an empty list', async () => {
    const res = await fetch(`${url}/notes/plain`);
    assert.deepEqual(await res.json(), { plain: true });
    assert.equal(res.headers.get('x-code-post'), null);
  });

  test('an upstream endpoint with one decorated route: that route\'s answer is decorated, the others pass as they are', async () => {
    assert.deepEqual(await (await fetch(`${url}/svc/one`)).json(), { url: '/svc/one', body: '', stamped: true });
    assert.deepEqual(await (await fetch(`${url}/svc/two`)).json(), { url: '/svc/two', body: '' });
  });
});

test('route decorators are checked like the endpoint\'s: an unknown upstream is a validate-time error', async () => {
  const text = `${HEADER}upstreams:\n  hooks: { url: "http://hooks" }\nendpoints:\n  - basePath: /api\n    target: { upstream: hooks }\n    routes:\n      "GET/":\n        decorators: { pre: [{ upstream: hoks, path: /x }] }\n`;
  const result = await load({ 'project.yaml': text }, { rules: gatewayRules });
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.path, d.message]), [
    ['MR_CONFIG_UNKNOWN_REF', 'endpoints[0].routes["GET/"].decorators.pre[0].upstream', '"hoks" is not a declared upstream; did you mean "hooks"?'],
  ]);
});
