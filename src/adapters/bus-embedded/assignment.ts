/**
 * Which partitions a group member should own: for each topic, the live members subscribed to it are sorted
 * by id and partition `p` goes to member `p % count`. Every member computes the same answer from the same
 * member list, so no leader is needed; claims in the store (see `group-member.ts`) keep two members from
 * owning one partition while their views of the list differ.
 */
import type { TopicPartition } from '../../ports/event-bus.js';

export function desiredAssignment(
  memberId: string,
  members: ReadonlyMap<string, readonly string[]>,
  partitionsOf: (topic: string) => number,
  topics: readonly string[],
): TopicPartition[] {
  const result: TopicPartition[] = [];
  for (const topic of [...new Set(topics)].sort()) {
    const eligible = [...members].filter(([, subscribed]) => subscribed.includes(topic)).map(([id]) => id).sort();
    const index = eligible.indexOf(memberId);
    if (index < 0) continue;
    const count = partitionsOf(topic);
    for (let p = index; p < count; p += eligible.length) result.push({ topic, partition: p });
  }
  return result;
}
