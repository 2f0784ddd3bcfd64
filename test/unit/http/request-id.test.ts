import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createHttpServer } from '../../../src/http/server.js';
import { requestIdFrom } from '../../../src/http/request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('request ids', () => {
  test('the caller id is returned and logged', async () => {
    const { logger, lines } = capture();
    const app = createHttpServer({ bodyLimit: 1024, logger });
    app.get('/items/:id', async () => ({ ok: true }));
    const res = await app.inject({ url: '/items/7?full=1', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers['x-request-id'], 'abc-123');
    const access = lines.filter((l) => l.msg === 'request completed');
    assert.equal(access.length, 1);
    assert.equal(access[0]?.requestId, 'abc-123');
    assert.equal(access[0]?.method, 'GET');
    assert.equal(access[0]?.url, '/items/7?full=1');
    assert.equal(access[0]?.route, '/items/:id');
    assert.equal(access[0]?.statusCode, 200);
    assert.equal(typeof access[0]?.durationMs, 'number');
  });

  test('a missing id is generated (UUID) and returned, also on errors', async () => {
    const { logger } = capture();
    const app = createHttpServer({ bodyLimit: 1024, logger });
    const res = await app.inject({ url: '/missing' });
    assert.equal(res.statusCode, 404);
    assert.match(res.headers['x-request-id'] as string, UUID);
  });

  test('an insane id (too long, control characters) is replaced', () => {
    assert.match(requestIdFrom({ 'x-request-id': 'a'.repeat(201) }), UUID);
    assert.match(requestIdFrom({ 'x-request-id': 'a\nb' }), UUID);
    assert.match(requestIdFrom({ 'x-request-id': '' }), UUID);
    assert.equal(requestIdFrom({ 'x-request-id': 'trace:1/2@svc' }), 'trace:1/2@svc');
  });

  test('requests answered while closing get 503 MR_RUNTIME_SHUTTING_DOWN and connection: close', async () => {
    const { logger } = capture();
    const app = createHttpServer({ bodyLimit: 1024, logger, isClosing: () => true });
    app.get('/x', async () => 'x');
    const res = await app.inject({ url: '/x' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().code, 'MR_RUNTIME_SHUTTING_DOWN');
    assert.equal(res.headers.connection, 'close');
  });
});

describe('access log', () => {
  test('status routes log at debug, so probes do not flood the info log', async () => {
    const { logger, lines } = capture();
    const app = createHttpServer({ bodyLimit: 1024, logger });
    app.get('/-/healthz', async () => 'ok');
    await app.inject({ url: '/-/healthz' });
    assert.deepEqual(lines.filter((l) => l.msg === 'request completed'), []);
  });
});
