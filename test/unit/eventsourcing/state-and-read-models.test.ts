import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEventStore, rebuildReadModel } from '../../../src/eventsourcing/index.js';
import { countPending } from '../../../src/outbox/index.js';
import { systemClock } from '../../../src/ports/clock.js';
import { account, esApp, waitFor, type EsApp } from './harness.js';

describe('state, snapshots and read models (embedded store and bus)', () => {
  let t: EsApp;
  before(async () => {
    t = await esApp({ account }, { topics: ['account-events'] });
  });
  after(async () => t?.close());

  const post = (id: string, type: string, payload: object) => t.app.inject({ method: 'POST', url: `/account/${id}/events`, payload: { type, payload } });
  const balanceDoc = (id: string) => t.store.collection('balances').findOne({ _id: id });

  it('snapshot + tail equals the full fold, and snapshots are taken every snapshotEvery events', async () => {
    assert.equal((await post('s1', 'Opened', { owner: 'Ada' })).statusCode, 201);
    for (let i = 1; i <= 12; i++) assert.equal((await post('s1', i % 3 === 0 ? 'Withdrawn' : 'Deposited', { amount: i })).statusCode, 200);
    const snapshot = await t.store.collection('account-snapshots').findOne({ _id: 's1' });
    assert.equal(snapshot?.version, 10);
    assert.equal(snapshot?.snapshotVersion, 1);
    const live = await t.app.inject({ url: '/account/s1' });
    const body = live.json<{ version: number; state: { balance: number } }>();
    assert.equal(body.version, 13);
    // 1..12 with every third withdrawn: 78 - 2*(3+6+9+12) = 18
    assert.equal(body.state.balance, 18);
    // A snapshot that lies proves the read uses it: the tail is folded on top of it.
    await t.store.collection('account-snapshots').updateOne({ _id: 's1' }, { $set: { 'state.balance': 1000 } });
    const fromSnapshot = (await t.app.inject({ url: '/account/s1' })).json<{ state: { balance: number } }>();
    assert.equal(fromSnapshot.state.balance, 1000 + 10 + 11 - 12);
    await t.store.collection('account-snapshots').updateOne({ _id: 's1' }, { $set: { 'state.balance': 9 } });
  });

  it('a snapshot of another snapshotVersion is ignored', async () => {
    await t.store.collection('account-snapshots').updateOne({ _id: 's1' }, { $set: { snapshotVersion: 0, 'state.balance': -1 } });
    const full = (await t.app.inject({ url: '/account/s1' })).json<{ version: number; state: { balance: number } }>();
    assert.deepEqual([full.version, full.state.balance], [13, 18]);
  });

  it('the read model follows the published events, in order, with the version as counter', async () => {
    await post('r1', 'Opened', { owner: 'Eve' });
    await post('r1', 'Deposited', { amount: 50 });
    await post('r1', 'Withdrawn', { amount: 20 });
    const doc = await waitFor(async () => {
      const d = await balanceDoc('r1');
      return d !== null && d.__internal__counter === 3 ? d : undefined;
    }, 'read model r1 at version 3');
    assert.equal(doc.balance, 30);
    assert.equal(doc.owner, 'Eve');
    assert.equal(doc.__internal__counterType, 'version');
  });

  it('redelivered and out-of-order events are applied once; a gap is filled from the event store', async () => {
    const model = await waitFor(async () => ((await balanceDoc('r1'))?.__internal__counter === 3 ? true : undefined), 'r1');
    assert.ok(model);
    const events = createEventStore({ aggregate: 'account', store: t.store, clock: systemClock });
    // Store two more events without publishing them (no outbox), then deliver only the last one by hand.
    await events.append('r1', [{ type: 'Deposited', schemaVersion: 1, data: { amount: 5 } }, { type: 'Deposited', schemaVersion: 1, data: { amount: 7 } }], 3);
    const handle = async (version: number, amount: number) => {
      const value = { aggregateType: 'account', aggregateId: 'r1', version, type: 'Deposited', schemaVersion: 1, data: { amount }, metadata: { occurredAt: new Date().toISOString() } };
      await t.bus.publish('account-events', [{ key: 'r1', value }]);
    };
    await handle(5, 7);
    await handle(2, 50);
    await handle(5, 7);
    const doc = await waitFor(async () => {
      const d = await balanceDoc('r1');
      return d?.__internal__counter === 5 ? d : undefined;
    }, 'r1 at version 5');
    // Let the consumer drain the redeliveries too.
    await waitFor(async () => ((await t.bus.lag('mia-run-es-read-model-balances')).every((p) => p.lag === 0) ? true : undefined), 'consumer caught up');
    assert.equal((await balanceDoc('r1'))?.balance, 42);
    assert.equal(doc.balance, 42);
  });

  it('replay (rebuild) equals the live read model', async () => {
    for (let i = 0; i < 5; i++) await post(`p${i}`, 'Deposited', { amount: 10 + i });
    await waitFor(async () => ((await t.bus.lag('mia-run-es-read-model-balances')).every((p) => p.lag === 0) && (await countPending(t.store)) === 0 ? true : undefined), 'caught up');
    const live = await t.store.collection('balances').find({}, { sort: { _id: 1 }, projection: { updatedAt: 0 } }).toArray();
    assert.ok(live.length >= 7);
    await t.store.collection('balances').updateOne({ _id: 'p0' }, { $set: { balance: -99 } });
    const result = await rebuildReadModel(t.ctx, 'balances');
    assert.deepEqual(result, { aggregate: 'account', documents: live.length });
    const rebuilt = await t.store.collection('balances').find({}, { sort: { _id: 1 }, projection: { updatedAt: 0 } }).toArray();
    assert.deepEqual(rebuilt, live);
  });
});
