/** kafkajs messages as the port's `ConsumedMessage` (keys and headers as UTF-8 text). */
import type { KafkaMessage } from 'kafkajs';
import { createConsumedMessage } from '../../bus/message.js';
import type { ConsumedMessage } from '../../ports/event-bus.js';

function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return headerText(value[value.length - 1]);
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** A kafkajs message as the port's `ConsumedMessage`. */
export function toConsumedMessage(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) headers[name] = text;
  }
  return createConsumedMessage({
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key === null ? null : m.key.toString('utf8'),
    value: m.value,
    headers,
    timestamp: Number(m.timestamp),
  });
}
