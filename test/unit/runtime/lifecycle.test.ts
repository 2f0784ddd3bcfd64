import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyPluginAsync } from 'fastify';
import type { CapabilityFactory, Role } from '../../../src/ports/capability-context.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';
import { MiaRunError } from '../../../src/errors.js';
import { fakeBackends } from '../../helpers/fake-backends.js';
import { projectConfig } from '../../helpers/project-config.js';

function recordingCapability(name: string, role: Role, events: string[], listening: () => boolean, routes = new Map<string, FastifyPluginAsync>()): CapabilityFactory {
  return {
    name,
    role,
    create: (ctx) => {
      events.push(`create ${name} (stores: ${[...ctx.stores.keys()].join(',')}; bus: ${ctx.bus.kind})`);
      return {
        name,
        routes,
        start: async () => void events.push(`start ${name} (listening: ${listening()})`),
        stop: async () => void events.push(`stop ${name} (listening: ${listening()})`),
        health: async () => ({ name, status: 'OK' }),
      };
    },
  };
}

describe('runtime lifecycle', () => {
  test('starts backends, then capabilities, then the listener; stops in reverse', async () => {
    const { factories, events } = fakeBackends();
    const config = projectConfig({ databases: { default: { kind: 'embedded' }, catalog: { kind: 'mongodb', url: 'mongodb://x', connectTimeout: 1 } } });
    let listening = (): boolean => false;
    const runtime = createRuntime(config, {
      logger: silentLogger,
      backends: factories,
      capabilities: [recordingCapability('crud', 'crud', events, () => listening()), recordingCapability('saga', 'sagas', events, () => listening())],
    });
    listening = () => runtime.server.server.listening;
    assert.equal(runtime.status().state, 'created');
    const { url } = await runtime.start();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(runtime.status().state, 'running');
    assert.equal((await fetch(`${url}/-/healthz`)).status, 200);
    await runtime.stop('test over');
    assert.equal(runtime.status().state, 'stopped');
    assert.deepEqual(events, [
      'create crud (stores: default,catalog; bus: bus.embedded)',
      'create saga (stores: default,catalog; bus: bus.embedded)',
      'start store.embedded default',
      'start store.mongodb catalog',
      'start bus.embedded bus',
      'start crud (listening: false)',
      'start saga (listening: false)',
      'stop saga (listening: false)',
      'stop crud (listening: false)',
      'close bus.embedded bus',
      'close store.mongodb catalog',
      'close store.embedded default',
    ]);
    await runtime.stop('again');
  });

  test('--role keeps only the selected capabilities; status tells what runs', async () => {
    const { factories, events } = fakeBackends();
    const runtime = createRuntime(projectConfig(), {
      logger: silentLogger,
      backends: factories,
      roles: ['sagas'],
      capabilities: [recordingCapability('crud', 'crud', events, () => false), recordingCapability('saga', 'sagas', events, () => false)],
    });
    const status = runtime.status();
    assert.deepEqual(status.capabilities, ['saga']);
    assert.deepEqual(status.roles, ['sagas']);
    assert.deepEqual(status.backends, [
      { name: 'default', kind: 'store.embedded' },
      { name: 'bus', kind: 'bus.embedded' },
    ]);
    await runtime.stop();
  });

  test('a backend that fails to start rolls back the started ones and rejects with MR_RUNTIME_START', async () => {
    const { factories, events, created } = fakeBackends();
    const runtime = createRuntime(projectConfig({ databases: { a: { kind: 'embedded' }, b: { kind: 'embedded' } } }), { logger: silentLogger, backends: factories });
    const b = created.get('b');
    assert.ok(b);
    b.failStart = true;
    await assert.rejects(runtime.start(), (err: unknown) => {
      assert.ok(err instanceof MiaRunError);
      assert.equal(err.code, 'MR_RUNTIME_START');
      assert.match(err.message, /store\.embedded b failed to start: b cannot open/);
      return true;
    });
    assert.deepEqual(events, ['start store.embedded a', 'close store.embedded a']);
    assert.equal(runtime.status().state, 'failed');
  });

  test('a kind without an adapter is MR_RUNTIME_START naming the kind', () => {
    assert.throws(
      () => {
        const only = { 'store.embedded': fakeBackends().factories['store.embedded'] };
        createRuntime(projectConfig({ bus: { kind: 'kafka', brokers: ['x:9092'], clientId: 'c', topics: {} } }), { logger: silentLogger, backends: only });
      },
      (err: unknown) => err instanceof MiaRunError && err.code === 'MR_RUNTIME_START' && /"bus\.kafka"/.test(err.message) && /registered kinds: store\.embedded/.test(err.hint ?? ''),
    );
  });

  test('a port in use is MR_RUNTIME_START and the backends are closed again', async () => {
    const first = createRuntime(projectConfig(), { logger: silentLogger, backends: fakeBackends().factories });
    const { url } = await first.start();
    const { factories, events } = fakeBackends();
    const second = createRuntime(projectConfig(), { logger: silentLogger, backends: factories, port: Number(new URL(url).port) });
    await assert.rejects(second.start(), (err: unknown) => err instanceof MiaRunError && err.code === 'MR_RUNTIME_START' && /EADDRINUSE/.test(err.message));
    assert.deepEqual(events, ['start store.embedded default', 'start bus.embedded bus', 'close bus.embedded bus', 'close store.embedded default']);
    await first.stop();
  });

  test('capability routes keyed by a path are mounted there; other keys are targets for the gateway', async () => {
    const events: string[] = [];
    const plugin: FastifyPluginAsync = async (app) => {
      app.get('/ping', async () => ({ pong: true }));
    };
    let seenTargets: unknown;
    const runtime = createRuntime(projectConfig(), {
      logger: silentLogger,
      backends: fakeBackends().factories,
      capabilities: [
        recordingCapability('crud', 'crud', events, () => false, new Map([['/crud', plugin], ['orders', plugin]])),
        {
          name: 'gateway',
          role: 'gateway',
          create: (ctx) => ({
            name: 'gateway',
            routes: new Map(),
            start: async () => {
              seenTargets = { list: ctx.targets.list(), found: ctx.targets.get('crud', 'orders') === plugin };
            },
            stop: async () => undefined,
            health: async () => ({ name: 'gateway', status: 'OK' }),
          }),
        },
      ],
    });
    await runtime.start();
    const res = await runtime.server.inject({ url: '/crud/ping' });
    assert.deepEqual(res.json(), { pong: true });
    assert.deepEqual(seenTargets, { list: [{ capability: 'crud', target: 'orders' }], found: true });
    await runtime.stop();
  });

  test('the backoffice listener marks requests isbackoffice; the application listener strips a spoofed one', async () => {
    const runtime = createRuntime(projectConfig(), {
      logger: silentLogger,
      backends: fakeBackends().factories,
      backofficePort: 0,
      capabilities: [
        {
          name: 'echo',
          role: 'crud',
          create: () => ({
            name: 'echo',
            routes: new Map<string, FastifyPluginAsync>([['/', async (app) => { app.get('/whoami', async (req) => ({ isbackoffice: req.headers.isbackoffice ?? null })); }]]),
            start: async () => undefined,
            stop: async () => undefined,
            health: async () => ({ name: 'echo', status: 'OK' }),
          }),
        },
      ],
    });
    const { url, backofficeUrl } = await runtime.start();
    assert.ok(backofficeUrl);
    assert.notEqual(backofficeUrl, url);
    assert.deepEqual(await (await fetch(`${backofficeUrl}/whoami`)).json(), { isbackoffice: 'true' });
    assert.deepEqual(await (await fetch(`${url}/whoami`, { headers: { isbackoffice: 'true' } })).json(), { isbackoffice: null });
    assert.equal(runtime.status().backofficeUrl, backofficeUrl);
    await runtime.stop();
  });
});
