import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';
import type { CapabilityFactory } from '../../../src/ports/capability-context.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';
import { fakeBackends } from '../../helpers/fake-backends.js';
import { projectConfig } from '../../helpers/project-config.js';

/** A capability with one route, GET /slow, that answers only when the test releases it. */
function slowCapability(events: string[]) {
  let entered!: () => void;
  let release!: () => void;
  const inHandler = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const plugin: FastifyPluginAsync = async (app) => {
    app.get('/slow', async () => {
      entered();
      await released;
      events.push('slow request answered');
      return { done: true };
    });
  };
  const factory: CapabilityFactory = {
    name: 'slow',
    role: 'crud',
    create: () => ({
      name: 'slow',
      routes: new Map([['/', plugin]]),
      start: async () => undefined,
      stop: async () => void events.push('capability stopped'),
      health: async () => ({ name: 'slow', status: 'OK' }),
    }),
  };
  return { factory, inHandler, release };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

function tryConnect(url: string): Promise<'connected' | 'refused'> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', () => resolve('refused'));
  });
}

/** Polls `check` until it returns true, giving up after `attempts` event-loop turns. */
async function eventually(check: () => Promise<boolean>, attempts = 500): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  assert.fail('condition not met in time');
}

describe('graceful stop', () => {
  test('stop refuses new connections, lets the in-flight request finish, then stops capabilities and backends', async () => {
    const { factories, events } = fakeBackends();
    const slow = slowCapability(events);
    const runtime = createRuntime(projectConfig(), { logger: silentLogger, backends: factories, capabilities: [slow.factory] });
    const { url } = await runtime.start();
    events.length = 0;

    const inFlight = get(`${url}/slow`);
    await slow.inHandler;
    let stopped = false;
    const stopping = runtime.stop('test').then(() => void (stopped = true));

    await eventually(async () => (await tryConnect(url)) === 'refused');
    assert.equal(runtime.status().state, 'stopping');
    assert.equal(stopped, false);
    assert.deepEqual(events, [], 'nothing is stopped while a request is in flight');

    slow.release();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { done: true });
    await stopping;
    assert.equal(runtime.status().state, 'stopped');
    assert.deepEqual(events, ['slow request answered', 'capability stopped', 'close bus.embedded bus', 'close store.embedded default']);
  });

  test('requests still in flight at the end of the grace period are cut, and stop completes', async () => {
    const clock = new ManualClock();
    const { factories, events } = fakeBackends();
    const slow = slowCapability(events);
    const runtime = createRuntime(projectConfig({ server: { shutdownGracePeriod: 5000 } }), { logger: silentLogger, clock, backends: factories, capabilities: [slow.factory] });
    const { url } = await runtime.start();
    events.length = 0;

    const inFlight = get(`${url}/slow`).then(
      (res) => res,
      (err: Error) => err,
    );
    await slow.inHandler;
    const stopping = runtime.stop('test');
    await eventually(async () => clock.pending > 0);
    await clock.advance(4999);
    assert.equal(runtime.status().state, 'stopping');
    assert.equal(await Promise.race([inFlight.then(() => 'settled'), new Promise((resolve) => setImmediate(resolve, 'pending'))]), 'pending');
    await clock.advance(1);
    const cut = await inFlight;
    assert.ok(cut instanceof Error, `expected the request to be cut, got ${JSON.stringify(cut)}`);
    assert.match(cut.message, /socket hang up|ECONNRESET/);
    await stopping;
    assert.equal(runtime.status().state, 'stopped');
    assert.deepEqual(events, ['capability stopped', 'close bus.embedded bus', 'close store.embedded default']);
    slow.release();
  });
});
