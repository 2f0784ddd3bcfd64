import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { after, it } from 'node:test';
import type { MetricSample } from '../../../src/ports/telemetry.js';
import { crudApp } from '../../helpers/crud-app.js';
import { book, booksCollection } from '../../helpers/crud-books.js';
import { embeddedStore } from '../../helpers/crud-stores.js';

const samples: MetricSample[] = [];
const listener = (message: unknown): void => void samples.push(message as MetricSample);
diagnosticsChannel.subscribe('mia-run:crud:metric', listener);
after(() => diagnosticsChannel.unsubscribe('mia-run:crud:metric', listener));

it('counts requests per collection, operation and status, and observes their duration', async () => {
  const store = await embeddedStore.create();
  const t = await crudApp(store, [booksCollection]);
  await t.app.inject({ method: 'POST', url: '/books', payload: book(1) });
  await t.app.inject({ url: '/books/000000000000000000000000' });
  await t.close();
  await embeddedStore.destroy(store);
  const counters = samples.filter((s) => s.name === 'requests').map((s) => s.labels);
  assert.deepEqual(counters, [
    { collection: 'books', operation: 'insert_or_update', status: '200' },
    { collection: 'books', operation: 'fetch', status: '404' },
  ]);
  assert.equal(samples.filter((s) => s.name === 'request_seconds' && s.kind === 'histogram').length, 2);
});
