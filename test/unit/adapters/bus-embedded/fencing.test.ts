import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireLogStore, releaseLogStore } from '../../../../src/adapters/bus-embedded/log-store.js';
import { commitOffset, resolvePosition } from '../../../../src/adapters/bus-embedded/partition-worker.js';
import { decodeRecord, encodeRecord } from '../../../../src/adapters/bus-embedded/record-codec.js';

const root = mkdtempSync(join(tmpdir(), 'mia-run-bus-fencing-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('embedded bus: commits and positions', () => {
  it('refuses a commit from a member that no longer holds the partition claim', async () => {
    const store = acquireLogStore(join(root, 'fence'));
    await store.root.transaction(() => store.claims.putSync(['g', 't', 0], 'member-b'));
    assert.equal(await commitOffset(store, 'g', 't', 0, 'member-a', 10), false);
    assert.equal(store.offsets.get(['g', 't', 0]), undefined);
    assert.equal(await commitOffset(store, 'g', 't', 0, 'member-b', 10), true);
    assert.equal(await commitOffset(store, 'g', 't', 0, null, 3), true, 'an admin reset needs no claim');
    assert.equal(store.offsets.get(['g', 't', 0]), 3);
    await releaseLogStore(store);
  });

  it('resolves timestamps to the first message at or after them, clamped to the kept range', async () => {
    const store = acquireLogStore(join(root, 'positions'));
    await store.root.transaction(() => {
      for (let o = 2; o < 6; o++) store.log.putSync(['t', 0, o], encodeRecord({ t: 1000 * o, k: null, v: null, h: null, s: 0 }));
      store.meta.putSync(['t', 0], { start: 2, next: 6, bytes: 0 });
    });
    assert.equal(resolvePosition(store, 't', 0, 'beginning'), 2);
    assert.equal(resolvePosition(store, 't', 0, 'end'), 6);
    assert.equal(resolvePosition(store, 't', 0, { timestamp: 3500 }), 4);
    assert.equal(resolvePosition(store, 't', 0, { timestamp: 0 }), 2);
    assert.equal(resolvePosition(store, 't', 0, { timestamp: 99_999 }), 6);
    assert.equal(resolvePosition(store, 't', 0, { offset: 0 }), 2);
    assert.equal(resolvePosition(store, 't', 0, { offset: 100 }), 6);
    await releaseLogStore(store);
  });

  it('shares one environment per directory in a process and closes it with the last user', async () => {
    const a = acquireLogStore(join(root, 'shared'));
    const b = acquireLogStore(join(root, 'shared'));
    assert.equal(a, b);
    await releaseLogStore(a);
    await b.root.transaction(() => b.topics.putSync('still-open', { partitions: 1 }));
    await releaseLogStore(b);
    const c = acquireLogStore(join(root, 'shared'));
    assert.notEqual(c, a);
    assert.deepEqual(c.topics.get('still-open'), { partitions: 1 });
    await releaseLogStore(c);
  });
});

describe('embedded bus: records', () => {
  it('round-trip keys, values, headers, tombstones and timestamps', () => {
    const full = { t: 1_700_000_000_123, k: 'clé', v: Buffer.from([0, 1, 255]), h: { 'x-a': 'b' }, s: 12 };
    assert.deepEqual(decodeRecord(encodeRecord(full)), full);
    const bare = { t: 5, k: null, v: null, h: null, s: 0 };
    assert.deepEqual(decodeRecord(encodeRecord(bare)), bare);
  });

  it('decoded values stay intact after later reads and writes', async () => {
    const store = acquireLogStore(join(root, 'copies'));
    await store.root.transaction(() => {
      for (let o = 0; o < 50; o++) store.log.putSync(['t', 0, o], encodeRecord({ t: o, k: null, v: Buffer.alloc(1024, o), h: null, s: 1024 }));
    });
    const kept = [...store.log.getRange({ start: ['t', 0, 0], end: ['t', 0, 25] })].map((e) => decodeRecord(e.value).v!);
    await store.root.transaction(() => {
      for (let o = 0; o < 50; o++) store.log.putSync(['t', 0, o], encodeRecord({ t: o, k: null, v: Buffer.alloc(1024, 255), h: null, s: 1024 }));
    });
    for (const entry of store.log.getRange({ start: ['t', 0, 0], end: ['t', 0, 50] })) assert.equal(decodeRecord(entry.value).v![0], 255);
    assert.ok(kept.every((value, i) => value.every((byte) => byte === i)));
    await releaseLogStore(store);
  });
});
