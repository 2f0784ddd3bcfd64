/**
 * Group offsets through the admin client: per-partition lag, moving a group's committed offsets, and turning
 * a `SeekPosition` (beginning, end, timestamp, offset) into concrete offsets per partition.
 */
import type { Admin } from 'kafkajs';
import { MiaRunError } from '../../errors.js';
import type { PartitionLag, SeekPosition } from '../../ports/event-bus.js';
import { toBusError } from './errors.js';
import { isInternalTopic, type TopicAdmin } from './topics.js';

/** Offsets to move to, by partition, clamped to what the partition keeps. */
export async function resolvePosition(admin: Admin, topics: TopicAdmin, topic: string, position: SeekPosition): Promise<Map<number, number>> {
  const marks = await topics.watermarks(topic);
  const out = new Map<number, number>();
  if (typeof position === 'object' && 'timestamp' in position) {
    let byTime;
    try {
      byTime = await admin.fetchTopicOffsetsByTimestamp(topic, position.timestamp);
    } catch (err) {
      throw toBusError(err, `finding offsets of "${topic}" at ${new Date(position.timestamp).toISOString()}`, { topic });
    }
    for (const { partition, offset } of byTime) {
      const w = marks.get(partition);
      const n = Number(offset);
      // kafkajs answers the high watermark when no message is as recent as the timestamp.
      out.set(partition, w === undefined ? n : Math.min(Math.max(n, w.start), w.end));
    }
    return out;
  }
  for (const [partition, w] of marks) {
    if (position === 'beginning') out.set(partition, w.start);
    else if (position === 'end') out.set(partition, w.end);
    else out.set(partition, Math.min(Math.max(position.offset, w.start), w.end));
  }
  return out;
}

/** Committed offsets of `group` (`null` where it never committed), by topic then partition. */
export async function committedOffsets(admin: Admin, group: string, topics?: readonly string[]): Promise<Map<string, Map<number, number | null>>> {
  const response = await admin.fetchOffsets(topics === undefined ? { groupId: group } : { groupId: group, topics: [...topics] });
  const out = new Map<string, Map<number, number | null>>();
  for (const { topic, partitions } of response) {
    if (isInternalTopic(topic)) continue;
    const byPartition = new Map<number, number | null>();
    for (const p of partitions) {
      const n = Number(p.offset);
      byPartition.set(p.partition, n >= 0 ? n : null);
    }
    out.set(topic, byPartition);
  }
  return out;
}

/** Per-partition lag of `group`, sorted by topic then partition. */
export async function groupLag(admin: Admin, topics: TopicAdmin, group: string, only?: readonly string[]): Promise<PartitionLag[]> {
  let committed: Map<string, Map<number, number | null>>;
  try {
    committed = await committedOffsets(admin, group, only);
  } catch (err) {
    throw toBusError(err, `reading offsets of group "${group}"`, { group });
  }
  const out: PartitionLag[] = [];
  for (const topic of [...committed.keys()].sort()) {
    const byPartition = committed.get(topic)!;
    // Without a topic list kafkajs returns only partitions with a commit; skip topics with none at all.
    if (only === undefined && [...byPartition.values()].every((v) => v === null)) continue;
    const marks = await topics.watermarks(topic);
    for (const [partition, w] of [...marks.entries()].sort(([a], [b]) => a - b)) {
      const c = byPartition.get(partition) ?? null;
      out.push({ topic, partition, committed: c, start: w.start, end: w.end, lag: Math.max(0, w.end - (c ?? w.start)) });
    }
  }
  return out;
}

/** Moves `group`'s committed offsets of every partition of `topic`; the group must have no live member. */
export async function resetGroupOffsets(admin: Admin, topics: TopicAdmin, group: string, topic: string, position: SeekPosition): Promise<void> {
  const offsets = await resolvePosition(admin, topics, topic, position);
  try {
    await admin.setOffsets({ groupId: group, topic, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: String(offset) })) });
  } catch (err) {
    const mapped = toBusError(err, `resetting offsets of group "${group}" on "${topic}"`, { group, topic });
    const text = err instanceof Error ? err.message : '';
    if (mapped.code === 'MR_BUS_REBALANCING' || /no running instances/i.test(text)) {
      throw new MiaRunError('MR_BUS_REBALANCING', `Group "${group}" has live members; its offsets can only be moved when it is empty`, {
        cause: err,
        details: { group, topic },
        hint: 'stop the group\'s consumers first, or use seek() on a subscription',
      });
    }
    throw mapped;
  }
}
