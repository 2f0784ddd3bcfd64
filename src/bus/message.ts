/**
 * Message encoding shared by the EventBus adapters: what `publish` accepts becomes bytes the same way on
 * every adapter, and consumed messages get the same `json()` / `text()` helpers.
 */
import { MiaRunError } from '../errors.js';
import type { ConsumedMessage, OutgoingMessage } from '../ports/event-bus.js';

/** The bytes of a message value: Buffer as is, string as UTF-8, other values as JSON, `null` as a tombstone. */
export function encodeValue(value: OutgoingMessage['value'], topic: string): Buffer | null {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `A message value for topic "${topic}" cannot be serialised as JSON`, { cause, details: { topic } });
  }
  if (text === undefined) {
    throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `A message value for topic "${topic}" is not JSON-serialisable (${typeof value})`, { details: { topic } });
  }
  return Buffer.from(text, 'utf8');
}

/** Checks a message's key and headers; throws `MR_BUS_INVALID_MESSAGE`. */
export function validateMessage(message: OutgoingMessage, topic: string): void {
  if (message === null || typeof message !== 'object') {
    throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `A message for topic "${topic}" must be an object { key, value, headers? }`, { details: { topic } });
  }
  if (message.key !== undefined && message.key !== null && typeof message.key !== 'string') {
    throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `A message key for topic "${topic}" must be a string or null`, { details: { topic } });
  }
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (typeof value !== 'string') {
      throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `Header "${name}" for topic "${topic}" must be a string`, { details: { topic, header: name } });
    }
  }
  if (message.timestamp !== undefined && !Number.isFinite(message.timestamp)) {
    throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `A message timestamp for topic "${topic}" must be epoch milliseconds`, { details: { topic } });
  }
}

/** The data of a consumed message, without its decoding methods. */
export type ConsumedFields = Omit<ConsumedMessage, 'json' | 'text'>;

/** A consumed message; methods live on the prototype so a batch of thousands costs no closures. */
class Consumed implements ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;

  constructor(fields: ConsumedFields) {
    this.topic = fields.topic;
    this.partition = fields.partition;
    this.offset = fields.offset;
    this.key = fields.key;
    this.value = fields.value;
    this.headers = fields.headers;
    this.timestamp = fields.timestamp;
  }

  text(): string | null {
    return this.value === null ? null : this.value.toString('utf8');
  }

  json<T = unknown>(): T {
    if (this.value === null) return null as T;
    try {
      return JSON.parse(this.value.toString('utf8')) as T;
    } catch (cause) {
      throw new MiaRunError('MR_BUS_INVALID_MESSAGE', `Message ${this.topic}/${this.partition}@${this.offset} is not JSON`, {
        cause,
        retriable: false,
        details: { topic: this.topic, partition: this.partition, offset: this.offset },
      });
    }
  }
}

/** Wraps raw fields as a `ConsumedMessage` with `json()` and `text()`. */
export function createConsumedMessage(fields: ConsumedFields): ConsumedMessage {
  return new Consumed(fields);
}
