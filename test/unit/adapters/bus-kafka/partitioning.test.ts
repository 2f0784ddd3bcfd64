// The Kafka adapter picks partitions itself (to report where each message landed); this proves it picks the
// same ones as kafkajs' DefaultPartitioner, i.e. the Java client's murmur2, for keyed messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { partitionForKey } from '../../../../src/bus/partitioner.js';

const metadata = (n: number) =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

describe('bus.kafka partitioning', () => {
  it('matches kafkajs DefaultPartitioner for keyed messages', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const keys = ['', 'a', 'order-1', 'customer:42', 'ünïcode-κλειδί', 'x'.repeat(257), ...Array.from({ length: 300 }, (_, i) => `key-${i}`)];
    for (const partitions of [1, 3, 6, 7, 50]) {
      for (const key of keys) {
        const expected = kafkajs({ topic: 't', partitionMetadata: metadata(partitions), message: { key, value: 'v' } });
        assert.equal(partitionForKey(key, partitions), expected, `key ${JSON.stringify(key)} over ${partitions} partitions`);
      }
    }
  });
});
