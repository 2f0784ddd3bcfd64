/**
 * `redrive <dead-letter topic> [--key k]` (fast-data.md §6-§7): dead letters go back to their ingestion
 * topic with their key, value, headers (without `mia-run-dead-letter`) and original record timestamp, so
 * they pass the same pipeline with their original position: one older than the stored record is
 * stale-skipped. Without a key, the group `<project>.fast-data.redrive` remembers what was redriven (a second
 * run only takes newer dead letters); with a key, every dead letter of that key is redriven again.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../../ports/clock.js';
import type { ConsumedMessage, EventBus } from '../../ports/event-bus.js';
import { DEAD_LETTER_HEADER, readDeadLetterInfo } from '../dead-letters.js';
import type { ProjectionTarget } from './targets.js';

export interface RedriveResult {
  readonly topic: string;
  readonly to: string;
  readonly redriven: number;
  readonly skipped: number;
}

/** True when two message keys are the same text or the same JSON. */
export function sameKey(actual: string | null, wanted: string): boolean {
  if (actual === wanted) return true;
  if (actual === null) return false;
  try {
    return isDeepStrictEqual(JSON.parse(actual), JSON.parse(wanted));
  } catch {
    return false;
  }
}

/** Redrives the dead letters of `projection` present when called; resolves once they are republished. */
export async function redrive(bus: EventBus, clock: Clock, project: string, projection: ProjectionTarget, key?: string, timeoutMs = 60_000): Promise<RedriveResult> {
  const dlq = projection.deadLetterTopic;
  const described = (await bus.describeTopics()).find((t) => t.name === dlq);
  if (described === undefined || described.partitions.every((p) => p.end === p.start)) return { topic: dlq, to: projection.topic, redriven: 0, skipped: 0 };
  const ends = new Map(described.partitions.map((p) => [p.partition, p.end]));
  const group = key === undefined ? `${project}.fast-data.redrive` : `${project}.fast-data.redrive.${randomUUID()}`;
  let redriven = 0;
  let skipped = 0;
  // One message per batch: a dead letter that arrived after the call (a redriven message failing again)
  // is never committed here, it waits for the next redrive.
  const handler = async (batch: { messages: readonly ConsumedMessage[] }, ctx: { signal: AbortSignal }): Promise<void> => {
    const m = batch.messages[0]!;
    if (m.offset >= (ends.get(m.partition) ?? 0)) {
      await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
    }
    if (key !== undefined && !sameKey(m.key, key)) {
      skipped++;
      return;
    }
    const info = readDeadLetterInfo(m.headers);
    const headers = Object.fromEntries(Object.entries(m.headers).filter(([h]) => h !== DEAD_LETTER_HEADER));
    const timestamp = info !== undefined && Number.isFinite(Number(info.source.timestamp)) ? Number(info.source.timestamp) : m.timestamp;
    await bus.publish(info?.source.topic ?? projection.topic, [{ key: m.key, value: m.value, headers, timestamp }]);
    redriven++;
  };
  const sub = await bus.subscribe({ group, topics: [dlq], fromBeginning: true, handler, maxBatchSize: 1, deadLetter: false });
  try {
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      const lag = await bus.lag(group, [dlq]);
      const done = [...ends].every(([partition, end]) => {
        const row = lag.find((l) => l.partition === partition);
        return row !== undefined && (row.committed ?? row.start) >= end;
      });
      if (done || clock.now() > deadline) break;
      await clock.sleep(50);
    }
  } finally {
    await sub.stop();
  }
  return { topic: dlq, to: projection.topic, redriven, skipped };
}
