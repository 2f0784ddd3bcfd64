import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { startSagaHarness, waitFor, type SagaHarness } from '../../helpers/saga-harness.js';
import type { SagaConfig } from '../../../src/config/sections/sagas.js';

interface Received {
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
  readonly method: string | undefined;
}

async function upstream(status: () => number): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      received.push({ body: JSON.parse(data), headers: req.headers, method: req.method });
      res.statusCode = status();
      res.end('{"ignored":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/commands`, received };
}

function paymentSaga(url: string): SagaConfig {
  return {
    commandRetry: { attempts: 3, base: '1s', max: '10s' },
    channels: { payments: { kind: 'http', url, method: 'PUT', headers: { 'x-tenant': 't1' } } },
    machineDefinition: {
      initialState: 'paying',
      creationEvent: 'created',
      states: [
        {
          id: 'paying',
          outputCommand: { label: 'executePayment', channel: 'payments' },
          outgoingTransitions: [
            { inputEvent: 'paymentExecuted', targetState: 'paid' },
            { inputEvent: 'executePaymentError', targetState: 'failed' },
          ],
        },
        { id: 'paid', isFinal: true },
        { id: 'failed', isFinal: true },
      ],
    },
  };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function setup(status: () => number): Promise<{ h: SagaHarness; received: Received[] }> {
  const up = await upstream(status);
  const h = await startSagaHarness({ sagas: { pay: paymentSaga(up.url) } });
  cleanup.push(async () => {
    await h.close();
    await new Promise((resolve) => up.server.close(resolve));
  });
  return { h, received: up.received };
}

async function create(h: SagaHarness): Promise<string> {
  const res = await h.app.inject({ method: 'POST', url: '/pay/saga', payload: { associatedEntityId: 'o-1', metadata: { total: 5 } } });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { sagaId: string }).sagaId;
}

describe('saga HTTP channel (real upstream on port 0)', () => {
  it('sends the command in Mia REST shape and takes the event on POST /event', async () => {
    const { h, received } = await setup(() => 200);
    const id = await create(h);
    await waitFor(() => received.length === 1, 'command received');
    assert.deepEqual(received[0]?.body, { key: id, value: { messageLabel: 'executePayment', messagePayload: { total: 5 } } });
    assert.equal(received[0]?.method, 'PUT');
    assert.equal(received[0]?.headers['x-tenant'], 't1');
    assert.equal(received[0]?.headers['mia-run-command-id'], `${id}-0`);
    const res = await h.app.inject({ method: 'POST', url: '/pay/event', payload: { key: id, value: { messageLabel: 'paymentExecuted', messagePayload: { paymentId: 'p1' } } } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().currentState, 'paid');
  });

  it('retries a failing command with back-off, then sends <label>Error into the machine', async () => {
    const { h, received } = await setup(() => 503);
    const id = await create(h);
    await waitFor(() => received.length === 1, 'first attempt');
    const pending = async () => (await h.app.inject({ method: 'GET', url: `/pay/saga/${id}` })).json() as { currentState: string; pendingCommands: { attempts: number; lastError?: string }[] };
    await waitFor(async () => (await pending()).pendingCommands[0]?.attempts === 1, 'first failure recorded');
    assert.match((await pending()).pendingCommands[0]?.lastError ?? '', /answered 503/);
    await h.clock.advance(999);
    assert.equal(received.length, 1, 'no retry before the back-off');
    await h.clock.advance(1);
    await waitFor(() => received.length === 2, 'second attempt after 1s');
    await waitFor(async () => (await pending()).pendingCommands[0]?.attempts === 2, 'second failure recorded');
    await h.clock.advance(2000);
    await waitFor(() => received.length === 3, 'third attempt after 2s');
    const doc = await waitFor(async () => {
      const d = await pending();
      return d.currentState === 'failed' ? d : undefined;
    }, 'error event applied');
    assert.deepEqual(doc.pendingCommands, []);
    const full = (await h.app.inject({ method: 'GET', url: `/pay/saga/${id}` })).json() as { metadata: { reason: string }; history: { events: { event: string }[] } };
    assert.deepEqual(full.history.events.map((e) => e.event), ['created', 'executePaymentError']);
    assert.match(full.metadata.reason, /answered 503/);
  });
});
