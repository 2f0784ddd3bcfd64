/**
 * Wire helpers shared by the format parsers: JSON decoding, Kafka Connect `{schema, payload}` unwrapping and
 * decimal positions padded to 20 digits so string order is numeric order (fast-data.md §2, §3.3).
 */
import { MiaRunError } from '../../errors.js';
import type { ConsumedMessage } from '../../ports/event-bus.js';
import type { Image } from './types.js';

export function invalid(message: ConsumedMessage, reason: string): MiaRunError {
  return new MiaRunError('MR_FD_INVALID_MESSAGE', `${message.topic}[${message.partition}]@${message.offset}: ${reason}`, { retriable: false });
}

/** `{schema, payload}` → `payload`; anything else unchanged. */
export function unwrap(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'schema' in value && 'payload' in value) return (value as { payload: unknown }).payload;
  return value;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value parsed as JSON and unwrapped (null for a tombstone); throws MR_FD_INVALID_MESSAGE. */
export function valueOf(message: ConsumedMessage): unknown {
  if (message.value === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.value.toString('utf8'));
  } catch {
    throw invalid(message, 'the value is not JSON');
  }
  return unwrap(parsed);
}

/** The key as an object of PK columns when it is one (JSON text), else null. */
export function keyObject(message: ConsumedMessage): Image | null {
  const key = message.key;
  if (key === null || key === '' || key[0] !== '{') return null;
  try {
    const parsed = unwrap(JSON.parse(key));
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** An image (object or null); anything else is invalid. */
export function image(message: ConsumedMessage, value: unknown, name: string): Image | null {
  if (value === null || value === undefined) return null;
  if (!isRecord(value)) throw invalid(message, `"${name}" is not an object`);
  return value;
}

/** A decimal position padded to 20 digits; null when absent or not a non-negative integer. */
export function padPosition(value: unknown): string | null {
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !/^\d{1,20}$/.test(text)) return null;
  return text.padStart(20, '0');
}
