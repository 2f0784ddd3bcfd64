import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EmbeddedEventBus } from '../../../src/adapters/bus-embedded/index.js';
import { EmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import { MiaRunError } from '../../../src/errors.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { ConsumedMessage, EventBus, OutgoingMessage } from '../../../src/ports/event-bus.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { countPending, createOutbox, OUTBOX_COLLECTION, OUTBOX_SEQ_HEADER } from '../../../src/outbox/index.js';

const root = mkdtempSync(join(tmpdir(), 'mia-run-outbox-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function openStore(name: string, clock = systemClock) {
  const store = new EmbeddedDocumentStore('db', { path: join(root, name, 'db'), clock, logger: silentLogger });
  await store.start();
  return store;
}

async function openBus(name: string) {
  const bus = new EmbeddedEventBus('bus', { kind: 'embedded', topics: { orders: { partitions: 3 } } }, { dataDir: join(root, name), clock: systemClock, logger: silentLogger });
  await bus.start();
  return bus;
}

async function readAll(bus: EventBus, topic: string, expected: number): Promise<ConsumedMessage[]> {
  const got: ConsumedMessage[] = [];
  const sub = await bus.subscribe({ group: `reader-${Math.random()}`, topics: [topic], fromBeginning: true, handler: async (b) => void got.push(...b.messages) });
  const deadline = Date.now() + 10_000;
  while (got.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await sub.stop();
  return got;
}

/** A bus recording publishes; `fail` makes the next publish throw. */
function recordingBus() {
  const published: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
  let fail = 0;
  return {
    published,
    failTimes: (n: number) => (fail = n),
    bus: {
      publish: async (topic: string, messages: readonly OutgoingMessage[]) => {
        if (fail > 0) {
          fail -= 1;
          throw new MiaRunError('MR_BUS_UNAVAILABLE', 'bus down');
        }
        published.push({ topic, messages });
        return messages.map((_, i) => ({ topic, partition: 0, offset: i }));
      },
    },
  };
}

describe('outbox', () => {
  it('stores the write and its events together and relays them to the bus in order', async () => {
    const store = await openStore('relay');
    const bus = await openBus('relay');
    const outbox = createOutbox({ store, bus, clock: systemClock, logger: silentLogger });
    await outbox.start();
    for (let i = 0; i < 5; i++) {
      await outbox.write(async (tx) => {
        await tx.collection('orders').insertOne({ _id: `o-${i}`, total: i });
        return [{ topic: 'orders', key: 'customer-1', value: { type: 'created', id: `o-${i}` } }];
      });
    }
    const got = await readAll(bus, 'orders', 5);
    assert.deepEqual(got.map((m) => m.json<{ id: string }>().id), ['o-0', 'o-1', 'o-2', 'o-3', 'o-4']);
    assert.deepEqual(got.map((m) => m.headers[OUTBOX_SEQ_HEADER]), ['1', '2', '3', '4', '5']);
    assert.equal(await store.collection('orders').count(), 5);
    await outbox.stop();
    assert.equal(await countPending(store), 0);
    await bus.close();
    await store.close();
  });

  it('stores neither the write nor the events when the transaction fails', async () => {
    const store = await openStore('rollback');
    const fake = recordingBus();
    const outbox = createOutbox({ store, bus: fake.bus, clock: systemClock, logger: silentLogger });
    await outbox.start();
    await assert.rejects(
      outbox.write(async (tx) => {
        await tx.collection('orders').insertOne({ _id: 'dup' });
        await tx.collection('orders').insertOne({ _id: 'dup' });
        return [{ topic: 'orders', key: 'k', value: 1 }];
      }),
    );
    assert.equal(await outbox.flush(), 0);
    assert.equal(await store.collection('orders').count(), 0);
    assert.equal(await store.collection(OUTBOX_COLLECTION).count(), 0);
    assert.equal(fake.published.length, 0);
    await outbox.stop();
    await store.close();
  });

  it('after a crash between the write and the publish, the relay publishes on restart', async () => {
    const store = await openStore('crash');
    const fake = recordingBus();
    // Not started: nothing relays, as if the process died right after the commit.
    const first = createOutbox({ store, bus: fake.bus, clock: systemClock, logger: silentLogger });
    await store.withTransaction(async (tx) => {
      await tx.collection('orders').insertOne({ _id: 'o-1' });
      await first.stage(tx, [{ topic: 'orders', key: 'o-1', value: { id: 'o-1' } }, { topic: 'audit', key: null, value: 'created o-1' }]);
    });
    await store.close();

    const reopened = await openStore('crash');
    const bus = await openBus('crash');
    await bus.ensureTopics({ audit: { partitions: 1 } });
    const second = createOutbox({ store: reopened, bus, clock: systemClock, logger: silentLogger });
    await second.start();
    assert.deepEqual((await readAll(bus, 'orders', 1)).map((m) => m.json()), [{ id: 'o-1' }]);
    assert.deepEqual((await readAll(bus, 'audit', 1)).map((m) => m.text()), ['created o-1']);
    await second.stop();
    await bus.close();
    await reopened.close();
  });

  it('keeps pending records when the bus is down and publishes them once it is back, in order', async () => {
    const store = await openStore('down');
    const fake = recordingBus();
    const outbox = createOutbox({ store, bus: fake.bus, clock: systemClock, logger: silentLogger });
    fake.failTimes(1);
    for (const id of ['a', 'b']) {
      await store.withTransaction(async (tx) => outbox.stage(tx, [{ topic: 'orders', key: id, value: { id } }]));
    }
    await assert.rejects(outbox.flush(), (e: unknown) => e instanceof MiaRunError && e.code === 'MR_BUS_UNAVAILABLE');
    assert.equal(await outbox.flush(), 2);
    assert.deepEqual(fake.published.flatMap((p) => p.messages.map((m) => m.key)), ['a', 'b']);
    assert.equal(await outbox.flush(), 0, 'nothing is published twice once marked sent');
    await store.close();
  });

  it('groups consecutive records of one topic and keeps the order across topics', async () => {
    const store = await openStore('topics');
    const fake = recordingBus();
    const outbox = createOutbox({ store, bus: fake.bus, clock: systemClock, logger: silentLogger });
    await store.withTransaction(async (tx) =>
      outbox.stage(tx, [
        { topic: 'a', key: '1', value: 1 },
        { topic: 'a', key: '2', value: 2 },
        { topic: 'b', key: '3', value: 3 },
        { topic: 'a', key: '4', value: 4 },
      ]),
    );
    assert.equal(await store.collection(OUTBOX_COLLECTION).count(), 1, 'one record per staged batch');
    assert.equal(await countPending(store), 4);
    assert.equal(await outbox.flush(), 4);
    assert.deepEqual(fake.published.map((p) => [p.topic, p.messages.map((m) => m.key)]), [['a', ['1', '2']], ['b', ['3']], ['a', ['4']]]);
    assert.deepEqual(fake.published.flatMap((p) => p.messages.map((m) => m.headers?.[OUTBOX_SEQ_HEADER])), ['1', '2', '3', '4']);
    assert.equal(await countPending(store), 0);
    assert.equal(await outbox.flush(), 0, 'the checkpoint keeps published records from being sent again');
    await store.withTransaction(async (tx) => outbox.stage(tx, [{ topic: 'b', key: '5', value: 5 }]));
    assert.equal(await outbox.flush(), 1);
    assert.equal(fake.published.at(-1)?.messages[0]?.headers?.[OUTBOX_SEQ_HEADER], '5');
    await store.close();
  });

  it('a large staged batch is split into records of 32 events, published in order', async () => {
    const store = await openStore('chunks');
    const fake = recordingBus();
    const outbox = createOutbox({ store, bus: fake.bus, clock: systemClock, logger: silentLogger });
    await store.withTransaction(async (tx) => outbox.stage(tx, Array.from({ length: 70 }, (_, i) => ({ topic: 'orders', key: `k${i}`, value: i }))));
    const records = await store.collection(OUTBOX_COLLECTION).find({}, { sort: { seq: 1 } }).toArray();
    assert.deepEqual(records.map((r) => [r.seq, r.count]), [[1, 32], [33, 32], [65, 6]]);
    assert.equal(await outbox.flush(), 70);
    const sent = fake.published.flatMap((p) => p.messages);
    assert.deepEqual(sent.map((m) => m.value), Array.from({ length: 70 }, (_, i) => i));
    assert.deepEqual(sent.map((m) => m.headers?.[OUTBOX_SEQ_HEADER]), Array.from({ length: 70 }, (_, i) => String(i + 1)));
    assert.equal(await countPending(store), 0);
    await store.close();
  });

  it('on a store without transactions, marks each record sent (records may become visible out of order)', async () => {
    const store = await openStore('no-tx');
    const plain = new Proxy(store, { get: (target, prop) => (prop === 'features' ? new Set() : (Reflect.get(target, prop, target) as unknown)) });
    const bound = Object.assign(Object.create(plain) as typeof store, { collection: (n: string) => store.collection(n) });
    const fake = recordingBus();
    const outbox = createOutbox({ store: bound, bus: fake.bus, clock: systemClock, logger: silentLogger });
    for (let i = 0; i < 3; i++) await outbox.write(async () => [{ topic: 'orders', key: `k${i}`, value: i }]);
    assert.equal(await countPending(bound), 3);
    assert.equal(await outbox.flush(), 3);
    assert.equal(await store.collection(OUTBOX_COLLECTION).count({ sentAt: { $ne: null } }), 3);
    assert.equal(await countPending(bound), 0);
    assert.equal(await outbox.flush(), 0);
    assert.deepEqual(fake.published.flatMap((p) => p.messages.map((m) => m.key)), ['k0', 'k1', 'k2']);
    await store.close();
  });

  it('lets one relay at a time work on a store; a stopped relay hands over at once', async () => {
    const clock = new ManualClock();
    const store = await openStore('lease', clock);
    const one = recordingBus();
    const two = recordingBus();
    const first = createOutbox({ store, bus: one.bus, clock, logger: silentLogger, pollMs: 1_000_000 });
    const second = createOutbox({ store, bus: two.bus, clock, logger: silentLogger, pollMs: 1_000_000 });
    await first.start();
    await second.start();
    await store.withTransaction(async (tx) => first.stage(tx, [{ topic: 'orders', key: 'k', value: 1 }]));
    assert.equal(await second.flush(), 0, 'the second relay waits while the first holds the lease');
    await first.stop();
    assert.equal(await second.flush(), 1);
    assert.equal(two.published.length, 1);
    await second.stop();
    await store.close();
  });

  it('the relay takes over a lease that expired (its holder died)', async () => {
    const clock = new ManualClock();
    const store = await openStore('expired', clock);
    const dead = createOutbox({ store, bus: recordingBus().bus, clock, logger: silentLogger, pollMs: 1_000_000, leaseMs: 5000 });
    await dead.start(); // holds the lease, then "dies" without stop()
    const live = recordingBus();
    const survivor = createOutbox({ store, bus: live.bus, clock, logger: silentLogger, pollMs: 1_000_000, leaseMs: 5000 });
    await store.withTransaction(async (tx) => survivor.stage(tx, [{ topic: 'orders', key: 'k', value: 1 }]));
    assert.equal(await survivor.flush(), 0);
    await clock.advance(5001);
    assert.equal(await survivor.flush(), 1);
    await store.close();
  });
});
