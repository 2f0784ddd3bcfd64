// Delivery of pr-updates (fast-data.md §6): a batch resolves (and its offset is committed) only once its
// pr-updates were acknowledged; a refused production fails the batch, and its redelivery re-applies the
// message and produces the event. Stale messages produce nothing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import type { ProjectionConfig } from '../../../src/config/sections/fast-data.js';
import { MiaRunError } from '../../../src/errors.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { DocumentStore } from '../../../src/ports/document-store.js';
import type { ConsumedMessage, OutgoingMessage } from '../../../src/ports/event-bus.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { createMetricEmitter } from '../../../src/ports/telemetry.js';
import { builtinCast } from '../../../src/projections/casts.js';
import { BUILTIN_FORMATS } from '../../../src/projections/formats/index.js';
import { createIngestHandler } from '../../../src/projections/ingest.js';
import { compileProjection } from '../../../src/projections/mapping.js';
import { recompute } from '../../../src/projections/single-view/writer.js';
import { createStageEvents } from '../../../src/projections/topics/stage-events.js';
import { msg } from './harness.js';

const orders: ProjectionConfig = { topic: 'orders', primaryKey: ['id'], fields: [{ name: 'id', source: 'ID', cast: 'toInteger' }, { name: 'customerId', source: 'CUSTOMER_ID', cast: 'toInteger' }], publish: { topic: 'orders.pr-update' } };

describe('pr-update delivery', () => {
  let dir: string;
  let store: DocumentStore;
  const published: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
  let refuse = false;
  const bus = {
    publish: async (topic: string, messages: readonly OutgoingMessage[]) => {
      if (refuse) throw new MiaRunError('MR_BUS_UNAVAILABLE', 'broker down', { retriable: true });
      published.push({ topic, messages });
      return messages.map((_, offset) => ({ topic, partition: 0, offset }));
    },
  };
  let feed: (messages: readonly ConsumedMessage[]) => Promise<void>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-topics-'));
    store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: dir }, { dataDir: dir, clock: systemClock, logger: silentLogger });
    await store.start();
    const p = compileProjection('orders', 'erp', orders, (name) => builtinCast(name)!);
    const metrics = createMetricEmitter('fd');
    const handler = createIngestHandler({
      sor: 'erp',
      parser: BUILTIN_FORMATS.debezium,
      position: 'kafkaTimestamp',
      byTopic: new Map([['orders', p]]),
      applyDeps: (_p, buffer) => ({ collection: buffer(store.collection('orders')), deleteMode: 'soft', now: () => new Date(), stats: { onUncastable: () => undefined, onUnknown: () => undefined }, logger: silentLogger }),
      viewsOf: () => [],
      svDeps: () => { throw new Error('no views'); },
      recompute,
      metrics,
      logger: silentLogger,
      stageEvents: createStageEvents({
        projections: new Map([['orders', { sor: 'erp', collection: store.collection('orders'), primaryKey: ['id'], config: orders }]]),
        viewsOf: () => [],
        svDeps: () => { throw new Error('no views'); },
        runner: { noteCause: () => undefined },
        bus,
        now: () => Date.now(),
        metrics,
      }),
    });
    feed = async (messages) => handler({ topic: 'orders', partition: 0, messages }, { signal: new AbortController().signal, attempt: 1 });
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const dbz = (after: unknown): Record<string, unknown> => ({ op: 'c', before: null, after, source: {} });

  it('a refused pr-update fails the batch; the redelivery re-applies and produces it', async () => {
    const m = msg('orders', { ID: 1 }, dbz({ ID: 1, CUSTOMER_ID: 5 }), { timestamp: 1000, offset: 10 });
    refuse = true;
    await assert.rejects(feed([m]), (e) => e instanceof MiaRunError && e.code === 'MR_BUS_UNAVAILABLE');
    assert.equal(published.length, 0);
    refuse = false;
    await feed([m]);
    assert.equal(published.length, 1);
    const [event] = published[0]!.messages;
    assert.equal(published[0]!.topic, 'orders.pr-update');
    assert.equal(event!.key, '{"id":1}');
    assert.deepEqual((event!.value as { after: Record<string, unknown> }).after.customerId, 5);
  });

  it('a stale message produces no pr-update; a batch produces one per applied change, in key order', async () => {
    published.length = 0;
    await feed([msg('orders', { ID: 1 }, dbz({ ID: 1, CUSTOMER_ID: 6 }), { timestamp: 900, offset: 11 })]);
    assert.equal(published.length, 0, 'stale: older than the stored position');
    await feed([
      msg('orders', { ID: 1 }, dbz({ ID: 1, CUSTOMER_ID: 7 }), { timestamp: 2000, offset: 12 }),
      msg('orders', { ID: 2 }, dbz({ ID: 2, CUSTOMER_ID: 7 }), { timestamp: 2001, offset: 13 }),
      msg('orders', { ID: 1 }, dbz({ ID: 1, CUSTOMER_ID: 8 }), { timestamp: 2002, offset: 14 }),
    ]);
    assert.equal(published.length, 1, 'one production per topic and batch');
    const values = published[0]!.messages.map((m) => [m.key, (m.value as { operation: { type: string }; after: { customerId: number } }).operation.type, (m.value as { after: { customerId: number } }).after.customerId]);
    assert.equal(values.length, 3);
    // Keys are applied concurrently; one key's events keep its order.
    assert.deepEqual(values.filter((v) => v[0] === '{"id":1}'), [['{"id":1}', 'UPDATE', 7], ['{"id":1}', 'UPDATE', 8]]);
    assert.deepEqual(values.filter((v) => v[0] === '{"id":2}'), [['{"id":2}', 'INSERT', 7]]);
  });
});
