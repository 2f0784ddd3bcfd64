import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSaga } from '../../../src/saga/compile.js';
import type { SagaDocument } from '../../../src/saga/document.js';
import { createSagaDocument, stepSaga, type StepOptions } from '../../../src/saga/step.js';
import { orderSaga } from './fixtures.js';

const NOW = Date.UTC(2026, 0, 1);
const opts = (now = NOW, overrides: Partial<StepOptions> = {}): StepOptions => ({ now, deepMerge: false, leaseMs: 30_000, payloadFor: (_c, doc) => doc.metadata, ...overrides });

function created(): SagaDocument {
  return createSagaDocument(compileSaga('order', orderSaga()), { sagaId: 'ORD_1', associatedEntityId: 'order-42', metadata: { total: 20 } }, opts()).doc;
}

function applied(doc: SagaDocument, type: string, payload: unknown = {}, messageId?: string): SagaDocument {
  const r = stepSaga(compileSaga('order', orderSaga()), doc, { type, payload }, messageId, opts(NOW + 1000));
  assert.equal(r.kind, 'applied', r.kind === 'rejected' ? r.reason : r.kind);
  return (r as { doc: SagaDocument }).doc;
}

describe('saga step', () => {
  it('creates a saga in initialState with the creation event, the initial command pending and the timer armed', () => {
    const doc = created();
    assert.equal(doc.currentState, 'paymentRequested');
    assert.equal(doc.latestEvent, 'orderCreated');
    assert.equal(doc.businessStateId, 0);
    assert.equal(doc.businessStateDescription, 'created');
    assert.deepEqual(doc.history.events.map((e) => e.event), ['orderCreated']);
    assert.deepEqual(doc.pendingCommands.map((c) => [c.label, c.channel, c.payload]), [['executePayment', 'main', { total: 20 }]]);
    assert.deepEqual(doc.history.commands.map((c) => c.label), ['executePayment']);
    assert.deepEqual(doc.timer, { state: 'paymentRequested', event: 'paymentTimedOut', dueAt: NOW + 15 * 60_000, visit: 0 });
    assert.equal(doc.timerDueAt, NOW + 15 * 60_000);
    assert.deepEqual(doc.machineSnapshot, { status: 'active', value: 'paymentRequested' });
  });

  it('moves on an expected event, merges metadata at the first level and emits the next command and side effect', () => {
    const doc = applied({ ...created(), metadata: { total: 20, addr: { country: 'IT' } } }, 'paymentExecuted', { paymentId: 'p-9', addr: { zip: '1' } }, 'm1');
    assert.equal(doc.currentState, 'shippingRequested');
    assert.deepEqual(doc.metadata, { total: 20, addr: { zip: '1' }, paymentId: 'p-9' });
    assert.deepEqual(doc.pendingCommands.map((c) => c.label), ['executePayment', 'shipOrder', 'notifyCustomer']);
    assert.deepEqual(doc.pendingCommands.map((c) => c.sideEffect), [false, false, true]);
    assert.equal(doc.timer, null, 'leaving the state disarms its timer');
    assert.equal(doc.history.events.at(-1)?.messageId, 'm1');
    assert.equal(doc.appliedEventIds, undefined, 'applied ids are read from the history, not stored twice');
    assert.equal(doc.sagaVersion, 2);
    assert.deepEqual(doc.history.states.map((s) => s.state), ['paymentRequested', 'shippingRequested']);
  });

  it('deep-merges metadata when asked', () => {
    const saga = compileSaga('order', orderSaga());
    const start = { ...created(), metadata: { addr: { country: 'IT' } } };
    const r = stepSaga(saga, start, { type: 'paymentExecuted', payload: { addr: { zip: '1' } } }, undefined, opts(NOW, { deepMerge: true }));
    assert.equal(r.kind, 'applied');
    assert.deepEqual((r as { doc: SagaDocument }).doc.metadata, { addr: { country: 'IT', zip: '1' } });
  });

  it('takes the first transition whose `when` guard matches the payload', () => {
    assert.equal(applied(created(), 'paymentExecuted', { amount: 5000 }).currentState, 'manualReview');
    assert.equal(applied(created(), 'paymentExecuted', { amount: 10 }).currentState, 'shippingRequested');
  });

  it('ignores a redelivered message id', () => {
    const doc = applied(created(), 'paymentExecuted', {}, 'm1');
    const again = stepSaga(compileSaga('order', orderSaga()), doc, { type: 'paymentExecuted', payload: {} }, 'm1', opts());
    assert.equal(again.kind, 'duplicate');
  });

  it('honours the applied ids of documents written by earlier versions', () => {
    const legacy = { ...created(), appliedEventIds: ['old-1'] };
    assert.equal(stepSaga(compileSaga('order', orderSaga()), legacy, { type: 'paymentExecuted', payload: {} }, 'old-1', opts()).kind, 'duplicate');
  });

  it('records and rejects an event that does not fit the state, saying what was expected', () => {
    const r = stepSaga(compileSaga('order', orderSaga()), created(), { type: 'orderShipped', payload: {} }, 'm2', opts());
    assert.equal(r.kind, 'rejected');
    if (r.kind !== 'rejected') return;
    assert.equal(r.code, 'MR_SAGA_UNEXPECTED_EVENT');
    assert.match(r.reason, /"orderShipped" does not fit state "paymentRequested"; expected one of: paymentExecuted, .*paymentTimedOut/);
    assert.equal(r.doc.currentState, 'paymentRequested');
    assert.deepEqual(r.doc.history.rejectedEvents.map((e) => [e.event, e.code]), [['orderShipped', 'MR_SAGA_UNEXPECTED_EVENT']]);
    assert.equal(r.doc.history.rejectedEvents.at(-1)?.messageId, 'm2');
    assert.equal(stepSaga(compileSaga('order', orderSaga()), r.doc, { type: 'orderShipped', payload: {} }, 'm2', opts()).kind, 'duplicate', 'a rejected message is not looked at twice');
  });

  it('rejects a payload failing payloadValidationSchema with MR_SAGA_INVALID_EVENT', () => {
    const r = stepSaga(compileSaga('order', orderSaga()), created(), { type: 'executePaymentError', payload: { code: 1 } }, undefined, opts());
    assert.equal(r.kind, 'rejected');
    assert.equal(r.kind === 'rejected' && r.code, 'MR_SAGA_INVALID_EVENT');
    assert.match(r.kind === 'rejected' ? r.reason : '', /must have required property 'reason'/);
  });

  it('reaches a final state and then rejects everything', () => {
    let doc = applied(created(), 'paymentExecuted');
    doc = applied(doc, 'orderShipped');
    assert.equal(doc.isFinal, true);
    assert.equal(doc.businessStateDescription, 'delivered');
    const r = stepSaga(compileSaga('order', orderSaga()), doc, { type: 'orderShipped', payload: {} }, undefined, opts());
    assert.equal(r.kind, 'rejected');
    assert.match(r.kind === 'rejected' ? r.reason : '', /final state/);
  });

  it('records the business event of a transition', () => {
    const doc = applied(created(), 'executePaymentError', { reason: 'card declined' });
    assert.equal(doc.currentState, 'cancelling');
    assert.deepEqual(doc.history.events.at(-1), { event: 'executePaymentError', timestamp: new Date(NOW + 1000).toISOString(), businessEventId: 0, businessEventDescription: 'payment failure' });
  });

  it('rejects events of a saga whose state left the definition, naming both definition versions', () => {
    const doc = { ...created(), currentState: 'legacyState' };
    const r = stepSaga(compileSaga('order', orderSaga()), doc, { type: 'paymentExecuted', payload: {} }, undefined, opts());
    assert.equal(r.kind, 'rejected');
    assert.match(r.kind === 'rejected' ? r.reason : '', /state "legacyState" is not in the current definition of saga "order" \(this saga started on definition [0-9a-f]{16}/);
  });
});
