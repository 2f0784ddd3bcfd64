/**
 * Durability of the embedded store: a writer process killed with SIGKILL loses no acknowledged write, and the
 * store opens cleanly afterwards with its unique index intact.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EmbeddedDocumentStore } from '../../src/adapters/store-embedded/index.js';
import { systemClock } from '../../src/ports/clock.js';

const child = fileURLToPath(new URL('./store-embedded-child.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'mia-run-store-crash-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('embedded store under kill -9', () => {
  it('keeps every acknowledged insert of a writer killed mid-stream', async () => {
    const dir = join(root, 'db');
    const proc = spawn(process.execPath, ['--import', 'tsx', child, 'write', dir, '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: string[] = [];
    let buffer = '';
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for 2000 acknowledged inserts')), 60_000);
      proc.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) if (line.startsWith('ack ')) acked.push(line.slice(4));
        if (acked.length >= 2000) {
          clearTimeout(timer);
          proc.kill('SIGKILL');
          resolve();
        }
      });
    });
    await exited;
    assert.equal(proc.signalCode, 'SIGKILL');

    const store = new EmbeddedDocumentStore('db', { path: dir, clock: systemClock });
    await store.start();
    try {
      const orders = store.collection('orders');
      const ids = new Set((await orders.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
      const lost = acked.filter((id) => !ids.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged inserts were lost`);
      // The unique index survived with the documents: an acknowledged email cannot be inserted again.
      await assert.rejects(orders.insertOne({ email: `${acked[0]}@example.com` }), { code: 'MR_STORE_DUPLICATE_KEY' });
      const sample = await orders.findOne({ _id: acked[acked.length - 1] });
      assert.ok(sample?.at instanceof Date);
    } finally {
      await store.close();
    }
  });
});
