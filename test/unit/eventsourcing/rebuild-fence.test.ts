// `aggregates rebuild` against a live read-model consumer: the rebuild pauses the consumer (a pause document
// any process honours), the consumer writes nothing while paused and goes on after it, and a rebuild run
// while events keep coming ends with every document equal to the fold of its aggregate.
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { rebuildReadModel } from '../../../src/eventsourcing/index.js';
import { createFence } from '../../../src/eventsourcing/read-model-fence.js';
import { countPending } from '../../../src/outbox/index.js';
import { systemClock } from '../../../src/ports/clock.js';
import { metricChannel, type MetricSample } from '../../../src/ports/telemetry.js';
import { account, esApp, waitFor, type EsApp } from './harness.js';

describe('read-model rebuild fenced from the live consumer (embedded store and bus)', () => {
  let t: EsApp;
  before(async () => {
    t = await esApp({ account }, { topics: ['account-events'] });
  });
  after(async () => t?.close());

  const post = async (id: string, type: string, payload: object) => {
    const res = await t.app.inject({ method: 'POST', url: `/account/${id}/events`, payload: { type, payload } });
    assert.ok(res.statusCode < 300, res.body);
  };
  const doc = (id: string) => t.store.collection('balances').findOne({ _id: id });
  const atVersion = (id: string, version: number) => waitFor(async () => {
    const d = await doc(id);
    return d?.__internal__counter === version ? d : undefined;
  }, `${id} at version ${version}`);
  const caughtUp = () => waitFor(async () => ((await t.bus.lag('mia-run-es-read-model-balances')).every((p) => p.lag === 0) && (await countPending(t.store)) === 0 ? true : undefined), 'consumer caught up');

  it('a paused read model gets no writes from the live consumer until it is resumed', async () => {
    await post('f1', 'Opened', { owner: 'Ada' });
    await post('f1', 'Deposited', { amount: 10 });
    await atVersion('f1', 2);
    const paused: MetricSample[] = [];
    const listener = (m: unknown) => {
      const sample = m as MetricSample;
      if (sample.name === 'read_model_paused') paused.push(sample);
    };
    diagnosticsChannel.subscribe(metricChannel('eventsourcing'), listener);
    const fence = createFence({ store: t.store, readModel: 'balances', clock: systemClock });
    const id = await fence.pause(60_000);
    try {
      await post('f1', 'Deposited', { amount: 5 });
      await waitFor(async () => (paused.length > 0 ? true : undefined), 'the consumer to hold its write back');
      const held = await doc('f1');
      assert.deepEqual([held?.__internal__counter, held?.balance], [2, 10]);
    } finally {
      diagnosticsChannel.unsubscribe(metricChannel('eventsourcing'), listener);
      await fence.resume(id);
    }
    assert.equal((await atVersion('f1', 3)).balance, 15);
  });

  it('a pause whose lease ran out (its rebuild died) does not stop the consumer', async () => {
    const fence = createFence({ store: t.store, readModel: 'balances', clock: systemClock });
    await fence.pause(1);
    await post('f2', 'Opened', { owner: 'Bo' });
    assert.equal((await atVersion('f2', 1)).owner, 'Bo');
  });

  it('a rebuild while events keep coming leaves every document equal to the fold of its aggregate', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `g${i}`);
    for (const id of ids) await post(id, 'Deposited', { amount: 1 });
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing) await post(ids[n++ % ids.length]!, 'Deposited', { amount: 1 });
    })();
    try {
      assert.equal((await rebuildReadModel(t.ctx, 'balances')).aggregate, 'account');
    } finally {
      writing = false;
      await writer;
    }
    await caughtUp();
    for (const id of ids) {
      const state = (await t.app.inject({ url: `/account/${id}` })).json<{ version: number; state: { balance: number } }>();
      const d = await doc(id);
      assert.deepEqual([d?.__internal__counter, d?.balance], [state.version, state.state.balance], id);
    }
    assert.equal(await t.store.collection('_es_read_models').count({ _id: 'balances' }), 0, 'the pause is lifted');
  });
});
