import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEventStore, type EventStore } from '../../../src/eventsourcing/index.js';
import { isMiaRunError } from '../../../src/errors.js';
import { systemClock } from '../../../src/ports/clock.js';
import { esApp, type EsApp } from './harness.js';

const deposit = { type: 'Deposited', schemaVersion: 1, data: { amount: 1 } };

describe('event store (embedded store)', () => {
  let t: EsApp;
  let a: EventStore;
  let b: EventStore;
  before(async () => {
    t = await esApp({});
    // Two instances on one store stand for two processes: each remembers only its own appends.
    a = createEventStore({ aggregate: 'acct', store: t.store, clock: systemClock });
    b = createEventStore({ aggregate: 'acct', store: t.store, clock: systemClock });
    await a.ensureIndexes();
  });
  after(async () => t?.close());

  const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (isMiaRunError(e) ? `${e.code} ${e.message}` : String(e)));

  it('sees versions appended by another writer (a stale remembered version is never trusted)', async () => {
    assert.deepEqual((await a.append('x', [deposit], 0)).map((e) => e.version), [1]);
    assert.deepEqual((await b.append('x', [deposit, deposit], 1)).map((e) => e.version), [2, 3]);
    assert.equal(await code(a.append('x', [deposit], 1)), 'MR_ES_VERSION_CONFLICT expected version 1, current 3');
    assert.deepEqual((await a.append('x', [deposit], 3)).map((e) => e.version), [4]);
    assert.deepEqual((await b.append('x', [deposit], undefined)).map((e) => e.version), [5]);
    assert.equal(await a.version('x'), 5);
  });

  it('an aggregate created by another writer is not overwritten by a creation that trusted version 0, in a batch or alone', async () => {
    await b.append('y1', [deposit], 0);
    await b.append('y2', [deposit], 0);
    assert.equal(await code(a.append('y1', [deposit], 0)), 'MR_ES_VERSION_CONFLICT expected version 0, current 1');
    const results = await Promise.all([code(a.append('y2', [deposit], 0)), code(a.append('z1', [deposit], 0)), code(a.append('z2', [deposit], 0))]);
    assert.deepEqual(results, ['MR_ES_VERSION_CONFLICT expected version 0, current 1', 'ok', 'ok']);
    assert.equal(await t.store.collection('acct-events').count({ aggregateId: { $in: ['y1', 'y2'] } }), 2);
  });

  it('a group-committed batch: conflicts are answered one by one while the others commit', async () => {
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => code(a.append(`g${i}`, [deposit], 0))),
      code(a.append('same', [deposit], 0)),
      code(a.append('same', [deposit], 0)),
      code(a.append('same', [deposit], undefined)),
    ]);
    assert.deepEqual(results.slice(0, 20), Array.from({ length: 20 }, () => 'ok'));
    assert.deepEqual(results.slice(20).sort(), ['MR_ES_VERSION_CONFLICT expected version 0, current 1', 'ok', 'ok']);
    const stored = await t.store.collection('acct-events').find({ aggregateId: 'same' }, { sort: { version: 1 } }).toArray();
    assert.deepEqual(stored.map((d) => d.version), [1, 2]);
    const history = [];
    for await (const e of a.read('same', 1)) history.push(e.version);
    assert.deepEqual(history, [1, 2]);
  });
});
