/**
 * Ingestion dead letters (fast-data.md §6): a poison message is published to its projection's dead-letter
 * topic (`deadLetter.topic`, default `<ingestion topic>.dlq`) with its key, value and headers unchanged plus
 * the header `mia-run-dead-letter`, a JSON object saying why, and counted by code
 * (`mia_run_fd_dead_letters_total{projection,code}`). `redrive` reads that header back.
 */
import { isMiaRunError } from '../errors.js';
import type { ConsumedMessage, EventBus } from '../ports/event-bus.js';
import type { Logger } from '../ports/logger.js';
import type { MetricEmitter } from '../ports/telemetry.js';
import type { CompiledProjection } from './mapping.js';

export const DEAD_LETTER_HEADER = 'mia-run-dead-letter';

/** The value of the `mia-run-dead-letter` header, fields in this order. */
export interface DeadLetterInfo {
  readonly code: string;
  readonly message: string;
  readonly retriable: boolean;
  readonly attempts: number;
  readonly stage: 'ingestion';
  readonly projection: string;
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: string; readonly timestamp: string };
  readonly failedAt: string;
}

/** The dead-letter topic of a projection. */
export function projectionDeadLetterTopic(p: Pick<CompiledProjection, 'topic' | 'config'>): string {
  const configured = p.config.deadLetter?.topic;
  return configured ?? `${p.topic}.dlq`;
}

/** The header value for `message` failing with `error` after `attempts` tries. */
export function deadLetterInfo(projection: string, message: ConsumedMessage, error: unknown, attempts: number, failedAt: Date): DeadLetterInfo {
  const text = error instanceof Error ? error.message : String(error);
  return {
    code: isMiaRunError(error) ? error.code : 'MR_FD_INVALID_MESSAGE',
    message: text.length > 1000 ? `${text.slice(0, 1000)}...` : text,
    retriable: isMiaRunError(error) ? error.retriable : false,
    attempts,
    stage: 'ingestion',
    projection,
    source: { topic: message.topic, partition: message.partition, offset: String(message.offset), timestamp: String(message.timestamp) },
    failedAt: failedAt.toISOString(),
  };
}

/** Reads the header of a dead letter; undefined when absent or not JSON. */
export function readDeadLetterInfo(headers: Readonly<Record<string, string>>): DeadLetterInfo | undefined {
  const raw = headers[DEAD_LETTER_HEADER];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as DeadLetterInfo;
  } catch {
    return undefined;
  }
}

export interface DeadLetterDeps {
  readonly bus: Pick<EventBus, 'publish' | 'ensureTopics'>;
  readonly metrics: MetricEmitter;
  readonly logger: Logger;
  readonly now: () => number;
}

export type DeadLetterFn = (projection: CompiledProjection, message: ConsumedMessage, error: unknown, attempts: number) => Promise<void>;

/** Builds the function that parks one poison message (creating the dead-letter topic on first use). */
export function createDeadLetters(deps: DeadLetterDeps): DeadLetterFn {
  const ensured = new Set<string>();
  return async (projection, message, error, attempts) => {
    const topic = projectionDeadLetterTopic(projection);
    if (!ensured.has(topic)) {
      await deps.bus.ensureTopics({ [topic]: { partitions: 1 } });
      ensured.add(topic);
    }
    const info = deadLetterInfo(projection.name, message, error, attempts, new Date(deps.now()));
    await deps.bus.publish(topic, [{ key: message.key, value: message.value, headers: { ...message.headers, [DEAD_LETTER_HEADER]: JSON.stringify(info) }, timestamp: message.timestamp }]);
    deps.metrics.count('dead_letters', 'Ingestion messages dead-lettered, by projection and code', { projection: projection.name, code: info.code });
    deps.logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, code: info.code, deadLetterTopic: topic }, 'message dead-lettered');
  };
}
