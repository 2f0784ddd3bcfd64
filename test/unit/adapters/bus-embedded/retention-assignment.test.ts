import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { desiredAssignment } from '../../../../src/adapters/bus-embedded/assignment.js';
import { EmbeddedEventBus } from '../../../../src/adapters/bus-embedded/index.js';
import { ManualClock } from '../../../../src/ports/manual-clock.js';
import { silentLogger } from '../../../../src/ports/logger.js';

const root = mkdtempSync(join(tmpdir(), 'mia-run-bus-unit-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function busWith(name: string, topics: Record<string, { partitions: number; retentionMs?: number; retentionBytes?: number }>, clock = new ManualClock()) {
  const bus = new EmbeddedEventBus('bus', { kind: 'embedded', topics }, { dataDir: join(root, name), clock, logger: silentLogger });
  await bus.start();
  return { bus, clock };
}

describe('embedded bus: retention', () => {
  it('keeps a partition under retentionBytes by dropping the oldest messages at publish', async () => {
    const { bus } = await busWith('bytes', { t: { partitions: 1, retentionBytes: 1000 } });
    for (let i = 0; i < 10; i++) await bus.publish('t', [{ key: 'k', value: Buffer.alloc(199, i) }]);
    const [topic] = await bus.describeTopics();
    const { start, end } = topic!.partitions[0]!;
    assert.equal(end, 10);
    // 200 bytes each (key 1 + value 199): at most 5 fit in 1000 bytes.
    assert.equal(start, 5);
    await bus.close();
  });

  it('drops messages older than retentionMs when retention runs, and lag skips them', async () => {
    const { bus, clock } = await busWith('age', { t: { partitions: 1, retentionMs: 60_000 } });
    await bus.publish('t', [{ key: 'k', value: 'old-1' }, { key: 'k', value: 'old-2' }]);
    await clock.advance(30_000);
    await bus.publish('t', [{ key: 'k', value: 'new' }]);
    await clock.advance(31_000);
    assert.equal(await bus.applyRetention(), 2);
    const [topic] = await bus.describeTopics();
    assert.deepEqual({ ...topic!.partitions[0]! }, { partition: 0, start: 2, end: 3 });
    const [lag] = await bus.lag('never-consumed', ['t']);
    assert.equal(lag!.lag, 1);
    await bus.close();
  });

  it('runs age retention on the clock every retentionCheckMs', async () => {
    const clock = new ManualClock();
    const bus = new EmbeddedEventBus('bus', { kind: 'embedded', topics: { t: { partitions: 1, retentionMs: 1000 } } }, { dataDir: join(root, 'timer'), clock, logger: silentLogger }, { retentionCheckMs: 5000 });
    await bus.start();
    await bus.publish('t', [{ key: 'k', value: 'x' }]);
    await clock.advance(5000);
    for (let i = 0; i < 100 && (await bus.describeTopics())[0]!.partitions[0]!.start === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal((await bus.describeTopics())[0]!.partitions[0]!.start, 1);
    await bus.close();
  });

  it('keeps messages forever without retention settings', async () => {
    const { bus, clock } = await busWith('forever', { t: { partitions: 2 } });
    await bus.publish('t', [{ key: 'a', value: 1 }]);
    await clock.advance(365 * 24 * 3600 * 1000);
    assert.equal(await bus.applyRetention(), 0);
    await bus.close();
  });
});

describe('embedded bus: assignment', () => {
  const partitions = () => 5;
  it('splits partitions round-robin among members sorted by id', () => {
    const members = new Map([['b', ['t']], ['a', ['t']]]);
    assert.deepEqual(desiredAssignment('a', members, partitions, ['t']).map((tp) => tp.partition), [0, 2, 4]);
    assert.deepEqual(desiredAssignment('b', members, partitions, ['t']).map((tp) => tp.partition), [1, 3]);
  });

  it('gives a topic only to members subscribed to it', () => {
    const members = new Map([['a', ['t', 'u']], ['b', ['u']]]);
    assert.deepEqual(desiredAssignment('a', members, () => 2, ['t', 'u']), [
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
      { topic: 'u', partition: 0 },
    ]);
  });

  it('gives nothing to a member missing from the live list', () => {
    assert.deepEqual(desiredAssignment('ghost', new Map([['a', ['t']]]), partitions, ['t']), []);
  });
});
