/**
 * Retries and dead letters, shared by every EventBus adapter so they behave identically.
 *
 * An adapter hands each fetched batch to the processor built here and commits the offset it returns:
 * 1. The handler gets the whole batch (attempt 1). Success: commit after the last message.
 * 2. On failure, the batch is replayed message by message. Each message is tried up to `attempts` times in
 *    all, waiting `baseMs * 2^(n-1)` (capped at `maxMs`) on the `Clock` between tries; a `MiaRunError` with
 *    `retriable: false` skips the remaining tries.
 * 3. A message that still fails is published to `<topic>.DLQ` (created on demand with one partition) with
 *    its key, value and headers plus `DLQ_HEADERS`; `mia_run_bus_dead_letters_total` counts it and the
 *    partition moves on.
 * Stopping aborts back-off waits: the processor returns what it finished and the rest is redelivered.
 */
import { isMiaRunError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { BatchHandler, ConsumedMessage, DeadLetterOptions, EventBus, MessageBatch } from '../ports/event-bus.js';
import { DLQ_HEADERS, deadLetterTopic } from '../ports/event-bus.js';
import type { Logger } from '../ports/logger.js';
import { createMetricEmitter } from '../ports/telemetry.js';

export const DEFAULT_DEAD_LETTER: Required<DeadLetterOptions> = { attempts: 5, baseMs: 100, maxMs: 5000 };

/** What the adapter does after a batch: commit `next` (when not null); back off and refetch when `error` is set. */
export interface BatchOutcome {
  /** Offset to commit (the position after the last finished message), or null when nothing finished. */
  readonly next: number | null;
  /** Set when the batch could not be finished (dead-lettering disabled, or the dead-letter publish failed). */
  readonly error?: unknown;
}

export interface DeadLetterDeps {
  readonly bus: Pick<EventBus, 'publish' | 'ensureTopics'>;
  readonly clock: Clock;
  readonly group: string;
  readonly handler: BatchHandler;
  /** `false`: no retries here; the adapter retries the batch after its own back-off. */
  readonly options?: DeadLetterOptions | false;
  readonly logger?: Logger;
}

export type BatchProcessor = (batch: MessageBatch, signal: AbortSignal) => Promise<BatchOutcome>;

const metrics = createMetricEmitter('bus');

/** Back-off before try `attempt` (2, 3, ...). */
export function backoffMs(attempt: number, options: Required<DeadLetterOptions>): number {
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 2));
}

function errorCode(error: unknown): string {
  return isMiaRunError(error) ? error.code : 'MR_BUS_HANDLER_FAILED';
}

function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 1000 ? `${text.slice(0, 1000)}...` : text;
}

/** Builds the per-batch processor of one subscription (see the module comment). */
export function createBatchProcessor(deps: DeadLetterDeps): BatchProcessor {
  const { bus, clock, group, handler } = deps;
  const options = deps.options === false ? undefined : { ...DEFAULT_DEAD_LETTER, ...deps.options };
  const ensured = new Set<string>();

  const deadLetter = async (message: ConsumedMessage, attempts: number, error: unknown): Promise<void> => {
    const dlq = deadLetterTopic(message.topic);
    if (!ensured.has(dlq)) {
      await bus.ensureTopics({ [dlq]: { partitions: 1 } });
      ensured.add(dlq);
    }
    await bus.publish(dlq, [
      {
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          [DLQ_HEADERS.errorCode]: errorCode(error),
          [DLQ_HEADERS.errorMessage]: errorMessage(error),
          [DLQ_HEADERS.group]: group,
          [DLQ_HEADERS.attempts]: String(attempts),
          [DLQ_HEADERS.topic]: message.topic,
          [DLQ_HEADERS.partition]: String(message.partition),
          [DLQ_HEADERS.offset]: String(message.offset),
          [DLQ_HEADERS.deadLetteredAt]: String(clock.now()),
        },
      },
    ]);
    metrics.count('dead_letters', 'Messages sent to a dead-letter topic after the handler kept failing', { topic: message.topic, group });
    deps.logger?.warn({ topic: message.topic, partition: message.partition, offset: message.offset, group, attempts, code: errorCode(error) }, 'message dead-lettered');
  };

  /** Tries one message until it succeeds or is dead-lettered; false when stopped before either. */
  const settle = async (message: ConsumedMessage, opts: Required<DeadLetterOptions>, signal: AbortSignal, firstError?: unknown): Promise<boolean> => {
    let attempt = firstError === undefined ? 1 : 2;
    let last = firstError;
    for (;;) {
      const exhausted = last !== undefined && (attempt > opts.attempts || (isMiaRunError(last) && !last.retriable));
      if (exhausted) {
        await deadLetter(message, attempt - 1, last);
        return true;
      }
      if (attempt > 1) {
        if (signal.aborted) return false;
        try {
          await clock.sleep(backoffMs(attempt, opts), signal);
        } catch {
          return false;
        }
        metrics.count('handler_retries', 'Handler calls retried after a failure', { topic: message.topic, group });
      }
      try {
        await handler({ topic: message.topic, partition: message.partition, messages: [message] }, { signal, attempt });
        return true;
      } catch (error) {
        if (signal.aborted) return false;
        last = error;
        attempt += 1;
      }
    }
  };

  return async (batch, signal) => {
    const first = batch.messages[0];
    if (first === undefined) return { next: null };
    const last = batch.messages[batch.messages.length - 1]!;
    let failure: unknown;
    try {
      await handler(batch, { signal, attempt: 1 });
      return { next: last.offset + 1 };
    } catch (error) {
      failure = error;
    }
    metrics.count('handler_failures', 'Handler calls that threw', { topic: batch.topic, group });
    if (options === undefined || signal.aborted) return { next: null, error: failure };
    let next: number | null = null;
    for (const message of batch.messages) {
      try {
        const done = await settle(message, options, signal, batch.messages.length === 1 ? failure : undefined);
        if (!done) return { next };
      } catch (error) {
        // The dead-letter publish failed: keep what finished, the adapter retries from this message.
        return { next, error };
      }
      next = message.offset + 1;
    }
    return { next };
  };
}
