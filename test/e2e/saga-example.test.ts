// examples/saga as a user runs it: the descriptor through the config pipeline, the runtime on port 0 with the
// embedded store and bus, real HTTP through the gateway endpoint, and a command executor written for Mia's
// Flow Manager (Kafka shapes) on a second handle of the same embedded bus.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { loadProject } from '../../src/config/load-project.js';
import type { ProjectConfig } from '../../src/config/types.js';
import type { EventBus, Subscription } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { systemClock } from '../../src/ports/clock.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { waitFor } from '../helpers/saga-harness.js';

const root = new URL('../..', import.meta.url).pathname;

interface Command {
  readonly key: string | null;
  readonly value: { messageLabel: string; messagePayload: Record<string, unknown> };
}

describe('examples/saga on the embedded backends', () => {
  let dataDir: string;
  let runtime: Runtime;
  let url: string;
  let executorBus: EventBus;
  let executor: Subscription;
  const commands: Command[] = [];
  /** How the executor answers a command; default: success. */
  const answers = new Map<string, (c: Command) => { messageLabel: string; messagePayload: unknown } | undefined>();

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mia-run-saga-e2e-'));
    const { config, diagnostics } = await loadProject(join(root, 'examples/saga/project.yaml'), { env: {} });
    assert.deepEqual(diagnostics, []);
    runtime = createRuntime(config as ProjectConfig, { port: 0, host: '127.0.0.1', dataDir, logger: silentLogger });
    url = (await runtime.start()).url;
    executorBus = createEmbeddedEventBus('bus', { kind: 'embedded', topics: {} }, { dataDir, clock: systemClock, logger: silentLogger }, { pollMs: 5 });
    await executorBus.start();
    executor = await executorBus.subscribe({
      group: 'executor',
      topics: ['order-commands'],
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) {
          const command: Command = { key: m.key, value: m.json() };
          commands.push(command);
          const answer = answers.get(command.value.messageLabel)?.(command);
          if (answer) await executorBus.publish('order-events', [{ key: m.key, value: answer }]);
        }
      },
    });
  });

  after(async () => {
    await executor?.stop();
    await executorBus?.close();
    await runtime?.stop('test done');
    await rm(dataDir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const get = async (path: string): Promise<Record<string, unknown>> => (await (await fetch(`${url}${path}`)).json()) as Record<string, unknown>;
  const stateOf = async (id: string): Promise<string> => (await get(`/orders-saga/saga/${id}`)).currentState as string;

  it('runs an order to delivery: commands out on the bus in Mia shape, events back from the executor', async () => {
    answers.set('executePayment', () => ({ messageLabel: 'paymentExecuted', messagePayload: { paymentId: 'p-1' } }));
    answers.set('shipOrder', () => ({ messageLabel: 'orderShipped', messagePayload: { trackingId: 't-1' } }));
    const created = await post('/orders-saga/saga', { associatedEntityId: 'order-1', metadata: { total: 20 } });
    assert.equal(created.status, 200);
    const id = created.body.sagaId as string;
    assert.match(id, /^ORD_/);
    await waitFor(async () => (await stateOf(id)) === 'delivered', 'delivered');
    const doc = await get(`/orders-saga/saga/${id}`);
    assert.deepEqual(doc.metadata, { total: 20, paymentId: 'p-1', trackingId: 't-1' });
    assert.deepEqual(
      commands.filter((c) => c.key === id).map((c) => c.value),
      [
        { messageLabel: 'executePayment', messagePayload: { total: 20 } },
        { messageLabel: 'shipOrder', messagePayload: { total: 20, paymentId: 'p-1' } },
      ],
    );
  });

  it('compensates a failed shipment: refund, then cancel, driven partly over HTTP', async () => {
    answers.set('executePayment', () => ({ messageLabel: 'paymentExecuted', messagePayload: { paymentId: 'p-2' } }));
    answers.set('shipOrder', () => ({ messageLabel: 'shipOrderError', messagePayload: { reason: 'no courier' } }));
    answers.set('refundPayment', () => ({ messageLabel: 'paymentRefunded', messagePayload: {} }));
    answers.set('cancelOrder', () => undefined);
    const id = (await post('/orders-saga/saga', { associatedEntityId: 'order-2', metadata: { total: 30 } })).body.sagaId as string;
    await waitFor(async () => (await stateOf(id)) === 'cancellingOrder', 'cancellingOrder');
    const unexpected = await post('/orders-saga/event', { key: id, value: { messageLabel: 'orderShipped', messagePayload: {} } });
    assert.equal(unexpected.status, 409);
    assert.equal(unexpected.body.code, 'MR_SAGA_UNEXPECTED_EVENT');
    const done = await post('/orders-saga/event', { key: id, value: { messageLabel: 'orderCancelled', messagePayload: {} } });
    assert.deepEqual(done, { status: 200, body: { sagaId: id, currentState: 'cancelled', isFinal: true } });
    const history = await get(`/orders-saga/saga/${id}/history`);
    const states = (history.history as { states: { state: string }[] }).states.map((s) => s.state);
    assert.deepEqual(states, ['paymentRequested', 'shippingRequested', 'refundingPayment', 'cancellingOrder', 'cancelled']);
    const counts = (await get('/-/sagas')).sagas as Record<string, { states: Record<string, number> }>;
    assert.equal(counts.order?.states.cancelled, 1);
    assert.equal(counts.order?.states.delivered, 1);
  });
});
