/**
 * Saga events from the bus (flow-manager.md §3): key = sagaId, value `{ messageLabel, messagePayload }`.
 * Messages of one key are applied in order; different sagas in a batch run in parallel. The de-duplication
 * id is the `mia-run-message-id` header, else the message's position (stable across redeliveries).
 * Unreadable messages and events for unknown sagas go to the dead-letter topic (non-retriable errors).
 */
import { MiaRunError, isMiaRunError } from '../errors.js';
import type { BatchHandler, ConsumedMessage } from '../ports/event-bus.js';
import type { Logger } from '../ports/logger.js';
import { parseMiaMessage } from './channels.js';
import type { SagaEngine } from './engine.js';

/** Header with an event's de-duplication id on the bus. */
export const MESSAGE_ID_HEADER = 'mia-run-message-id';

function invalid(message: ConsumedMessage, reason: string): MiaRunError {
  return new MiaRunError('MR_SAGA_INVALID_EVENT', `${message.topic}[${message.partition}]@${message.offset}: ${reason}`, { retriable: false });
}

async function handle(engine: SagaEngine, message: ConsumedMessage, sharedTopic: boolean, logger: Logger): Promise<void> {
  if (message.key === null || message.key === '') throw invalid(message, 'the message has no key (the sagaId)');
  let value: unknown;
  try {
    value = message.json();
  } catch {
    throw invalid(message, 'the value is not JSON');
  }
  const parsed = parseMiaMessage(value);
  if (typeof parsed === 'string') throw invalid(message, parsed);
  const messageId = message.headers[MESSAGE_ID_HEADER] ?? `${message.topic}:${message.partition}:${message.offset}`;
  try {
    const result = await engine.send({ sagaId: message.key, label: parsed.messageLabel, payload: parsed.messagePayload, messageId });
    if (result.status === 'rejected') logger.warn({ sagaId: message.key, event: parsed.messageLabel, reason: result.reason }, 'saga event rejected (recorded in the saga history)');
  } catch (err) {
    if (isMiaRunError(err) && err.code === 'MR_SAGA_NOT_FOUND') {
      // A topic shared by several sagas carries ids of the others: not ours, not an error.
      if (sharedTopic) return;
      throw new MiaRunError('MR_SAGA_NOT_FOUND', err.message, { retriable: false, cause: err });
    }
    throw err;
  }
}

/** The batch handler of one saga's events subscription. */
export function sagaEventHandler(engine: SagaEngine, options: { sharedTopic: boolean; logger: Logger }): BatchHandler {
  return async (batch) => {
    const byKey = new Map<string, ConsumedMessage[]>();
    for (const message of batch.messages) {
      const key = message.key ?? '';
      const list = byKey.get(key) ?? [];
      list.push(message);
      byKey.set(key, list);
    }
    await Promise.all(
      [...byKey.values()].map(async (messages) => {
        for (const message of messages) await handle(engine, message, options.sharedTopic, options.logger);
      }),
    );
  };
}
