import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyPluginAsync } from 'fastify';
import { silentLogger } from '../../../src/ports/logger.js';
import { createMetricEmitter, metricChannel, telemetryChannel } from '../../../src/ports/telemetry.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';
import { fakeBackends } from '../../helpers/fake-backends.js';
import { projectConfig } from '../../helpers/project-config.js';

const items: FastifyPluginAsync = async (app) => {
  app.get('/items/:id', async () => ({ ok: true }));
};

function runtimeWithItems() {
  return createRuntime(projectConfig(), {
    logger: silentLogger,
    backends: fakeBackends().factories,
    capabilities: [
      {
        name: 'items',
        role: 'crud',
        create: () => ({ name: 'items', routes: new Map([['/', items]]), start: async () => undefined, stop: async () => undefined, health: async () => ({ name: 'items', status: 'OK' }) }),
      },
    ],
  });
}

describe('/-/metrics', () => {
  test('Prometheus text with process metrics and the request histogram by route, method and status', async () => {
    const runtime = runtimeWithItems();
    await runtime.server.inject({ url: '/items/1' });
    await runtime.server.inject({ url: '/items/2' });
    await runtime.server.inject({ url: '/nope/3' });
    const res = await runtime.server.inject({ url: '/-/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    assert.match(res.body, /^process_cpu_user_seconds_total \d/m);
    assert.match(res.body, /^nodejs_eventloop_lag_seconds /m);
    assert.match(res.body, /^mia_run_http_request_duration_seconds_count\{route="\/items\/:id",method="GET",status_code="200"\} 2$/m);
    assert.match(res.body, /^mia_run_http_request_duration_seconds_count\{route="<unmatched>",method="GET",status_code="404"\} 1$/m);
    await runtime.stop();
  });

  test('two runtimes in one process keep separate registries', async () => {
    const a = runtimeWithItems();
    const b = runtimeWithItems();
    await a.server.inject({ url: '/items/1' });
    const res = await b.server.inject({ url: '/-/metrics' });
    assert.doesNotMatch(res.body, /route="\/items\/:id"/);
    await a.stop();
    await b.stop();
  });

  test('samples published on mia-run:<source>:metric channels appear with the source prefix', async () => {
    const runtime = runtimeWithItems();
    const crud = createMetricEmitter('crud');
    crud.count('documents_written', 'Documents written, by collection', { collection: 'orders' });
    crud.count('documents_written', 'Documents written, by collection', { collection: 'orders' }, 2);
    crud.gauge('open_cursors', 'Open cursors', 4);
    createMetricEmitter('bus').observe('publish_seconds', 'Publish latency', 0.02, { topic: 'order-events' }, [0.01, 0.1]);
    const body = (await runtime.server.inject({ url: '/-/metrics' })).body;
    assert.match(body, /^# HELP mia_run_crud_documents_written_total Documents written, by collection$/m);
    assert.match(body, /^mia_run_crud_documents_written_total\{collection="orders"\} 3$/m);
    assert.match(body, /^mia_run_crud_open_cursors 4$/m);
    assert.match(body, /^mia_run_bus_publish_seconds_bucket\{le="0.1",topic="order-events"\} 1$/m);
    await runtime.stop();

    // After stop the runtime no longer listens: publishing is harmless and changes nothing.
    crud.count('documents_written', 'Documents written, by collection', { collection: 'orders' });
  });

  test('a malformed sample is dropped without breaking the publisher', async () => {
    const runtime = runtimeWithItems();
    const saga = createMetricEmitter('saga');
    saga.count('bad name!', 'invalid');
    saga.count('steps', 'Steps', { saga: 'checkout' });
    saga.count('steps', 'Steps', { other: 'label set' });
    const body = (await runtime.server.inject({ url: '/-/metrics' })).body;
    assert.match(body, /^mia_run_saga_steps_total\{saga="checkout"\} 1$/m);
    assert.doesNotMatch(body, /bad name/);
    await runtime.stop();
  });

  test('channel names follow mia-run:<source>:<event>', () => {
    assert.equal(metricChannel('projections'), 'mia-run:projections:metric');
    assert.equal(telemetryChannel('gateway', 'upstream-call'), 'mia-run:gateway:upstream-call');
  });
});
