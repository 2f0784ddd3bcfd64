import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AggregateConfig } from '../../../src/config/sections/aggregates.js';
import { createEventStore, rebuildReadModel } from '../../../src/eventsourcing/index.js';
import { systemClock } from '../../../src/ports/clock.js';
import { esApp } from './harness.js';

const fixtures = join(new URL('.', import.meta.url).pathname, 'fixtures');

describe('schema evolution and code hooks (embedded store)', () => {
  it('old events are upcast (rename, defaults, hook) so they still fold; new events are validated at the current version', async () => {
    const v1: AggregateConfig = { events: { Deposited: { schema: { type: 'object', required: ['value'] } } }, state: { initial: { total: 0 }, on: { Deposited: [{ inc: 'total', from: 'value' }] } } };
    const first = await esApp({ wallet: v1 });
    assert.equal((await first.app.inject({ method: 'POST', url: '/wallet/w1/events', payload: { type: 'Deposited', payload: { value: 4 } } })).statusCode, 201);
    await first.close(false);

    const v2: AggregateConfig = {
      events: {
        Deposited: {
          version: 2,
          schema: { type: 'object', required: ['amount', 'currency'], properties: { amount: { type: 'number' }, currency: { type: 'string' } } },
          upcasters: [{ from: 1, rename: { value: 'amount' }, defaults: { currency: 'EUR' }, hook: { module: './hooks.ts', export: 'toCents' } }],
        },
      },
      state: { initial: { total: 0, cents: 0 }, on: { Deposited: [{ inc: 'total', from: 'amount' }, { inc: 'cents', from: 'cents' }, { set: 'currency', from: 'currency' }] } },
      publish: { topic: 'wallet-events' },
      readModels: [{ name: 'wallets', on: { Deposited: [{ inc: 'total', from: 'amount' }] } }],
    };
    const second = await esApp({ wallet: v2 }, { dir: first.dir, topics: ['wallet-events'], sourceFile: join(fixtures, 'project.yaml') });
    try {
      const old = await second.app.inject({ url: '/wallet/w1' });
      assert.deepEqual(old.json(), { id: 'w1', version: 1, state: { total: 4, cents: 400, currency: 'EUR' } });
      const rejected = await second.app.inject({ method: 'POST', url: '/wallet/w1/events', payload: { type: 'Deposited', payload: { value: 1 } } });
      assert.equal(rejected.statusCode, 400);
      const ok = await second.app.inject({ method: 'POST', url: '/wallet/w1/events', payload: { type: 'Deposited', payload: { amount: 2, currency: 'USD' } } });
      assert.equal(ok.statusCode, 200, ok.body);
      const state = (await second.app.inject({ url: '/wallet/w1' })).json<{ state: Record<string, unknown> }>().state;
      assert.deepEqual(state, { total: 6, cents: 400, currency: 'USD' });
      // The stored event keeps the version it was written with.
      const stored = await second.store.collection('wallet-events').find({}, { sort: { version: 1 } }).toArray();
      assert.deepEqual(stored.map((d) => [d.schemaVersion, d.data]), [[1, { value: 4 }], [2, { amount: 2, currency: 'USD' }]]);
      // A read model rebuilt from the store folds the old event through the upcaster too.
      assert.deepEqual(await rebuildReadModel(second.ctx, 'wallets'), { aggregate: 'wallet', documents: 1 });
      assert.equal((await second.store.collection('wallets').findOne({ _id: 'w1' }))?.total, 6);
    } finally {
      await second.close();
    }
  });

  it('code hooks: a reducer and a read-model reduce that deletes', async () => {
    const config: AggregateConfig = {
      events: { Deposited: { schema: { type: 'object', required: ['amount'] } }, Closed: { schema: { type: 'object' } } },
      state: { initial: { balance: 0 }, reducer: { module: './hooks.ts', export: 'accountReducer' } },
      publish: { topic: 'hooked-events' },
      readModels: [{ name: 'counts', reduce: { module: './hooks.ts', export: 'countReduce' } }],
    };
    const t = await esApp({ hooked: config }, { topics: ['hooked-events'], sourceFile: join(fixtures, 'project.yaml') });
    try {
      for (const amount of [3, 4]) await t.app.inject({ method: 'POST', url: '/hooked/h1/events', payload: { type: 'Deposited', payload: { amount } } });
      assert.deepEqual((await t.app.inject({ url: '/hooked/h1' })).json(), { id: 'h1', version: 2, state: { balance: 7, last: 2 } });
      const events = createEventStore({ aggregate: 'hooked', store: t.store, clock: systemClock });
      assert.equal(await events.version('h1'), 2);
      assert.deepEqual(await rebuildReadModel(t.ctx, 'counts'), { aggregate: 'hooked', documents: 1 });
      assert.equal((await t.store.collection('counts').findOne({ _id: 'h1' }))?.count, 2);
      await t.app.inject({ method: 'POST', url: '/hooked/h1/events', payload: { type: 'Closed', payload: {} } });
      assert.deepEqual(await rebuildReadModel(t.ctx, 'counts'), { aggregate: 'hooked', documents: 0 });
    } finally {
      await t.close();
    }
  });
});
