// Failure handling of single-view recomputations on a real embedded store with a manual clock (no sleeps):
// timeout -> SINGLE_VIEW_AGGREGATION_MAX_TIME parked with notBefore, run by the retry worker once due;
// attempts: 0 and non-retriable errors dead-letter at once; outages are rethrown; fanOutWarn is logged.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedDocumentStore } from '../../../src/adapters/store-embedded/index.js';
import type { SingleViewConfig } from '../../../src/config/sections/fast-data.js';
import { MiaRunError } from '../../../src/errors.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { DocumentStore } from '../../../src/ports/document-store.js';
import type { OutgoingMessage } from '../../../src/ports/event-bus.js';
import { silentLogger, type Logger } from '../../../src/ports/logger.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import type { AggregationFn } from '../../../src/projections/single-view/aggregate.js';
import { createSvErrorLog } from '../../../src/projections/single-view/errors-log.js';
import { guardedRecompute, type GuardedDeps } from '../../../src/projections/single-view/guard.js';
import { compileView } from '../../../src/projections/single-view/model.js';
import { createRetryWorker } from '../../../src/projections/single-view/retry-worker.js';
import { affectedIdentifiers } from '../../../src/projections/single-view/strategy.js';

describe('single-view failures, retries and fan-out', () => {
  let dir: string;
  let store: DocumentStore;
  const clock = new ManualClock();
  const published: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
  let behaviour: 'hang' | 'ok' | 'throw' | 'fatal' | 'outage' = 'ok';
  let release: (() => void) | undefined;
  const value: AggregationFn = async () => {
    if (behaviour === 'hang') await new Promise<void>((resolve) => (release = resolve));
    if (behaviour === 'throw') throw new Error('flaky');
    if (behaviour === 'fatal') throw new MiaRunError('MR_FD_AGGREGATION_FAILED', 'permanent', { retriable: false });
    if (behaviour === 'outage') throw new MiaRunError('MR_STORE_UNAVAILABLE', 'store down');
    return 'v';
  };
  const config = (extra: Partial<SingleViewConfig> = {}): SingleViewConfig => ({ key: { customerId: 'customers.id' }, aggregation: { customerId: 'customers.id', v: { fn: 'value' } }, timeout: '1s', retry: { attempts: 1, delay: '5s' }, ...extra });
  const deps = (): GuardedDeps => ({
    projection: (name) => ({ collection: store.collection(name), primaryKey: ['id'] }),
    functions: new Map([['value', value]]),
    logger: silentLogger,
    collection: store.collection('sv'),
    now: () => new Date(clock.now()),
    origin: 'unit',
    errors: createSvErrorLog(store.collection('fd-sv-errors'), 'unit', () => new Date(clock.now())),
    failures: { clock, retries: store.collection('fd-sv-retries'), bus: { publish: async (topic, messages) => (published.push({ topic, messages }), []) } },
  });
  const errorTypes = async (): Promise<unknown[]> => (await store.collection('fd-sv-errors').find({}, { sort: { createdAt: 1 } }).toArray()).map((e) => e.errorType);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-sv-failures-'));
    store = createEmbeddedDocumentStore('default', { kind: 'embedded', path: dir }, { dataDir: dir, clock: systemClock, logger: silentLogger });
    await store.start();
    await store.collection('customers').insertOne({ id: 1, __STATE__: 'PUBLIC' });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a timeout is recorded and parked; the retry worker recomputes it once due', async () => {
    const view = compileView('sv', config());
    behaviour = 'hang';
    const pending = guardedRecompute(view, { customerId: 1 }, deps());
    await clock.advance(1000);
    assert.deepEqual(await pending, { result: 'error' });
    release?.();
    assert.deepEqual(await errorTypes(), ['SINGLE_VIEW_AGGREGATION_MAX_TIME']);
    const [parked] = await store.collection('fd-sv-retries').find({}).toArray();
    assert.equal(parked?.attempts, 1);
    assert.equal(parked?.notBefore, clock.now() + 5000);
    assert.deepEqual(parked?.lastError, { type: 'SINGLE_VIEW_AGGREGATION_MAX_TIME', message: 'Aggregation exceeding configured time limit (1000 ms) in single view "sv"' });

    behaviour = 'ok';
    const worker = createRetryWorker({ views: [view], deps: () => deps(), retries: store.collection('fd-sv-retries'), clock, logger: silentLogger });
    assert.equal(await worker.runDue(), 0, 'not due before its delay');
    await clock.advance(5000);
    assert.equal(await worker.runDue(), 1);
    assert.equal(await store.collection('fd-sv-retries').count({}), 0);
    assert.equal((await store.collection('sv').findOne({ customerId: 1 }))?.v, 'v');
    await store.collection('sv').deleteMany({});
    await store.collection('fd-sv-errors').deleteMany({});
  });

  it('attempts: 0 and non-retriable errors dead-letter at once in sv-trigger format; outages are rethrown', async () => {
    behaviour = 'throw';
    published.length = 0;
    assert.deepEqual(await guardedRecompute(compileView('sv', config({ retry: { attempts: 0 } })), { customerId: 1 }, deps()), { result: 'error' });
    behaviour = 'fatal';
    assert.deepEqual(await guardedRecompute(compileView('sv', config({ deadLetter: { topic: 'custom-dlq' } })), { customerId: 1 }, deps()), { result: 'error' });
    assert.deepEqual(published.map((p) => p.topic), ['sv.DLQ', 'custom-dlq']);
    assert.deepEqual(published[1]!.messages[0]!.value, { type: 'aggregation', singleViewName: 'sv', singleViewIdentifier: { customerId: 1 }, retry: { attempts: 0, lastError: { type: 'UNKNOWN_ERROR', message: 'permanent' } } });
    assert.equal(await store.collection('fd-sv-retries').count({}), 0);
    assert.deepEqual(await errorTypes(), ['UNKNOWN_ERROR', 'UNKNOWN_ERROR']);
    behaviour = 'outage';
    await assert.rejects(guardedRecompute(compileView('sv', config()), { customerId: 1 }, deps()), { code: 'MR_STORE_UNAVAILABLE' });
  });

  it('a custom strategy replaces the automatic one; a fan-out above fanOutWarn is logged, never truncated', async () => {
    const warnings: unknown[] = [];
    const logger: Logger = { ...silentLogger, warn: (obj: unknown) => void warnings.push(obj), child: () => logger };
    const view = compileView('sv', { ...config(), fanOutWarn: 3, strategies: { orders: { fn: 'many' } } });
    assert.deepEqual(view.paths.get('orders'), [], 'a strategy-only projection still triggers the view');
    async function* many(): AsyncGenerator<Record<string, unknown>> {
      for (let i = 1; i <= 5; i++) yield { customerId: i };
      yield { customerId: null };
    }
    const functions = new Map<string, AggregationFn>([['many', many as unknown as AggregationFn]]);
    const ids = await affectedIdentifiers(view, { projection: 'orders', operation: 'INSERT', before: null, after: { id: 9 } }, { projection: (name) => ({ collection: store.collection(name), primaryKey: ['id'] }), functions, logger });
    assert.deepEqual([...ids.values()].map((id) => id.customerId), [1, 2, 3, 4, 5]);
    assert.deepEqual(warnings, [{ view: 'sv', projection: 'orders', identifiers: 5, fanOutWarn: 3 }]);
  });
});
