// The §4 message formats byte-for-shape: what mia-run emits equals Mia's published examples (fast-data.md
// §4) once the values the example fixes (times, offsets, ids) are the same; what Mia emits is read back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMiaRunError } from '../../../src/errors.js';
import { createConsumedMessage } from '../../../src/bus/message.js';
import type { ConsumedMessage, OutgoingMessage } from '../../../src/ports/event-bus.js';
import type { ProjectionChange } from '../../../src/projections/apply.js';
import { decodeChangeEvent, encodePrUpdateV1, encodePrUpdateV2, type PrUpdateContext } from '../../../src/projections/topics/pr-update.js';
import { decodeSvTrigger, encodeSvTrigger } from '../../../src/projections/topics/sv-trigger.js';
import { encodeSvUpdateV1 } from '../../../src/projections/topics/sv-update.js';
import { relationIndexes } from '../../../src/projections/topics/indexes.js';
import { compileView } from '../../../src/projections/single-view/model.js';

/** A message as the §4 examples write it: `{headers?, key, value}` with headers parsed from their JSON text. */
const asExample = (m: OutgoingMessage): Record<string, unknown> => ({
  ...(m.headers === undefined ? {} : { headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, JSON.parse(v) as unknown])) }),
  key: JSON.parse(m.key ?? 'null') as unknown,
  value: JSON.parse(JSON.stringify(m.value)) as unknown,
});

const consumed = (value: unknown, headers: Record<string, string> = {}, key: unknown = { id: 7 }): ConsumedMessage =>
  createConsumedMessage({ topic: 't', partition: 0, offset: 3, key: JSON.stringify(key), value: value === null ? null : Buffer.from(JSON.stringify(value)), headers, timestamp: 0 });

const change: ProjectionChange = {
  projection: 'orders',
  operation: 'UPDATE',
  before: { _id: 'x', id: 7, customerId: 41, __STATE__: 'PUBLIC' },
  after: { id: 7, customerId: 42, __STATE__: 'PUBLIC' },
};
const ctx: PrUpdateContext = {
  source: 'erp',
  collection: 'orders',
  primaryKey: ['id'],
  message: { topic: 'erp.public.orders', partition: 0, offset: 151, key: '{"ID":7}', timestamp: Date.parse('2023-05-26T16:32:24.745Z') },
  polledAt: Date.parse('2023-05-26T16:32:24.901Z'),
  writtenAt: Date.parse('2023-05-26T16:32:24.812Z'),
};

describe('pr-update, sv-trigger and sv-update formats (fast-data.md §4)', () => {
  it('pr-update v2.0.0 equals the §4 example', () => {
    assert.deepEqual(asExample(encodePrUpdateV2(change, ctx)), JSON.parse(`{"headers":{"messageSchema":{"type":"pr-update","version":"v2.0.0"},
            "context":{"ingestion":{"topic":"erp.public.orders","partitionID":0,"offset":"151","timestamp":"2023-05-26T16:32:24.745Z","pollTimestamp":"2023-05-26T16:32:24.901Z"}}},
 "key":{"id":7},
 "value":{"operation":{"type":"UPDATE","timestamp":"2023-05-26T16:32:24.812Z"},"source":"erp","storageNamespace":"orders","primaryKeys":["id"],
          "before":{"id":7,"customerId":41,"__STATE__":"PUBLIC"},"after":{"id":7,"customerId":42,"__STATE__":"PUBLIC"}}}`));
    const deleted = asExample(encodePrUpdateV2({ ...change, operation: 'DELETE', after: null }, ctx)).value as Record<string, unknown>;
    assert.equal(deleted.after, null);
  });

  it('pr-update v1.0.0 equals the §4 example; DELETE has no after', () => {
    const v1 = encodePrUpdateV1(change, { ...ctx, documentId: '6470d1e8c1a5f2a4b1e0c9d3' });
    assert.deepEqual(asExample(v1), JSON.parse(`{"key":{"id":7},"value":{"operationType":"UPDATE","operationTimestamp":"2023-05-26T16:32:24.812Z","documentId":"6470d1e8c1a5f2a4b1e0c9d3","projectionName":"orders","source":"erp","primaryKeys":["id"],
 "before":{"id":7,"customerId":41,"__STATE__":"PUBLIC"},"after":{"id":7,"customerId":42,"__STATE__":"PUBLIC"},
 "__internal__kafkaInfo":{"topic":"erp.public.orders","partition":0,"offset":"151","key":{"ID":7},"timestamp":"2023-05-26T16:32:24.745Z"}}}`));
    assert.equal(Object.keys(v1.value as object).join(), 'operationType,operationTimestamp,documentId,projectionName,source,primaryKeys,before,after,__internal__kafkaInfo');
    const del = encodePrUpdateV1({ ...change, operation: 'DELETE', after: null }, ctx).value as Record<string, unknown>;
    assert.equal('after' in del, false);
  });

  it('sv-trigger equals the §4 example (retry absent on first delivery)', () => {
    const data = { id: 7, customerId: 42, __STATE__: 'PUBLIC', __internal__counter: 1685118744745, __internal__counterType: 'timestamp' };
    const retry = { attempts: 5, lastError: { type: 'SINGLE_VIEW_AGGREGATION_MAX_TIME', message: 'Aggregation exceeding configured time limit' } };
    const m = encodeSvTrigger('customer-360', '{"customerId":42}', { projection: 'orders', primaryKey: ['id'], record: { _id: 'x', ...data }, message: ctx.message }, retry);
    assert.deepEqual(asExample(m), JSON.parse(`{"headers":{"messageSchema":{"type":"sv-trigger","version":"v1.0.0"}},"key":{"customerId":42},
 "value":{"type":"aggregation","singleViewName":"customer-360","singleViewIdentifier":{"customerId":42},
          "change":{"projectionName":"orders","projectionIdentifier":{"id":7},"data":{"id":7,"customerId":42,"__STATE__":"PUBLIC","__internal__counter":1685118744745,"__internal__counterType":"timestamp"}},
          "retry":{"attempts":5,"lastError":{"type":"SINGLE_VIEW_AGGREGATION_MAX_TIME","message":"Aggregation exceeding configured time limit"}},
          "__internal__kafkaInfo":{"topic":"erp.public.orders","partition":0,"offset":"151","key":{"ID":7},"timestamp":"2023-05-26T16:32:24.745Z"}}}`));
    assert.equal('retry' in (encodeSvTrigger('v', '{"k":1}').value as object), false);
  });

  it('sv-update v1.0.0: images only with includeBeforeAfter, none after a DELETE', () => {
    const c = { operation: 'UPDATE' as const, before: { _id: 'a', customerId: 42, orders: [] }, after: { customerId: 42, orders: [{ id: 7 }] }, documentId: 'a', kafkaInfo: { topic: 'erp.public.orders' } };
    const at = Date.parse('2023-05-26T16:32:24.812Z');
    assert.deepEqual(encodeSvUpdateV1('customer-360', '{"customerId":42}', c, { source: 'shop', includeBeforeAfter: true, at }), {
      key: '{"customerId":42}',
      value: { operationType: 'UPDATE', operationTimestamp: '2023-05-26T16:32:24.812Z', documentId: 'a', singleViewName: 'customer-360', source: 'shop', before: { customerId: 42, orders: [] }, after: { customerId: 42, orders: [{ id: 7 }] }, __internal__kafkaInfo: { topic: 'erp.public.orders' } },
    });
    assert.deepEqual(Object.keys(encodeSvUpdateV1('v', '{}', c, { source: 's', includeBeforeAfter: false, at }).value as object), ['operationType', 'operationTimestamp', 'documentId', 'singleViewName', 'source', '__internal__kafkaInfo']);
    assert.equal('after' in (encodeSvUpdateV1('v', '{}', { ...c, operation: 'DELETE' }, { source: 's', includeBeforeAfter: true, at }).value as object), false);
  });

  it('reads pr-update v2 and v1: version from the messageSchema header, else from the shape; UPSERT is UPDATE; sv-update too', () => {
    const v2 = asExample(encodePrUpdateV2(change, ctx));
    const fromHeader = decodeChangeEvent(consumed(v2.value, { messageSchema: '{"type":"pr-update","version":"v2.0.0"}' }));
    assert.deepEqual(fromHeader, { type: 'pr-update', version: 'v2', operation: 'UPDATE', key: { id: 7 }, before: { id: 7, customerId: 41, __STATE__: 'PUBLIC' }, after: { id: 7, customerId: 42, __STATE__: 'PUBLIC' } });
    assert.equal(decodeChangeEvent(consumed(v2.value))?.version, 'v2');
    const v1 = { operationType: 'UPSERT', projectionName: 'orders', before: null, after: { id: 7 } };
    assert.deepEqual(decodeChangeEvent(consumed(v1)), { type: 'pr-update', version: 'v1', operation: 'UPDATE', name: 'orders', key: { id: 7 }, before: null, after: { id: 7 } });
    const del = decodeChangeEvent(consumed({ operationType: 'DELETE', before: { id: 7 } }));
    assert.deepEqual([del?.operation, del?.after], ['DELETE', null]);
    const noImages = decodeChangeEvent(consumed({ operationType: 'INSERT' }));
    assert.deepEqual([noImages?.before, noImages?.after], [undefined, undefined]);
    const sv = decodeChangeEvent(consumed({ operation: { type: 'INSERT' }, before: null, after: { customerId: 1 } }, { messageSchema: '{"type":"sv-update","version":"v2.0.0"}' }, { customerId: 1 }));
    assert.deepEqual([sv?.type, sv?.operation], ['sv-update', 'INSERT']);
    assert.equal(decodeChangeEvent(consumed({ operationType: 'UPDATE', singleViewName: 'c', after: {} }))?.type, 'sv-update');
    assert.equal(decodeChangeEvent(consumed(null)), null);
  });

  it('refuses what is not a change event with MR_FD_INVALID_CHANGE_EVENT (not retriable)', () => {
    for (const value of [{ hello: 1 }, { operation: { type: 'MERGE' } }, [1]]) {
      assert.throws(() => decodeChangeEvent(consumed(value)), (e) => isMiaRunError(e) && e.code === 'MR_FD_INVALID_CHANGE_EVENT' && !e.retriable);
    }
    const text = createConsumedMessage({ topic: 't', partition: 0, offset: 1, key: null, value: Buffer.from('not json'), headers: {}, timestamp: 0 });
    assert.throws(() => decodeChangeEvent(text), (e) => isMiaRunError(e) && e.code === 'MR_FD_INVALID_CHANGE_EVENT');
  });

  it('reads sv-trigger aggregation messages (identifier from the value, else the key); patch is MR_FD_UNSUPPORTED_TRIGGER', () => {
    assert.deepEqual(decodeSvTrigger(consumed({ type: 'aggregation', singleViewName: 'c', singleViewIdentifier: { customerId: 42 }, retry: { attempts: 2 } })), { view: 'c', identifier: { customerId: 42 }, attempts: 2 });
    assert.deepEqual(decodeSvTrigger(consumed({ type: 'aggregation' }, {}, { customerId: 9 }))?.identifier, { customerId: 9 });
    assert.throws(() => decodeSvTrigger(consumed({ type: 'patch', singleViewName: 'c' })), (e) => isMiaRunError(e) && e.code === 'MR_FD_UNSUPPORTED_TRIGGER' && !e.retriable);
    assert.throws(() => decodeSvTrigger(consumed({ type: 'other' })), (e) => isMiaRunError(e) && e.code === 'MR_FD_INVALID_CHANGE_EVENT');
    assert.throws(() => decodeSvTrigger(createConsumedMessage({ topic: 't', partition: 0, offset: 1, key: null, value: Buffer.from('{"type":"aggregation"}'), headers: {}, timestamp: 0 })), (e) => isMiaRunError(e) && e.code === 'MR_FD_INVALID_CHANGE_EVENT');
  });

  it('a view read through relations by another view gets the relation-field indexes (never its key again)', () => {
    const reader = compileView('orders-by-customer', { key: { orderId: 'orders.id' }, relations: [{ from: 'orders.customerId', to: 'customer-360.customerId' }, { from: ['orders.a', 'orders.b'], to: ['customer-360.x', 'customer-360.y'] }], aggregation: { orderId: 'orders.id' } });
    assert.deepEqual(relationIndexes('customer-360', ['customerId'], [reader]), [{ name: 'fd_rel_x_y', key: { x: 1, y: 1 } }]);
    assert.deepEqual(relationIndexes('orders', ['id'], [reader]).map((i) => i.name), ['fd_rel_customerId', 'fd_rel_a_b']);
  });
});
