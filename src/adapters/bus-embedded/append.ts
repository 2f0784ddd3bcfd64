/**
 * Appending to the embedded log: one write transaction per `publish` call, so a call's messages become
 * visible together, take consecutive offsets per partition in call order, and are trimmed for retention by
 * size in the same transaction.
 */
import { MiaRunError } from '../../errors.js';
import type { PublishedRecord } from '../../ports/event-bus.js';
import type { LogRecord, LogStore, PartitionMeta, TopicRecord } from './log-store.js';
import { readMeta } from './log-store.js';
import { encodeRecord } from './record-codec.js';
import { trimPartition } from './retention.js';

export interface PreparedRecord {
  readonly partition: number;
  readonly record: LogRecord;
}

/** Appends `prepared` to `topic` and resolves once committed (visible to readers) with where each landed. */
export async function appendRecords(store: LogStore, topic: string, config: TopicRecord, prepared: readonly PreparedRecord[], now: number): Promise<PublishedRecord[]> {
  try {
    return await store.root.transaction(() => {
      const metas = new Map<number, PartitionMeta>();
      const out = prepared.map(({ partition, record }) => {
        let meta = metas.get(partition);
        if (meta === undefined) {
          meta = readMeta(store, topic, partition);
          metas.set(partition, meta);
        }
        const offset = meta.next;
        store.log.putSync([topic, partition, offset], encodeRecord(record));
        meta.next += 1;
        meta.bytes += record.s;
        return { topic, partition, offset };
      });
      for (const [partition, meta] of metas) {
        store.meta.putSync([topic, partition], meta);
        if (config.retentionBytes !== undefined && meta.bytes > config.retentionBytes) trimPartition(store, topic, partition, config, now);
      }
      return out;
    });
  } catch (cause) {
    throw new MiaRunError('MR_BUS_UNAVAILABLE', `Cannot append to topic "${topic}"`, { cause, details: { topic } });
  }
}

/** Resolves once everything committed so far is synced to disk. */
export async function syncToDisk(store: LogStore, topic: string): Promise<void> {
  try {
    await store.root.flushed;
  } catch (cause) {
    throw new MiaRunError('MR_BUS_UNAVAILABLE', `Cannot sync topic "${topic}" to disk`, { cause, details: { topic } });
  }
}
