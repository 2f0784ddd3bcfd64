import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EmbeddedDocumentStore } from '../../../../src/adapters/store-embedded/index.js';
import { ManualClock } from '../../../../src/ports/manual-clock.js';
import { metricChannel, type MetricSample } from '../../../../src/ports/telemetry.js';

const dir = mkdtempSync(join(tmpdir(), 'mia-run-store-metrics-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writes and TTL deletions are published on the store metric channel', async () => {
  const samples: MetricSample[] = [];
  const onSample = (message: unknown): void => void samples.push(message as MetricSample);
  diagnosticsChannel.subscribe(metricChannel('store'), onSample);
  const clock = new ManualClock();
  const store = new EmbeddedDocumentStore('orders', { path: dir, clock, ttlMonitorMs: 1000 });
  await store.start();
  try {
    const c = store.collection('sessions');
    await c.ensureIndexes([{ name: 'ttl', key: { at: 1 }, expireAfterSeconds: 1 }]);
    await c.insertOne({ at: new Date(clock.now()) });
    const write = samples.find((s) => s.name === 'write_seconds');
    assert.equal(write?.kind, 'histogram');
    assert.deepEqual(write?.labels, { database: 'orders' });
    await clock.advance(2000);
    const deadline = Date.now() + 10_000;
    while (!samples.some((s) => s.name === 'expired_documents' && s.value === 1)) {
      if (Date.now() > deadline) throw new Error('no expired_documents sample');
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    diagnosticsChannel.unsubscribe(metricChannel('store'), onSample);
    await store.close();
  }
});
