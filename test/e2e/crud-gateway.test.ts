/**
 * CRUD served through the runtime and the gateway (no network hop to the capability): a collection mounted at
 * its endpointBasePath, and one behind an endpoint whose crudAcl sets acl_rows / acl_write_columns from the
 * caller's identity (taken from a trusted header here); the endpoint's ACL headers win over the caller's.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadProject } from '../../src/config/load-project.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';

const PROJECT = `version: 1
name: crud-gateway
server: { port: 0, userIdHeader: x-user, trustIdentityHeaders: true }
collections:
  - name: board
    endpointBasePath: /board
    defaultState: PUBLIC
    fields: [{ name: title, type: string }]
  - name: notes
    endpointBasePath: /notes
    defaultState: PUBLIC
    fields:
      - { name: owner, type: string, required: true }
      - { name: text, type: string }
      - { name: pinned, type: boolean }
endpoints:
  - basePath: /api/my-notes
    target: { collection: notes }
    public: true
    crudAcl:
      rows: { owner: "{userId}" }
      writeColumns: [text]
`;

describe('CRUD behind the gateway (runtime, embedded store)', () => {
  let dir: string;
  let runtime: Runtime;
  let url: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-crud-gw-'));
    await writeFile(join(dir, 'project.yaml'), PROJECT);
    const loaded = await loadProject(join(dir, 'project.yaml'), { env: {} });
    assert.deepEqual(loaded.diagnostics, []);
    runtime = createRuntime(loaded.config!, { dataDir: join(dir, 'data'), logger: silentLogger, port: 0 });
    url = (await runtime.start()).url;
  });
  after(async () => {
    await runtime?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };

  it('serves a collection at its endpointBasePath when no endpoint targets it', async () => {
    const created = await call('POST', '/board', { title: 'a' }, { 'x-user': 'ann' });
    assert.equal(created.status, 200);
    const list = await call('GET', '/board/');
    assert.deepEqual((list.body as { title: string; creatorId: string }[]).map((n) => [n.title, n.creatorId]), [['a', 'ann']]);
    assert.equal((await call('GET', '/board/count')).body, 1);
    assert.equal((await call('GET', '/notes/')).status, 404);
  });

  it('applies the endpoint crudAcl from the caller identity, and its ACL headers win over those the caller sends', async () => {
    assert.equal((await call('POST', '/api/my-notes', { owner: 'ann', text: 'a' }, { 'x-user': 'ann' })).status, 200);
    assert.equal((await call('POST', '/api/my-notes', { owner: 'bob', text: 'b' }, { 'x-user': 'bob' })).status, 200);
    const mine = await call('GET', '/api/my-notes/', undefined, { 'x-user': 'ann', acl_rows: '{}' });
    assert.equal(mine.status, 200);
    assert.deepEqual((mine.body as { owner: string }[]).map((n) => n.owner), ['ann']);
    const anonymous = await call('GET', '/api/my-notes/count');
    assert.equal(anonymous.body, 0);
    const bobsNote = ((await call('GET', '/api/my-notes/', undefined, { 'x-user': 'bob' })).body as { _id: string }[])[0]!;
    assert.equal((await call('PATCH', `/api/my-notes/${bobsNote._id}`, { $set: { text: 'hacked' } }, { 'x-user': 'ann' })).status, 404);
    const annsNote = (mine.body as { _id: string }[])[0]!;
    const ok = await call('PATCH', `/api/my-notes/${annsNote._id}`, { $set: { text: 'edited' } }, { 'x-user': 'ann' });
    assert.equal(ok.status, 200);
    assert.equal((ok.body as { updaterId: string }).updaterId, 'ann');
    const denied = await call('PATCH', `/api/my-notes/${annsNote._id}`, { $set: { pinned: true } }, { 'x-user': 'ann', acl_write_columns: 'pinned' });
    assert.equal(denied.status, 400);
    assert.equal((denied.body as { message: string }).message, 'Field pinned is not writable (acl_write_columns)');
  });
});
