import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFold, type FoldEvent } from '../../../src/eventsourcing/fold.js';
import { compileUpcaster } from '../../../src/eventsourcing/upcast.js';

const event = (type: string, data: Record<string, unknown>, version = 1): FoldEvent => ({ aggregateId: 'a1', version, type, schemaVersion: 1, data, occurredAt: '2024-05-02T09:00:00.000Z' });

describe('declarative fold', () => {
  it('applies set, inc, dec, push, unset and merge from data, envelope and literals', () => {
    const fold = compileFold(
      {
        Opened: [{ set: 'owner.name', from: 'name' }, { set: 'open', value: true }, { set: 'openedAt', from: '$occurredAt' }],
        Deposited: [{ inc: 'balance', from: 'amount' }, { inc: 'count' }, { push: 'history', from: 'amount' }],
        Withdrawn: [{ dec: 'balance', from: 'amount' }, { set: 'lastVersion', from: '$version' }],
        Tagged: [{ merge: 'tags' }],
        Closed: [{ unset: 'open' }, { set: 'closedBy', from: 'missing' }],
      },
      { balance: 0 },
    );
    let state = fold(null, event('Opened', { name: 'Ada' }));
    state = fold(state, event('Deposited', { amount: 10 }, 2));
    state = fold(state, event('Deposited', { amount: 5 }, 3));
    state = fold(state, event('Withdrawn', { amount: 3 }, 4));
    state = fold(state, event('Tagged', { vip: true }, 5));
    state = fold(state, event('Closed', {}, 6));
    state = fold(state, event('Unknown', { x: 1 }, 7));
    assert.deepEqual(state, { balance: 12, owner: { name: 'Ada' }, openedAt: '2024-05-02T09:00:00.000Z', count: 2, history: [10, 5], lastVersion: 4, tags: { vip: true }, closedBy: null });
  });

  it('never mutates the state it is given, nor the initial state', () => {
    const initial = { balance: 0, items: [] as unknown[] };
    const fold = compileFold({ Added: [{ push: 'items' }, { inc: 'balance', by: 2 }] }, initial);
    const first = fold(null, event('Added', { sku: 'x' }));
    const second = fold(first, event('Added', { sku: 'y' }, 2));
    assert.deepEqual(first, { balance: 2, items: [{ sku: 'x' }] });
    assert.deepEqual(second, { balance: 4, items: [{ sku: 'x' }, { sku: 'y' }] });
    assert.deepEqual(initial, { balance: 0, items: [] });
  });

  it('delete ends the fold with null; forbidden path segments throw', () => {
    assert.equal(compileFold({ Closed: [{ delete: true }, { set: 'x', value: 1 }] })({ a: 1 }, event('Closed', {})), null);
    assert.throws(() => compileFold({ Evil: [{ set: '__proto__.polluted', value: 1 }] })(null, event('Evil', {})), /forbidden/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('upcasters', () => {
  const upcast = compileUpcaster({
    Deposited: {
      schema: { type: 'object' },
      version: 3,
      upcasters: [
        { from: 1, rename: { value: 'amount' } },
        { from: 2, defaults: { currency: 'EUR' }, remove: ['legacy'] },
      ],
    },
  }, new Map([['Deposited:2', (data: Record<string, unknown>) => ({ ...data, cents: Number(data.amount) * 100 })]]));

  it('moves old data one version at a time, declarative steps then the hook', () => {
    assert.deepEqual(upcast('Deposited', 1, { value: 7, legacy: true }), { amount: 7, currency: 'EUR', cents: 700 });
    assert.deepEqual(upcast('Deposited', 2, { amount: 1, currency: 'USD' }), { amount: 1, currency: 'USD', cents: 100 });
  });

  it('leaves current data and unknown types alone', () => {
    const data = { amount: 1, currency: 'EUR' };
    assert.equal(upcast('Deposited', 3, data), data);
    assert.equal(upcast('Other', 1, data), data);
  });
});
