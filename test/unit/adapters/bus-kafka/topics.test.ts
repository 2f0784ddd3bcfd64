// Partition counts for the publisher: one lookup shared by concurrent callers (so publishes issued one after
// the other are queued in that order), cached, re-read after 5 minutes, unknown topics answered at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Admin } from 'kafkajs';
import { createTopicAdmin } from '../../../../src/adapters/bus-kafka/topics.js';
import { MiaRunError } from '../../../../src/errors.js';

function fakeAdmin(partitions: number) {
  const calls = { listTopics: 0, metadata: 0 };
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const admin = {
    async listTopics() {
      calls.listTopics += 1;
      await gate;
      return ['orders'];
    },
    async fetchTopicMetadata() {
      calls.metadata += 1;
      return { topics: [{ name: 'orders', partitions: Array.from({ length: partitions }, (_, partitionId) => ({ partitionId })) }] };
    },
  };
  return { admin: admin as unknown as Admin, calls, release };
}

describe('bus.kafka partition counts', () => {
  it('shares one lookup between concurrent callers and resolves them in call order', async () => {
    const fake = fakeAdmin(6);
    let now = 0;
    const topics = createTopicAdmin(fake.admin, () => ({}), () => now);
    const order: string[] = [];
    const first = topics.partitionsOf('orders').then((n) => order.push(`first:${n}`));
    const second = topics.partitionsOf('orders').then((n) => order.push(`second:${n}`));
    fake.release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first:6', 'second:6']);
    assert.equal(fake.calls.listTopics, 1);
    await topics.partitionsOf('orders');
    assert.equal(fake.calls.metadata, 1, 'cached');
    now = 300_001;
    await topics.partitionsOf('orders');
    assert.equal(fake.calls.metadata, 2, 're-read after 5 minutes');
  });

  it('answers MR_BUS_UNKNOWN_TOPIC for a topic the cluster does not list, without asking for its metadata', async () => {
    const fake = fakeAdmin(1);
    fake.release();
    const topics = createTopicAdmin(fake.admin, () => ({}), () => 0);
    await assert.rejects(topics.partitionsOf('missing'), (e: unknown) => e instanceof MiaRunError && e.code === 'MR_BUS_UNKNOWN_TOPIC');
    assert.equal(fake.calls.metadata, 0);
  });
});
