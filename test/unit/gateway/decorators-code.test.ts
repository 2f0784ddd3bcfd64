import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { startGateway, targetCapability, upstream } from './harness.js';

const sourceFile = fileURLToPath(new URL('fixtures/decorators/project.yaml', import.meta.url));

const notes: FastifyPluginAsync = async (app) => {
  app.get('/', async () => ({ notes: ['a'] }));
  app.get('/missing', async (_request, reply) => reply.code(404).send({ message: 'no such note' }));
};

describe('in-process code decorators: post, catch and a stopping pre; a broken HTTP decorator', () => {
  let hooks: Awaited<ReturnType<typeof upstream>>;
  let service: Awaited<ReturnType<typeof upstream>>;
  let runtime: Runtime;
  let url: string;

  before(async () => {
    hooks = await upstream((_req, res) => res.writeHead(500).end('broken'));
    service = await upstream();
    ({ runtime, url } = await startGateway(
      {
        sourceFile,
        upstreams: { hooks: { url: hooks.url, policies: [] }, svc: { url: service.url, policies: [] } },
        endpoints: [
          {
            basePath: '/notes',
            target: { collection: 'notes' },
            public: true,
            decorators: {
              pre: [{ module: './hooks.mjs', export: 'refuseDrafts' }],
              post: [{ module: './hooks.mjs', export: 'stampAnswer' }],
              catch: [{ module: './hooks.mjs', export: 'hideError' }],
            },
          },
          { basePath: '/broken', target: { upstream: 'svc' }, public: true, decorators: { pre: [{ upstream: 'hooks', path: '/pre' }] } },
        ],
      },
      { capabilities: [targetCapability('crud', 'crud', { notes })] },
    ));
  });
  after(async () => {
    await runtime.stop();
    await hooks.close();
    await service.close();
  });

  test('a post code hook changes the answer of an in-process target', async () => {
    const res = await fetch(`${url}/notes`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-code-post'), 'yes');
    assert.deepEqual(await res.json(), { notes: ['a'], stamped: true });
  });

  test('a catch code hook answering 418 replaces an error answer', async () => {
    const res = await fetch(`${url}/notes/missing`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { message: 'nothing here', was: 404 });
  });

  test('a pre code hook answering 418 stops the chain with its answer (no post hook runs on it)', async () => {
    const res = await fetch(`${url}/notes?draft=true`);
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('x-refused'), 'draft');
    assert.equal(res.headers.get('x-code-post'), null);
    assert.deepEqual(await res.json(), { message: 'drafts are closed' });
  });

  test('a decorator answering outside the protocol is 502 MR_GW_DECORATOR_FAILED; the service is not called', async () => {
    const res = await fetch(`${url}/broken`);
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { code: string }).code, 'MR_GW_DECORATOR_FAILED');
    assert.equal(service.seen.length, 0);
  });
});
