// Per-key parking of retriable ingestion failures (fast-data.md §6), on a ManualClock: the failing key waits
// (later messages of that key behind it, other keys flow), is retried after the delay off the partition's
// path, and is dead-lettered once its tries are used up; `skip` then releases the waiting messages,
// `holdKey` dead-letters them; more than `maxParkedKeys` parked keys pause the partition.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import type { ProjectionConfig } from '../../../src/config/sections/fast-data.js';
import { MiaRunError, isMiaRunError } from '../../../src/errors.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { DocumentStore } from '../../../src/ports/document-store.js';
import type { ConsumedMessage } from '../../../src/ports/event-bus.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { createMetricEmitter } from '../../../src/ports/telemetry.js';
import { builtinCast } from '../../../src/projections/casts.js';
import { BUILTIN_FORMATS, type FormatParser } from '../../../src/projections/formats/index.js';
import { createIngestHandler } from '../../../src/projections/ingest.js';
import { createKeyHolds } from '../../../src/projections/key-holds.js';
import { compileProjection } from '../../../src/projections/mapping.js';
import { createParking } from '../../../src/projections/parking.js';
import { recompute } from '../../../src/projections/single-view/writer.js';
import { msg } from './harness.js';

const DELAY = 5000;
const stores: { store: DocumentStore; dir: string }[] = [];
after(async () => {
  for (const { store, dir } of stores) {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

interface Setup {
  readonly store: DocumentStore;
  readonly clock: ManualClock;
  readonly feed: (messages: readonly ConsumedMessage[]) => Promise<void>;
  readonly runParked: () => Promise<number>;
  readonly deadLetters: { key: string | null; code: string; attempts: number }[];
  /** Keys whose messages fail with a retriable error (values with `FAIL: true` always do). */
  readonly down: Set<number>;
  total(id: number): Promise<unknown>;
}

async function setup(mode: 'skip' | 'holdKey', options: { maxParkedKeys?: number } = {}): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-park-'));
  const store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: dir }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await store.start();
  stores.push({ store, dir });
  const clock = new ManualClock();
  const config: ProjectionConfig = { topic: 'orders', primaryKey: ['id'], fields: [{ name: 'id', source: 'ID', cast: 'toInteger' }, { name: 'total', source: 'TOTAL', cast: 'toInteger' }], deadLetter: { mode } };
  const p = compileProjection('orders', 'erp', config, (c) => builtinCast(c)!);
  const down = new Set<number>();
  const parser: FormatParser = (message, opts) => {
    const value = message.json<{ after: { ID: number; FAIL?: boolean } }>();
    if (down.has(value.after.ID) || value.after.FAIL === true) throw new MiaRunError('MR_FD_ADAPTER_FAILED', 'source lookup timed out', { retriable: true });
    return BUILTIN_FORMATS.debezium(message, opts);
  };
  const deadLetters: Setup['deadLetters'] = [];
  const handler = createIngestHandler({
    sor: 'erp',
    parser,
    position: 'kafkaTimestamp',
    byTopic: new Map([['orders', p]]),
    applyDeps: (_p, buffer) => ({ collection: buffer(store.collection('orders')), deleteMode: 'soft', now: () => new Date(clock.now()), stats: { onUncastable: () => undefined, onUnknown: () => undefined }, logger: silentLogger }),
    viewsOf: () => [],
    svDeps: () => {
      throw new Error('no views');
    },
    recompute,
    metrics: createMetricEmitter('fd'),
    logger: silentLogger,
    now: () => clock.now(),
    sleep: (ms, signal) => clock.sleep(ms, signal),
    attempts: 3,
    deadLetter: async (_p, message, error, attempts) => {
      deadLetters.push({ key: message.key, code: isMiaRunError(error) ? error.code : 'UNKNOWN', attempts });
    },
    holds: createKeyHolds(store.collection('fd-control'), () => clock.now()),
    parking: createParking(store.collection('fd-parked'), { now: () => clock.now(), delayMs: DELAY }),
    ...(options.maxParkedKeys === undefined ? {} : { maxParkedKeys: options.maxParkedKeys }),
  });
  return {
    store,
    clock,
    down,
    deadLetters,
    feed: (messages) => handler({ topic: 'orders', partition: 0, messages }, { signal: new AbortController().signal, attempt: 1 }),
    runParked: handler.runParked,
    total: async (id) => (await store.collection('orders').findOne({ id }))?.total,
  };
}

let ts = 1_800_000_000_000;
const order = (id: number, total: number, fail = false): ConsumedMessage => msg('orders', { ID: id }, { op: 'c', before: null, after: { ID: id, TOTAL: total, ...(fail ? { FAIL: true } : {}) }, source: {} }, { timestamp: ts++ });

/** Bounded polling on a condition (no timed assertion). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail('condition not reached');
}

it('a retriable failure parks its key: later messages of the key wait, other keys flow, the retry after the delay applies them in order', async () => {
  const s = await setup('skip');
  s.down.add(1);
  await s.feed([order(1, 10), order(1, 11), order(2, 20)]);
  assert.equal(await s.total(2), 20);
  assert.equal(await s.total(1), undefined);
  await s.feed([order(1, 12)]);
  assert.equal(await s.total(1), undefined);
  // Not due before the delay; due after it, still failing: parked again.
  assert.equal(await s.runParked(), 0);
  await s.clock.advance(DELAY);
  assert.equal(await s.runParked(), 1);
  assert.equal(await s.total(1), undefined);
  s.down.delete(1);
  await s.clock.advance(DELAY);
  assert.equal(await s.runParked(), 1);
  assert.equal(await s.total(1), 12);
  assert.deepEqual(await s.store.collection('fd-parked').find({}).toArray(), []);
  assert.deepEqual(s.deadLetters, []);
});

it('on exhaustion the message is dead-lettered; skip releases the waiting messages of its key', async () => {
  const s = await setup('skip');
  await s.feed([order(3, 30, true), order(3, 31)]);
  for (let i = 0; i < 2; i++) {
    await s.clock.advance(DELAY);
    await s.runParked();
  }
  assert.deepEqual(s.deadLetters, [{ key: '{"ID":3}', code: 'MR_FD_ADAPTER_FAILED', attempts: 3 }]);
  assert.equal(await s.total(3), 31);
  assert.deepEqual(await s.store.collection('fd-parked').find({}).toArray(), []);
});

it('on exhaustion with holdKey the waiting messages are dead-lettered too, and so are later ones until redriven', async () => {
  const s = await setup('holdKey');
  await s.feed([order(4, 40, true), order(4, 41)]);
  for (let i = 0; i < 2; i++) {
    await s.clock.advance(DELAY);
    await s.runParked();
  }
  await s.feed([order(4, 42)]);
  assert.deepEqual(s.deadLetters.map((d) => d.code), ['MR_FD_ADAPTER_FAILED', 'MR_FD_KEY_HELD', 'MR_FD_KEY_HELD']);
  assert.equal(await s.total(4), undefined);
});

it('more than maxParkedKeys parked keys pause the partition until retries bring it back under', async () => {
  const s = await setup('skip', { maxParkedKeys: 1 });
  s.down.add(5).add(6);
  await s.feed([order(5, 50), order(6, 60)]);
  let done = false;
  const next = s.feed([order(7, 70)]).then(() => (done = true));
  // The batch waits on the clock (a pending sleep) without applying anything.
  await until(() => s.clock.pending > 0);
  assert.equal(done, false);
  assert.equal(await s.total(7), undefined);
  s.down.clear();
  await s.clock.advance(DELAY);
  await s.runParked();
  assert.equal(await s.total(5), 50);
  await s.clock.advance(250);
  await next;
  assert.equal(await s.total(7), 70);
});
