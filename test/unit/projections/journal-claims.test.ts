// The trigger journal's sv-update outbox and claims (fast-data.md §4 (c), §5): an sv-update refused after
// the view write is produced by the next run (with its chained recomputation), and two processes changing
// one identifier never flush an older computation over a newer one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import type { ProjectionConfig, SingleViewConfig } from '../../../src/config/sections/fast-data.js';
import { MiaRunError } from '../../../src/errors.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { Collection, Document, DocumentStore } from '../../../src/ports/document-store.js';
import type { ConsumedMessage, OutgoingMessage } from '../../../src/ports/event-bus.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { createMetricEmitter } from '../../../src/ports/telemetry.js';
import { builtinCast } from '../../../src/projections/casts.js';
import { BUILTIN_FORMATS } from '../../../src/projections/formats/index.js';
import { createIngestHandler } from '../../../src/projections/ingest.js';
import { compileProjection } from '../../../src/projections/mapping.js';
import type { AggregationFn } from '../../../src/projections/single-view/aggregate.js';
import { createSvErrorLog } from '../../../src/projections/single-view/errors-log.js';
import { compileView, type CompiledView } from '../../../src/projections/single-view/model.js';
import { recompute, type WriterDeps } from '../../../src/projections/single-view/writer.js';
import { createViewRunner } from '../../../src/projections/topics/view-runner.js';
import { msg } from './harness.js';

const dbz = (op: string, before: unknown, after: unknown): Record<string, unknown> => ({ op, before, after, source: {} });
const projections: Record<string, ProjectionConfig> = {
  customers: { topic: 'customers', primaryKey: ['id'], fields: [{ name: 'id', source: 'ID', cast: 'toInteger' }, { name: 'name', source: 'NAME' }] },
  orders: { topic: 'orders', primaryKey: ['id'], fields: [{ name: 'id', source: 'ID', cast: 'toInteger' }, { name: 'customerId', source: 'CUSTOMER_ID', cast: 'toInteger' }, { name: 'total', source: 'TOTAL', cast: 'toInteger' }] },
};
const viewConfigs: Record<string, SingleViewConfig> = {
  c360: {
    key: { customerId: 'customers.id' },
    relations: [{ from: 'orders.customerId', to: 'customers.id' }],
    aggregation: { customerId: 'customers.id', name: 'customers.name', orders: { from: 'orders', many: true, fields: { id: 'id', total: 'total' } }, gate: { fn: 'gate' } },
    publish: { topic: 'sv-c360' },
  },
  // SV chaining: reads c360 as a projection, recomputed in-process once c360's sv-update is acknowledged.
  summary: { key: { customerId: 'c360.customerId' }, aggregation: { customerId: 'c360.customerId', label: 'c360.name' } },
};

interface Bus {
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<{ topic: string; partition: number; offset: number }[]>;
  readonly sent: { topic: string; message: OutgoingMessage }[];
  refuse: boolean;
}

function createBus(): Bus {
  const bus: Bus = {
    sent: [],
    refuse: false,
    async publish(topic, messages) {
      if (bus.refuse) throw new MiaRunError('MR_BUS_UNAVAILABLE', 'broker down', { retriable: true });
      for (const message of messages) bus.sent.push({ topic, message });
      return messages.map((_, offset) => ({ topic, partition: 0, offset }));
    },
  };
  return bus;
}

/** One process: its own view runner, handler and in-process state, on the shared store. */
function process(store: DocumentStore, bus: Bus, gate: AggregationFn = () => true, intentTimeoutMs?: number): (messages: readonly ConsumedMessage[]) => Promise<void> {
  const compiled = Object.entries(projections).map(([name, p]) => compileProjection(name, 'erp', p, (c) => builtinCast(c)!));
  const views = Object.entries(viewConfigs).map(([name, v]) => compileView(name, v));
  const viewsOf = (p: string): CompiledView[] => views.filter((v) => v.paths.has(p));
  const handleOf = (name: string) => ({ collection: store.collection(name), primaryKey: projections[name]?.primaryKey ?? Object.keys(views.find((v) => v.name === name)?.key ?? {}) });
  const svDeps = new Map(views.map((v): [CompiledView, WriterDeps & { collection: Collection }] => [v, { projection: handleOf, functions: new Map([['gate', gate]]), logger: silentLogger, collection: store.collection(v.name), now: () => new Date(), origin: 'test', errors: createSvErrorLog(store.collection('fd-sv-errors'), 'test', () => new Date()) }]));
  const metrics = createMetricEmitter('fd');
  const runner = createViewRunner({ views, viewsOf, svDeps: (v) => svDeps.get(v)!, recompute, bus, primaryKeyOf: (p) => handleOf(p).primaryKey, origin: 'test', now: () => Date.now(), metrics });
  const handler = createIngestHandler({
    sor: 'erp',
    parser: BUILTIN_FORMATS.debezium,
    position: 'kafkaTimestamp',
    byTopic: new Map(compiled.map((p) => [p.topic, p])),
    applyDeps: (p, buffer) => ({ collection: buffer(store.collection(p.collection)), deleteMode: 'soft', now: () => new Date(), stats: { onUncastable: () => undefined, onUnknown: () => undefined }, logger: silentLogger }),
    viewsOf,
    svDeps: (v) => svDeps.get(v)!,
    recompute: runner.recompute(true),
    bus: runner.bus,
    journal: store.collection('fd-sv-journal'),
    claimPollMs: 5,
    ...(intentTimeoutMs === undefined ? {} : { intentTimeoutMs }),
    metrics,
    logger: silentLogger,
  });
  return (messages) => handler({ topic: messages[0]!.topic, partition: 0, messages }, { signal: new AbortController().signal, attempt: 1 });
}

const stores: { store: DocumentStore; dir: string }[] = [];
after(async () => {
  for (const { store, dir } of stores) {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

async function openStore(): Promise<DocumentStore> {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-claims-'));
  const store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: dir }, { dataDir: dir, clock: systemClock, logger: silentLogger });
  await store.start();
  stores.push({ store, dir });
  return store;
}

const strip = (docs: Document[]): Document[] => docs.map(({ _id, createdAt, updatedAt, ...rest }) => (void _id, void createdAt, void updatedAt, rest));

/** Bounded polling: `check` true within 500 tries of 10 ms. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('condition not reached');
}

it('an sv-update refused after the view write is produced by the next run, exactly as it would have been, with its chained recomputation', async () => {
  const store = await openStore();
  const bus = createBus();
  const insert = msg('customers', { ID: 1 }, dbz('c', null, { ID: 1, NAME: 'Ada' }));
  bus.refuse = true;
  await assert.rejects(process(store, bus)([insert]), /broker down/);
  // The view was written, its event was not produced, the summary (chained from that event) not computed.
  assert.deepEqual(strip(await store.collection('c360').find({}).toArray()), [{ customerId: 1, name: 'Ada', orders: [], gate: true, __STATE__: 'PUBLIC' }]);
  assert.deepEqual(await store.collection('summary').find({}).toArray(), []);
  assert.deepEqual((await store.collection('fd-sv-errors').find({}).toArray()).map((e) => [e.type, e.errorType]), [['c360', 'ERROR_SEND_SVC_EVENT']]);
  const stored = (await store.collection('c360').findOne({ customerId: 1 }))!;

  // Restart: a new process gets the redelivered message; the view is unchanged (noop), the recorded event is produced.
  bus.refuse = false;
  await process(store, bus)([insert]);
  const events = bus.sent.filter((s) => s.topic === 'sv-c360');
  assert.equal(events.length, 1);
  const value = events[0]!.message.value as { operation: { type: string }; after: Document; before: unknown };
  assert.equal(events[0]!.message.key, '{"customerId":1}');
  assert.equal(value.operation.type, 'INSERT');
  assert.equal(value.before, null);
  const { _id, ...after } = stored;
  void _id;
  assert.deepEqual(value.after, after);
  assert.deepEqual(strip(await store.collection('summary').find({}).toArray()), [{ customerId: 1, label: 'Ada', __STATE__: 'PUBLIC' }]);
  assert.deepEqual(await store.collection('fd-sv-journal').find({}).toArray(), []);

  // A third delivery finds nothing recorded: noop, no event.
  await process(store, bus)([insert]);
  assert.equal(bus.sent.filter((s) => s.topic === 'sv-c360').length, 1);
});

it('a recorded event left by a crashed run is produced by a later batch that does not reach its identifier', async () => {
  const store = await openStore();
  const bus = createBus();
  bus.refuse = true;
  await assert.rejects(process(store, bus)([msg('customers', { ID: 1 }, dbz('c', null, { ID: 1, NAME: 'Ada' }))]), /broker down/);
  bus.refuse = false;
  // Another key only; the journal entry of customer 1 is overdue (intent timeout 0).
  await process(store, bus, undefined, 0)([msg('customers', { ID: 2 }, dbz('c', null, { ID: 2, NAME: 'Bob' }))]);
  const keys = bus.sent.filter((s) => s.topic === 'sv-c360').map((s) => [s.message.key, (s.message.value as { operation: { type: string } }).operation.type]);
  assert.deepEqual(keys.sort(), [['{"customerId":1}', 'INSERT'], ['{"customerId":2}', 'INSERT']]);
  assert.deepEqual(strip(await store.collection('summary').find({}, { sort: { customerId: 1 } }).toArray()).map((d) => d.label), ['Ada', 'Bob']);
  assert.deepEqual(await store.collection('fd-sv-journal').find({}).toArray(), []);
});

it('two processes changing one identifier at once never flush the older computation over the newer one', async () => {
  const store = await openStore();
  const bus = createBus();
  let reached!: () => void;
  const atGate = new Promise<void>((resolve) => (reached = resolve));
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let hold = false;
  const slowGate: AggregationFn = async () => {
    if (hold) {
      hold = false;
      reached();
      await opened;
    }
    return true;
  };
  const a = process(store, bus, slowGate);
  const b = process(store, bus);
  const t = 1_800_000_000_000;
  await b([msg('customers', { ID: 1 }, dbz('c', null, { ID: 1, NAME: 'Ada' }), { timestamp: t })]);
  await b([msg('orders', { ID: 7 }, dbz('c', null, { ID: 7, CUSTOMER_ID: 1, TOTAL: 10 }), { timestamp: t + 1 })]);

  // Process A reads total 20 and stalls before its view write; process B then applies total 30.
  hold = true;
  const first = a([msg('orders', { ID: 7 }, dbz('u', null, { ID: 7, CUSTOMER_ID: 1, TOTAL: 20 }), { timestamp: t + 2 })]);
  await atGate;
  const second = b([msg('orders', { ID: 7 }, dbz('u', null, { ID: 7, CUSTOMER_ID: 1, TOTAL: 30 }), { timestamp: t + 3 })]);
  const total = async (): Promise<unknown> => ((await store.collection('c360').findOne({ customerId: 1 }))?.orders as { total: number }[] | undefined)?.[0]?.total;
  // B either computed already (no claims) or waits on A's claim, having marked the entry ready again.
  await until(async () => (await total()) === 30 || ((await store.collection('fd-sv-journal').findOne({ view: 'c360' }))?.seq as number | undefined ?? 0) >= 2);
  open();
  await Promise.all([first, second]);
  assert.equal((await store.collection('orders').findOne({ id: 7 }))?.total, 30);
  assert.equal(await total(), 30);
  const updates = bus.sent.filter((s) => s.topic === 'sv-c360').map((s) => (s.message.value as { after: { orders: { total: number }[] } }).after.orders[0]?.total);
  assert.equal(updates.at(-1), 30);
  assert.deepEqual(await store.collection('fd-sv-journal').find({}).toArray(), []);
});
