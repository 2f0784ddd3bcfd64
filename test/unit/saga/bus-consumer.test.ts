import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DLQ_HEADERS, deadLetterTopic, type ConsumedMessage } from '../../../src/ports/event-bus.js';
import { startSagaHarness, waitFor, type SagaHarness } from '../../helpers/saga-harness.js';
import { orderSaga } from './fixtures.js';

const open: SagaHarness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

async function readTopic(h: SagaHarness, topic: string, count: number): Promise<ConsumedMessage[]> {
  const seen: ConsumedMessage[] = [];
  const sub = await h.bus.subscribe({ group: `reader-${topic}-${Math.random()}`, topics: [topic], fromBeginning: true, handler: async (b) => void seen.push(...b.messages) });
  try {
    await waitFor(() => seen.length >= count, `${count} messages on ${topic}`, 1000);
  } finally {
    await sub.stop();
  }
  return seen;
}

describe('saga events on the embedded bus', () => {
  it('consumes Mia event messages, and dead-letters unreadable ones and events of unknown sagas', async () => {
    const topics = { 'order-commands': {}, 'order-events': {}, 'order-events.DLQ': {} };
    const h = await startSagaHarness({ sagas: { order: orderSaga() }, topics, bus: 'embedded', store: 'embedded' });
    open.push(h);
    const res = await h.app.inject({ method: 'POST', url: '/order/saga', payload: { associatedEntityId: 'order-1', metadata: { total: 20 } } });
    const id = (res.json() as { sagaId: string }).sagaId;
    const [command] = await readTopic(h, 'order-commands', 1);
    assert.equal(command?.key, id);
    assert.deepEqual(command?.json(), { messageLabel: 'executePayment', messagePayload: { total: 20 } });

    await h.bus.publish('order-events', [
      { key: id, value: { messageLabel: 'paymentExecuted', messagePayload: { paymentId: 'p-1' } } },
      { key: id, value: 'not json {' },
      { key: 'ORD_unknown', value: { messageLabel: 'paymentExecuted', messagePayload: {} } },
      { key: id, value: { messagePayload: {} } },
    ]);
    await waitFor(async () => ((await h.app.inject({ method: 'GET', url: `/order/saga/${id}` })).json() as { currentState: string }).currentState === 'shippingRequested', 'event applied', 1000);
    const dead = await readTopic(h, deadLetterTopic('order-events'), 3);
    assert.deepEqual(
      dead.map((m) => [m.key, m.headers[DLQ_HEADERS.errorCode]]),
      [
        [id, 'MR_SAGA_INVALID_EVENT'],
        ['ORD_unknown', 'MR_SAGA_NOT_FOUND'],
        [id, 'MR_SAGA_INVALID_EVENT'],
      ],
    );
  });
});
