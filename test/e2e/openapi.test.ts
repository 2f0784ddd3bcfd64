/**
 * `GET /documentation/json` and `GET /documentation` (crud-api.md §2): a valid OpenAPI 3.0 document of the
 * routes a runtime serves (collections at their endpoints with their schemas as components, a proxied
 * endpoint, status routes), a browsable page that loads no remote asset, and `server.documentation: false`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { loadProject } from '../../src/config/load-project.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';

type Json = Record<string, unknown>;

const PROJECT = `version: 1
name: library
upstreams:
  legacy: { url: "http://127.0.0.1:9" }
collections:
  - name: books
    endpointBasePath: /books
    description: The books of the library
    fields:
      - { name: title, type: string, required: true }
      - { name: price, type: number }
      - { name: published, type: Date, nullable: true }
      - { name: position, type: GeoPoint }
      - { name: tags, type: Array, items: { type: string } }
      - { name: signature, type: RawObject, schema: { properties: { name: { type: string } }, required: [name] } }
  - { name: cheap_books, type: view, source: books, endpointBasePath: /cheap-books, pipeline: [{ $match: { price: { $lt: 10 } } }] }
endpoints:
  - { basePath: /api/books, target: { collection: books }, public: true }
  - { basePath: /api/legacy, target: { upstream: legacy }, public: true }
`;

async function start(dir: string, text: string): Promise<Runtime> {
  await writeFile(join(dir, 'project.yaml'), text);
  const { config, diagnostics } = await loadProject(join(dir, 'project.yaml'), { env: {} });
  assert.ok(config, JSON.stringify(diagnostics));
  const runtime = createRuntime(config, { port: 0, host: '127.0.0.1', dataDir: join(dir, 'data'), logger: silentLogger });
  await runtime.start();
  return runtime;
}

describe('API documentation', () => {
  let dir: string;
  let runtime: Runtime;
  let document: Json;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-openapi-'));
    runtime = await start(dir, PROJECT);
    const res = await runtime.server.inject({ url: '/documentation/json' });
    assert.equal(res.statusCode, 200, res.body);
    document = JSON.parse(res.body) as Json;
  });
  after(async () => {
    await runtime?.stop('test done');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('is a valid OpenAPI 3.0 document named after the project', async () => {
    assert.equal(document.openapi, '3.0.3');
    assert.equal((document.info as Json).title, 'library');
    // The validator dereferences in place: give it a copy.
    await SwaggerParser.validate(structuredClone(document) as never);
  });

  it('lists every collection route at the endpoint that mounts it, with the Mia methods', () => {
    const paths = document.paths as Record<string, Json>;
    const methods = (path: string): string[] => Object.keys(paths[path] ?? {}).filter((m) => m !== 'options').sort();
    assert.deepEqual(methods('/api/books/'), ['delete', 'get', 'patch', 'post']);
    assert.deepEqual(methods('/api/books/{id}'), ['delete', 'get', 'patch']);
    assert.deepEqual(methods('/api/books/{id}/state'), ['post']);
    assert.deepEqual(methods('/api/books/bulk'), ['patch', 'post']);
    for (const path of ['/api/books/count', '/api/books/export', '/api/books/schema']) assert.deepEqual(methods(path), ['get'], path);
    assert.deepEqual(methods('/api/books/import'), ['patch', 'post']);
    // A view is read-only; the collection's own endpointBasePath is not served (an endpoint targets it).
    assert.deepEqual(methods('/cheap-books/'), ['get']);
    assert.equal(paths['/books/'], undefined);
    // The proxied endpoint and the status routes are there too; the documentation's own routes are not.
    assert.ok(Object.keys(paths).some((p) => p.startsWith('/api/legacy')), Object.keys(paths).join(', '));
    for (const path of ['/-/healthz', '/-/ready', '/-/check-up', '/-/metrics']) assert.deepEqual(methods(path), ['get'], path);
    assert.ok(!Object.keys(paths).some((p) => p.startsWith('/documentation')));
  });

  it('describes documents with the collection schema as a component, parameters and Mia responses', () => {
    const books = ((document.components as Json).schemas as Record<string, Json>).books;
    assert.ok(books, 'books is a component');
    const props = books.properties as Record<string, Json>;
    assert.deepEqual(props.title, { type: 'string' });
    assert.deepEqual(props.published, { type: 'string', format: 'date-time', nullable: true });
    assert.equal(props.position?.type, 'array');
    assert.deepEqual(props.position?.items, { type: 'number', minimum: -180, maximum: 180 });
    assert.deepEqual((props.signature?.properties as Json).name, { type: 'string' });
    assert.deepEqual(books.required, ['_id', 'title']);

    const paths = document.paths as Record<string, Record<string, Json>>;
    const byId = paths['/api/books/{id}']?.get as Json;
    assert.deepEqual(byId.tags, ['books']);
    assert.deepEqual((((byId.responses as Json)[200] as Json).content as Json)['application/json'], { schema: { $ref: '#/components/schemas/books' } });
    const list = paths['/api/books/']?.get as Json;
    const names = (list.parameters as Json[]).map((p) => p.name);
    for (const name of ['_q', '_p', '_s', '_l', '_sk', '_st', 'title', 'price']) assert.ok(names.includes(name), `${name} in ${names.join(',')}`);
    const count = paths['/api/books/count']?.get as Json;
    assert.deepEqual((((count.responses as Json)[200] as Json).content as Json)['application/json'], { schema: { type: 'integer', minimum: 0 } });
    const insert = paths['/api/books/']?.post as Json;
    const body = (((insert.requestBody as Json).content as Json)['application/json'] as Json).schema as Json;
    assert.deepEqual(body.required, ['title']);
    assert.ok(((document.tags as Json[]) ?? []).some((t) => t.name === 'books' && t.description === 'The books of the library'));
  });

  it('serves a browsable page whose assets come from this server (works offline)', async () => {
    const page = await runtime.server.inject({ url: '/documentation' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(assets.length > 0);
    for (const asset of assets) assert.ok(asset.startsWith('/documentation/') || asset.startsWith('./'), `local asset: ${asset}`);
    const bundle = await runtime.server.inject({ url: '/documentation/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
    assert.ok(bundle.body.length > 100_000, 'the Swagger UI bundle is served from the package');
  });
});

describe('server.documentation: false', () => {
  it('serves neither the document nor the page', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mia-run-openapi-off-'));
    const runtime = await start(dir, PROJECT.replace('upstreams:', 'server: { documentation: false }\nupstreams:'));
    try {
      assert.equal((await runtime.server.inject({ url: '/documentation/json' })).statusCode, 404);
      assert.equal((await runtime.server.inject({ url: '/documentation' })).statusCode, 404);
      assert.equal((await runtime.server.inject({ url: '/api/books/count' })).body, '0');
    } finally {
      await runtime.stop('test done');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
