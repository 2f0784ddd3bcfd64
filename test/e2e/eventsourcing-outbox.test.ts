// Crash between append and publish: the events are committed with the outbox records in one transaction,
// so a process that stored them but never published them (bus down, then stopped) publishes them after a
// restart, in version order per aggregate, and the read model catches up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiaRunError } from '../../src/errors.js';
import type { EmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import type { ConsumedMessage } from '../../src/ports/event-bus.js';
import { countPending } from '../../src/outbox/index.js';
import { account, esApp, waitFor } from '../unit/eventsourcing/harness.js';

function unreachable(bus: EmbeddedEventBus): EmbeddedEventBus {
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === 'publish') return async () => { throw new MiaRunError('MR_BUS_UNAVAILABLE', 'bus down (test)'); };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('event sourcing outbox (embedded store and bus)', () => {
  it('events appended while the bus is unreachable are published after a restart, in order per aggregate', async () => {
    const first = await esApp({ account }, { topics: ['account-events'], wrapBus: unreachable });
    const statuses: number[] = [];
    for (const [id, type, payload] of [['x1', 'Opened', { owner: 'A' }], ['x2', 'Opened', { owner: 'B' }], ['x1', 'Deposited', { amount: 5 }], ['x2', 'Deposited', { amount: 9 }], ['x1', 'Withdrawn', { amount: 2 }]] as const) {
      statuses.push((await first.app.inject({ method: 'POST', url: `/account/${id}/events`, payload: { type, payload } })).statusCode);
    }
    assert.deepEqual(statuses, [201, 201, 200, 200, 200]);
    assert.equal(await countPending(first.store), 5);
    assert.equal((await first.bus.describeTopics()).find((t) => t.name === 'account-events')?.partitions.reduce((n, p) => n + p.end, 0), 0);
    assert.equal(await first.store.collection('balances').count(), 0);
    assert.equal((await first.es.health()).status, 'KO');
    await first.close(false);

    const second = await esApp({ account }, { dir: first.dir, topics: ['account-events'] });
    try {
      const got: ConsumedMessage[] = [];
      await second.bus.subscribe({ group: 'test-reader', topics: ['account-events'], fromBeginning: true, handler: async (b) => void got.push(...b.messages) });
      await waitFor(async () => (got.length >= 5 ? true : undefined), 'five published events');
      const byKey = (key: string) => got.filter((m) => m.key === key).map((m) => m.json<{ version: number; type: string }>()).map((v) => `${v.version}:${v.type}`);
      assert.deepEqual(byKey('x1'), ['1:Opened', '2:Deposited', '3:Withdrawn']);
      assert.deepEqual(byKey('x2'), ['1:Opened', '2:Deposited']);
      assert.equal(got[0]?.headers.messageSchema, '{"type":"es-event","version":"v1.0.0"}');
      const value = got.find((m) => m.key === 'x1')?.json<Record<string, unknown>>();
      assert.deepEqual(Object.keys(value ?? {}).sort(), ['aggregateId', 'aggregateType', 'data', 'metadata', 'schemaVersion', 'type', 'version']);
      const x1 = await waitFor(async () => {
        const d = await second.store.collection('balances').findOne({ _id: 'x1' });
        return d?.__internal__counter === 3 ? d : undefined;
      }, 'read model x1');
      assert.equal(x1.balance, 3);
      assert.equal(await countPending(second.store), 0);
    } finally {
      await second.close();
    }
  });
});
