import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MiaRunError } from '../../../src/errors.js';
import { toErrorBody } from '../../../src/http/error-mapper.js';
import { createHttpServer } from '../../../src/http/server.js';
import { silentLogger } from '../../../src/ports/logger.js';

function app(bodyLimit = 1024) {
  const server = createHttpServer({ bodyLimit, logger: silentLogger });
  server.post('/echo', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async (req) => req.body);
  server.get('/mia', async () => {
    throw new MiaRunError('MR_STORE_DUPLICATE_KEY', 'orders.code "A1" already exists');
  });
  server.get('/boom', async () => {
    throw new Error('secret connection string mongodb://user:pw@host');
  });
  server.get('/startup-error', async () => {
    throw new MiaRunError('MR_RUNTIME_START', 'internal detail');
  });
  server.get('/retry', async () => {
    throw new MiaRunError('MR_GW_CIRCUIT_OPEN', 'circuit open', { details: { retryAfter: 30 } });
  });
  return server;
}

describe('error mapper', () => {
  test('a MiaRunError keeps its status and code', async () => {
    const res = await app().inject({ url: '/mia' });
    assert.equal(res.statusCode, 409);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.deepEqual(res.json(), { statusCode: 409, code: 'MR_STORE_DUPLICATE_KEY', error: 'Conflict', message: 'orders.code "A1" already exists' });
  });

  test('a retriable error with retryAfter sets Retry-After', async () => {
    const res = await app().inject({ url: '/retry' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '30');
  });

  test('unknown errors become 500 MR_INTERNAL without leaking the message', async () => {
    const res = await app().inject({ url: '/boom' });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { statusCode: 500, code: 'MR_INTERNAL', error: 'Internal Server Error', message: 'Internal server error' });
    assert.doesNotMatch(res.body, /mongodb/);
  });

  test('a MiaRunError without an HTTP status is a 500 that hides its message', async () => {
    const res = await app().inject({ url: '/startup-error' });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().message, 'Internal server error');
  });

  test('schema validation failures are 400 MR_HTTP_BAD_REQUEST naming the field', async () => {
    const res = await app().inject({ method: 'POST', url: '/echo', payload: { other: 1 } });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.code, 'MR_HTTP_BAD_REQUEST');
    assert.equal(body.error, 'Bad Request');
    assert.match(body.message, /name/);
  });

  test('invalid JSON is 400 MR_HTTP_BAD_REQUEST', async () => {
    const res = await app().inject({ method: 'POST', url: '/echo', payload: '{"name":', headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'MR_HTTP_BAD_REQUEST');
  });

  test('a body over the limit is 413 MR_HTTP_PAYLOAD_TOO_LARGE', async () => {
    const res = await app(64).inject({ method: 'POST', url: '/echo', payload: { name: 'x'.repeat(200) } });
    assert.equal(res.statusCode, 413);
    assert.deepEqual(res.json(), { statusCode: 413, code: 'MR_HTTP_PAYLOAD_TOO_LARGE', error: 'Payload Too Large', message: 'Request body is too large' });
  });

  test('an unsupported content type is 415 MR_HTTP_UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await app().inject({ method: 'POST', url: '/echo', payload: '<a/>', headers: { 'content-type': 'application/xml' } });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().code, 'MR_HTTP_UNSUPPORTED_MEDIA_TYPE');
  });

  test('an unknown route is a JSON 404 MR_HTTP_NOT_FOUND', async () => {
    const res = await app().inject({ url: '/nowhere?x=1' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { statusCode: 404, code: 'MR_HTTP_NOT_FOUND', error: 'Not Found', message: 'Route GET /nowhere not found' });
  });

  test('a malformed URL parameter is a 400 with the Mia body', async () => {
    const server = app();
    server.get('/items/:id', async () => 'x');
    const res = await server.inject({ url: '/items/%E0%A4%A' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'MR_HTTP_BAD_REQUEST');
    assert.match(res.headers['x-request-id'] as string, /.+/);
  });

  test('toErrorBody maps non-Error values to 500', () => {
    assert.equal(toErrorBody('oops').code, 'MR_INTERNAL');
    assert.equal(toErrorBody(undefined).statusCode, 500);
  });
});
