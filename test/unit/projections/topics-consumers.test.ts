// The pr-update and sv-trigger consumers' batch handlers (fast-data.md §4, §6, §7): what they hand to the
// view stage, which messages they refuse (after the rest of the batch is done) and how a pause holds them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMiaRunError } from '../../../src/errors.js';
import type { Collection } from '../../../src/ports/document-store.js';
import type { ProjectionChange } from '../../../src/projections/apply.js';
import { compileView } from '../../../src/projections/single-view/model.js';
import { prUpdateHandler, svTriggerHandler, type ConsumerPause, type ConsumersDeps } from '../../../src/projections/topics/consumers.js';
import { createMetricEmitter } from '../../../src/ports/telemetry.js';
import { msg } from './harness.js';

const view = compileView('stock-view', { key: { sku: 'stock.sku' }, aggregation: { sku: 'stock.sku' } });
const ctx = { signal: new AbortController().signal, attempt: 1 };

function setup(pause?: ConsumerPause): { deps: ConsumersDeps; changes: ProjectionChange[]; work: unknown[] } {
  const changes: ProjectionChange[] = [];
  const work: unknown[] = [];
  const stored = { findOne: async () => ({ _id: 'x', sku: 'A', qty: 9 }) } as unknown as Collection;
  const deps: ConsumersDeps = {
    project: 'p',
    external: [{ name: 'stock', prUpdateTopic: 'stock.pr', collection: stored, primaryKey: ['sku'] }],
    views: [view],
    runner: { runChanges: async (c) => void changes.push(...c), recomputeAll: async (w) => void work.push(...w.map((x) => x.identifier)) },
    metrics: createMetricEmitter('fd'),
    ...(pause === undefined ? {} : { pause }),
  };
  return { deps, changes, work };
}

describe('change-event consumers', () => {
  it('pr-update: v2 and v1 become projection changes; a v1 message without images reads the stored record; garbage fails after the rest', async () => {
    const { deps, changes } = setup();
    const handler = prUpdateHandler(deps);
    const batch = [
      msg('stock.pr', { sku: 'A' }, { operation: { type: 'UPDATE', timestamp: 't' }, before: { sku: 'A', qty: 1 }, after: { sku: 'A', qty: 2 } }),
      msg('stock.pr', { sku: 'A' }, 'not json'),
      msg('stock.pr', { sku: 'A' }, { operationType: 'INSERT', projectionName: 'stock' }),
      msg('stock.pr', { sku: 'A' }, { operationType: 'DELETE', before: { sku: 'A', qty: 9 } }),
    ];
    await assert.rejects(handler({ topic: 'stock.pr', partition: 0, messages: batch }, ctx), (e) => isMiaRunError(e) && e.code === 'MR_FD_INVALID_CHANGE_EVENT');
    assert.deepEqual(changes, [
      { projection: 'stock', operation: 'UPDATE', before: { sku: 'A', qty: 1 }, after: { sku: 'A', qty: 2 } },
      { projection: 'stock', operation: 'INSERT', before: null, after: { sku: 'A', qty: 9 } },
      { projection: 'stock', operation: 'DELETE', before: { sku: 'A', qty: 9 }, after: null },
    ]);
  });

  it('sv-trigger: identifiers coalesce per batch; patch fails after the aggregation triggers were recomputed', async () => {
    const { deps, work } = setup();
    const handler = svTriggerHandler(deps, view);
    const batch = [
      msg('t', { sku: 'A' }, { type: 'aggregation', singleViewName: 'stock-view', singleViewIdentifier: { sku: 'A' } }),
      msg('t', { sku: 'A' }, { type: 'patch', singleViewName: 'stock-view', singleViewIdentifier: { sku: 'A' } }),
      msg('t', { sku: 'A' }, { type: 'aggregation', singleViewIdentifier: { sku: 'A', extra: 1 } }),
      msg('t', { sku: 'B' }, { type: 'aggregation' }),
    ];
    await assert.rejects(handler({ topic: 't', partition: 0, messages: batch }, ctx), (e) => isMiaRunError(e) && e.code === 'MR_FD_UNSUPPORTED_TRIGGER');
    assert.deepEqual(work, [{ sku: 'A' }, { sku: 'B' }]);
  });

  it('a paused view holds its sv-trigger batch until resumed', async () => {
    let paused = true;
    let waits = 0;
    const pause: ConsumerPause = {
      isPaused: (kind, name) => paused && kind === 'view' && name === 'stock-view',
      sleep: async () => {
        waits += 1;
        if (waits === 3) paused = false;
      },
    };
    const { deps, work } = setup(pause);
    await svTriggerHandler(deps, view)({ topic: 't', partition: 0, messages: [msg('t', { sku: 'A' }, { type: 'aggregation' })] }, ctx);
    assert.equal(waits, 3, 'checked the pause until it was lifted');
    assert.deepEqual(work, [{ sku: 'A' }]);
  });
});
