import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CapabilityFactory } from '../../../src/ports/capability-context.js';
import type { HealthCheck } from '../../../src/ports/lifecycle.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';
import { VERSION } from '../../../src/runtime/version.js';
import { fakeBackends } from '../../helpers/fake-backends.js';
import { projectConfig } from '../../helpers/project-config.js';

function capability(name: string, health: () => Promise<HealthCheck>): CapabilityFactory {
  return {
    name,
    role: 'crud',
    create: () => ({ name, routes: new Map(), start: async () => undefined, stop: async () => undefined, health }),
  };
}

describe('status routes', () => {
  test('healthz answers 200 whatever the state; ready is 503 until started', async () => {
    const runtime = createRuntime(projectConfig({ name: 'shop' }), { logger: silentLogger, backends: fakeBackends().factories });
    const healthz = await runtime.server.inject({ url: '/-/healthz' });
    assert.equal(healthz.statusCode, 200);
    assert.deepEqual(healthz.json(), { name: 'shop', version: VERSION, status: 'OK', checks: [] });
    const ready = await runtime.server.inject({ url: '/-/ready' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json().checks[0], { name: 'runtime', status: 'KO', message: 'created' });
    await runtime.stop();
  });

  test('ready is 200 when every backend and capability is OK, 503 naming the one that is not', async () => {
    const { factories, created } = fakeBackends();
    const runtime = createRuntime(projectConfig({ name: 'shop' }), {
      logger: silentLogger,
      backends: factories,
      capabilities: [capability('crud', async () => ({ name: 'crud', status: 'OK' }))],
    });
    await runtime.start();
    const ok = await runtime.server.inject({ url: '/-/ready' });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), {
      name: 'shop',
      version: VERSION,
      status: 'OK',
      checks: [
        { name: 'store:default', status: 'OK' },
        { name: 'bus', status: 'OK' },
        { name: 'crud', status: 'OK' },
      ],
    });

    const store = created.get('default');
    assert.ok(store);
    store.health_ = 'KO';
    store.message = 'disk full';
    const ko = await runtime.server.inject({ url: '/-/ready' });
    assert.equal(ko.statusCode, 503);
    assert.equal(ko.json().status, 'KO');
    assert.deepEqual(ko.json().checks[0], { name: 'store:default', status: 'KO', message: 'disk full' });
    assert.deepEqual(ko.json().checks[1], { name: 'bus', status: 'OK' });
    await runtime.stop();
  });

  test('check-up reports a throwing probe as KO with its message and a duration per check', async () => {
    const runtime = createRuntime(projectConfig(), {
      logger: silentLogger,
      backends: fakeBackends().factories,
      capabilities: [capability('saga', async () => Promise.reject(new Error('store of sagas unreachable')))],
    });
    await runtime.start();
    const res = await runtime.server.inject({ url: '/-/check-up' });
    assert.equal(res.statusCode, 503);
    const checks = res.json().checks as { name: string; status: string; message?: string; durationMs: number }[];
    assert.deepEqual(
      checks.map(({ name, status, message }) => ({ name, status, message })),
      [
        { name: 'store:default', status: 'OK', message: undefined },
        { name: 'bus', status: 'OK', message: undefined },
        { name: 'saga', status: 'KO', message: 'store of sagas unreachable' },
      ],
    );
    for (const check of checks) assert.equal(typeof check.durationMs, 'number');
    await runtime.stop();
  });

  test('a probe that never answers is KO after the ready deadline', async () => {
    const clock = new ManualClock();
    const runtime = createRuntime(projectConfig(), {
      logger: silentLogger,
      clock,
      backends: fakeBackends().factories,
      capabilities: [capability('stuck', () => new Promise<HealthCheck>(() => undefined))],
    });
    await runtime.start();
    const pending = runtime.server.inject({ url: '/-/ready' });
    while (clock.pending === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    await clock.advance(2000);
    const res = await pending;
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json().checks[2], { name: 'stuck', status: 'KO', message: 'no answer within 2000 ms' });
    await runtime.stop();
  });
});
