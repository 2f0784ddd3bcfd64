/**
 * Custom formats (fast-data.md §2): a user `messageAdapter(message, primaryKeys, logger)` returning
 * `{operation, key, before, after, position?}` or null (skip). A throw dead-letters the message with
 * MR_FD_ADAPTER_FAILED (retried first when the error says `retriable: true`).
 */
import { MiaRunError } from '../../errors.js';
import type { ConsumedMessage } from '../../ports/event-bus.js';
import type { Logger } from '../../ports/logger.js';
import type { FormatParser, ParseResult } from './types.js';
import { isRecord } from './wire.js';

/** Mia's adapter signature. */
export type MessageAdapter = (
  message: { key: Buffer | null; value: Buffer | null; headers: Readonly<Record<string, string>>; topic: string; partition: number; offset: string; timestamp: string },
  primaryKeys: readonly string[],
  logger: Logger,
) => unknown;

function fail(message: ConsumedMessage, reason: string, cause?: unknown, retriable = false): MiaRunError {
  return new MiaRunError('MR_FD_ADAPTER_FAILED', `${message.topic}[${message.partition}]@${message.offset}: ${reason}`, { cause, retriable });
}

/** A parser calling the user's adapter. */
export function customParser(adapter: MessageAdapter, logger: Logger): FormatParser {
  return async (message, options): Promise<ParseResult> => {
    let out: unknown;
    try {
      out = await adapter(
        { key: message.key === null ? null : Buffer.from(message.key, 'utf8'), value: message.value, headers: message.headers, topic: message.topic, partition: message.partition, offset: String(message.offset), timestamp: String(message.timestamp) },
        options.primaryKeys,
        logger,
      );
    } catch (error) {
      const retriable = isRecord(error) && error.retriable === true;
      throw fail(message, `the message adapter threw: ${error instanceof Error ? error.message : String(error)}`, error, retriable);
    }
    if (out === null || out === undefined) return { kind: 'skip', reason: 'adapter-null' };
    if (!isRecord(out) || (out.operation !== 'I' && out.operation !== 'U' && out.operation !== 'D')) throw fail(message, 'the message adapter returned no operation I, U or D');
    const img = (v: unknown): Record<string, unknown> | null => (isRecord(v) ? v : null);
    const position = typeof out.position === 'number' || typeof out.position === 'string' ? out.position : null;
    return {
      kind: 'change',
      operation: out.operation,
      key: img(out.key),
      rawKey: message.key,
      before: img(out.before),
      after: img(out.after),
      position,
      counterType: position === null ? null : 'custom',
      timestamp: null,
    };
  };
}
