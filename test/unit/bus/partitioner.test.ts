import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmur2, partitionForKey } from '../../../src/bus/partitioner.js';

describe('murmur2 partitioner', () => {
  it('matches the Java client\'s Utils.murmur2 test vectors', () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, expected] of vectors) assert.equal(murmur2(Buffer.from(input)), expected, input);
  });

  it('maps a key to toPositive(murmur2) % partitions', () => {
    assert.equal(partitionForKey('foobar', 7), (-790332482 & 0x7fffffff) % 7);
    for (const key of ['a', 'order-1', 'é€']) {
      const p = partitionForKey(key, 5);
      assert.ok(p >= 0 && p < 5);
      assert.equal(partitionForKey(key, 5), p);
    }
  });
});
