/**
 * Several processes on one embedded store directory (a CLI command beside a live server): each sees the
 * other's committed data and catalog, unique constraints hold across processes, and concurrent upserts from
 * two processes on the same keys give one document per key.
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
const root = mkdtempSync(join(tmpdir(), 'mia-run-store-mp-'));
after(() => rmSync(root, { recursive: true, force: true }));

function run(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 ? resolve(out.split('\n').filter((l) => l !== '')) : reject(new Error(`child exited with ${code}`))));
  });
}

describe('embedded store shared by processes', () => {
  it('a second process sees committed data and indexes, and the first sees its writes', async () => {
    const dir = join(root, 'shared');
    const store = new EmbeddedDocumentStore('db', { path: dir, clock: systemClock });
    await store.start();
    try {
      const users = store.collection('users');
      await users.ensureIndexes([{ name: 'email_1', key: { email: 1 }, unique: true }]);
      await users.insertMany([{ email: 'ada@example.com' }, { email: 'bob@example.com' }]);
      const [line] = await run(['probe', dir]);
      assert.deepEqual(JSON.parse(line!), { collections: ['users'], count: 2, indexes: ['_id_', 'email_1'], duplicate: 'MR_STORE_DUPLICATE_KEY' });
      // Still open in this process: the child's committed insert is visible without reopening.
      assert.equal((await users.findOne({ _id: 'from-child' }))?.email, 'child@example.com');
      await assert.rejects(users.insertOne({ email: 'child@example.com' }), { code: 'MR_STORE_DUPLICATE_KEY' });
    } finally {
      await store.close();
    }
  });

  it('concurrent upserts from two processes on the same unique keys give one document per key', async () => {
    const dir = join(root, 'upserts');
    const keys = 300;
    const results = await Promise.all([run(['upsert', dir, String(keys)]), run(['upsert', dir, String(keys)])]);
    assert.deepEqual(results, [[`done ${keys}`], [`done ${keys}`]]);
    const store = new EmbeddedDocumentStore('db', { path: dir, clock: systemClock });
    await store.start();
    try {
      const counters = store.collection('counters');
      assert.equal(await counters.count(), keys);
      const hits = await counters.aggregate([{ $group: { _id: '$hits', n: { $sum: 1 } } }]).toArray();
      assert.deepEqual(hits, [{ _id: 2, n: keys }]);
    } finally {
      await store.close();
    }
  });
});
