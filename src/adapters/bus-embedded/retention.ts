/**
 * Retention of the embedded log, like Kafka's `retention.ms` / `retention.bytes` per partition: the oldest
 * messages go first; offsets never move backwards, consumers behind the first kept offset skip ahead.
 */
import type { LogStore, TopicRecord } from './log-store.js';
import { readMeta } from './log-store.js';
import { recordRetentionSize, recordTimestamp } from './record-codec.js';

/**
 * Deletes the oldest messages of one partition that are older than `retentionMs` or beyond
 * `retentionBytes`. Must run inside a write transaction of `store.root`. Returns how many were deleted.
 */
export function trimPartition(store: LogStore, topic: string, partition: number, config: TopicRecord, now: number): number {
  if (config.retentionMs === undefined && config.retentionBytes === undefined) return 0;
  const meta = readMeta(store, topic, partition);
  const oldest = config.retentionMs === undefined ? -Infinity : now - config.retentionMs;
  let deleted = 0;
  while (meta.start < meta.next) {
    const record = store.log.get([topic, partition, meta.start]);
    const overSize = config.retentionBytes !== undefined && meta.bytes > config.retentionBytes;
    if (record !== undefined && !overSize && recordTimestamp(record) >= oldest) break;
    if (record !== undefined) {
      store.log.removeSync([topic, partition, meta.start]);
      meta.bytes -= recordRetentionSize(record);
    }
    meta.start += 1;
    deleted += 1;
  }
  if (deleted > 0) store.meta.putSync([topic, partition], meta);
  return deleted;
}

/** Applies retention to every partition of every topic that declares it; returns the messages deleted. */
export async function applyRetention(store: LogStore, now: number): Promise<number> {
  return store.root.transaction(() => {
    let deleted = 0;
    for (const { key, value } of store.topics.getRange({})) {
      for (let p = 0; p < value.partitions; p++) deleted += trimPartition(store, key, p, value, now);
    }
    return deleted;
  });
}
