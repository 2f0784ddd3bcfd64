import type { SagaConfig } from '../../../src/config/sections/sagas.js';

/** An order saga: payment (with timeout and a guarded branch), shipping, compensation. */
export function orderSaga(overrides: Partial<SagaConfig> = {}): SagaConfig {
  return {
    sagaIdPrefix: 'ORD_',
    channels: {
      main: { kind: 'bus', commands: 'order-commands', events: 'order-events' },
    },
    machineDefinition: {
      initialState: 'paymentRequested',
      creationEvent: 'orderCreated',
      businessStates: [
        { id: 0, description: 'created' },
        { id: 1, description: 'paid' },
        { id: 2, description: 'delivered' },
        { id: 3, description: 'cancelled' },
      ],
      businessEvents: [{ id: 0, description: 'payment failure' }],
      states: [
        {
          id: 'paymentRequested',
          businessStateId: 0,
          outputCommand: { label: 'executePayment', channel: 'main' },
          timeout: { after: '15m', event: 'paymentTimedOut' },
          outgoingTransitions: [
            { inputEvent: 'paymentExecuted', targetState: 'manualReview', when: { type: 'object', required: ['amount'], properties: { amount: { type: 'number', minimum: 1000 } } } },
            { inputEvent: 'paymentExecuted', targetState: 'shippingRequested' },
            { inputEvent: 'executePaymentError', targetState: 'cancelling', businessEventId: 0, payloadValidationSchema: { type: 'object', required: ['reason'] } },
            { inputEvent: 'paymentTimedOut', targetState: 'cancelling', businessEventId: 0 },
          ],
        },
        { id: 'manualReview', businessStateId: 1, outgoingTransitions: [{ inputEvent: 'reviewApproved', targetState: 'shippingRequested' }] },
        {
          id: 'shippingRequested',
          businessStateId: 1,
          outputCommand: { label: 'shipOrder', channel: 'main' },
          sideEffects: [{ label: 'notifyCustomer', channel: 'main' }],
          outgoingTransitions: [{ inputEvent: 'orderShipped', targetState: 'delivered' }],
        },
        { id: 'cancelling', businessStateId: 3, compensation: true, outputCommand: { label: 'cancelOrder', channel: 'main' }, outgoingTransitions: [{ inputEvent: 'orderCancelled', targetState: 'cancelled' }] },
        { id: 'delivered', isFinal: true, businessStateId: 2 },
        { id: 'cancelled', isFinal: true, businessStateId: 3 },
      ],
    },
    ...overrides,
  };
}
