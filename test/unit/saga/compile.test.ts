import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialTransition, transition } from 'xstate';
import { compileSaga } from '../../../src/saga/compile.js';
import { orderSaga } from './fixtures.js';

describe('saga compiler', () => {
  it('compiles Mia states into an xstate machine with actions and guards bound by name', () => {
    const saga = compileSaga('order', orderSaga());
    const [start, actions] = initialTransition(saga.machine);
    assert.equal(start.value, 'paymentRequested');
    assert.deepEqual(
      actions.map((a) => [a.type, a.params]),
      [
        ['sendCommand', { label: 'executePayment', channel: 'main', sideEffect: false }],
        ['armTimeout', { event: 'paymentTimedOut', ms: 15 * 60_000 }],
      ],
    );
    const [big] = transition(saga.machine, start, { type: 'paymentExecuted', payload: { amount: 5000 } });
    assert.equal(big.value, 'manualReview', 'the payloadMatches guard takes the `when` branch');
    const [small, next] = transition(saga.machine, start, { type: 'paymentExecuted', payload: { amount: 5 } });
    assert.equal(small.value, 'shippingRequested');
    assert.deepEqual(next.map((a) => (a.params as unknown as { label: string }).label), ['shipOrder', 'notifyCustomer']);
    const [final] = transition(saga.machine, small, { type: 'orderShipped' });
    assert.equal(final.status, 'done', 'isFinal states are xstate final states');
    assert.deepEqual(saga.commands.map((c) => `${c.state}:${c.label}`), ['paymentRequested:executePayment', 'shippingRequested:shipOrder', 'shippingRequested:notifyCustomer', 'cancelling:cancelOrder']);
    assert.match(saga.definitionHash, /^[0-9a-f]{16}$/);
  });

  it('re-enters a state on a self-transition, sending its command again (Mia semantics)', () => {
    const saga = compileSaga('loop', {
      channels: { c: { kind: 'bus', commands: 't' } },
      machineDefinition: {
        initialState: 'polling',
        creationEvent: 'created',
        states: [
          { id: 'polling', outputCommand: { label: 'poll', channel: 'c' }, outgoingTransitions: [{ inputEvent: 'notYet', targetState: 'polling' }, { inputEvent: 'ready', targetState: 'done' }] },
          { id: 'done', isFinal: true },
        ],
      },
    });
    const [start] = initialTransition(saga.machine);
    const [, actions] = transition(saga.machine, start, { type: 'notYet' });
    assert.deepEqual(actions.map((a) => a.type), ['sendCommand']);
  });

  it('refuses what validation reports: unknown targets, a bad duration, an unknown initial state', () => {
    const base = orderSaga();
    const states = base.machineDefinition.states;
    assert.throws(() => compileSaga('x', { ...base, machineDefinition: { ...base.machineDefinition, initialState: 'nope' } }), { code: 'MR_CONFIG_INVALID_VALUE' });
    assert.throws(
      () => compileSaga('x', { ...base, machineDefinition: { ...base.machineDefinition, states: [{ id: 'paymentRequested', outgoingTransitions: [{ inputEvent: 'e', targetState: 'ghost' }] }, ...states.slice(1)] } }),
      /goes to unknown state "ghost"/,
    );
    assert.throws(
      () => compileSaga('x', { ...base, machineDefinition: { ...base.machineDefinition, states: [{ ...states[0]!, timeout: { after: 'soon', event: 'paymentTimedOut' } }, ...states.slice(1)] } }),
      /timeout.after "soon" is not a duration/,
    );
  });
});
