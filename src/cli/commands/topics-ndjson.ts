/**
 * The line formats of `mia-run topics produce` and `consume` (NDJSON, one message per line):
 * - plain: each line is the message value (JSON); the key comes from `--key-field` (or the topic's declared
 *   `key`), read from the value;
 * - envelope: each line is `{ "key": ..., "value": ..., "headers"?: {...}, "timestamp"?: ... }`, so keys,
 *   `null` values (tombstones) and headers can be written; `consume --envelope` prints the same form (plus
 *   `topic`, `partition` and `offset`, which produce ignores), so its output can be produced again.
 * Values follow the bus encoding: objects, arrays, numbers and booleans travel as JSON; a string travels as
 * its text; `null` is a tombstone.
 */
import { MiaRunError } from '../../errors.js';
import type { ConsumedMessage, OutgoingMessage } from '../../ports/event-bus.js';

const ENVELOPE_KEYS = new Set(['key', 'value', 'headers', 'timestamp', 'partition', 'topic', 'offset']);

export interface LineOptions {
  readonly envelope: boolean;
  /** Dotted path of the value field that gives the key (`--key-field`, else the topic's `key`). */
  readonly keyField?: string;
  /** Whether a missing key field is an error (true when `--key-field` was given). */
  readonly keyRequired: boolean;
}

function bad(line: number, message: string): MiaRunError {
  return new MiaRunError('MR_BUS_INVALID_MESSAGE', `stdin line ${line}: ${message}`, { details: { line } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keyFrom(value: unknown, field: string): string | null | undefined {
  let current: unknown = value;
  for (const part of field.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  if (current === null) return null;
  if (typeof current === 'string') return current;
  if (typeof current === 'number' || typeof current === 'boolean') return String(current);
  return undefined;
}

function keyOf(value: unknown, line: number, options: LineOptions): string | null {
  if (options.keyField === undefined) return null;
  const key = keyFrom(value, options.keyField);
  if (key === undefined) {
    if (options.keyRequired) throw bad(line, `the value has no string or number field "${options.keyField}" for the key`);
    return null;
  }
  return key;
}

function fromEnvelope(parsed: unknown, line: number, options: LineOptions): OutgoingMessage {
  if (!isRecord(parsed)) throw bad(line, 'an envelope must be an object { "key", "value", "headers"?, "timestamp"? }');
  for (const name of Object.keys(parsed)) {
    if (!ENVELOPE_KEYS.has(name)) throw bad(line, `unknown envelope field "${name}" (expected key, value, headers, timestamp; topic, partition and offset are ignored)`);
  }
  if (!Object.hasOwn(parsed, 'value')) throw bad(line, 'the envelope has no "value" (use null for a tombstone)');
  const { key, value, headers, timestamp } = parsed;
  if (key !== undefined && key !== null && typeof key !== 'string') throw bad(line, '"key" must be a string or null');
  let stamp: number | undefined;
  if (timestamp !== undefined && timestamp !== null) {
    stamp = typeof timestamp === 'number' ? timestamp : typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
    if (!Number.isFinite(stamp)) throw bad(line, '"timestamp" must be epoch milliseconds or an ISO date');
  }
  if (headers !== undefined && headers !== null) {
    if (!isRecord(headers)) throw bad(line, '"headers" must be an object of strings');
    for (const [name, v] of Object.entries(headers)) if (typeof v !== 'string') throw bad(line, `header "${name}" must be a string`);
  }
  return {
    key: key === undefined ? keyOf(value, line, { ...options, keyRequired: false }) : key,
    value: value as OutgoingMessage['value'],
    ...(isRecord(headers) ? { headers: headers as Record<string, string> } : {}),
    ...(stamp === undefined ? {} : { timestamp: stamp }),
  };
}

/**
 * Turns NDJSON text into messages; blank lines are skipped. Throws `MR_BUS_INVALID_MESSAGE` naming the
 * first bad line (1-based), before anything is published.
 */
export function parseMessages(text: string, options: LineOptions): OutgoingMessage[] {
  const out: OutgoingMessage[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    const source = raw.trim();
    if (source === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch (err) {
      throw bad(line, `not valid JSON (${(err as Error).message})`);
    }
    out.push(options.envelope ? fromEnvelope(parsed, line, options) : { key: keyOf(parsed, line, options), value: parsed as OutgoingMessage['value'] });
  });
  return out;
}

/** The value as JSON text on one line: JSON kept as written when it is one line, other text as a JSON string. */
function valueJson(message: ConsumedMessage): string {
  const text = message.text();
  if (text === null) return 'null';
  try {
    JSON.parse(text);
    return /[\r\n]/.test(text) ? JSON.stringify(JSON.parse(text)) : text.trim();
  } catch {
    return JSON.stringify(text);
  }
}

/** One output line of `consume` (plain: the value; envelope: everything needed to produce it again). */
export function formatMessage(message: ConsumedMessage, envelope: boolean): string {
  if (!envelope) return valueJson(message);
  const head = JSON.stringify({ topic: message.topic, partition: message.partition, offset: message.offset, key: message.key });
  const tail = JSON.stringify({ headers: message.headers, timestamp: message.timestamp });
  return `${head.slice(0, -1)},"value":${valueJson(message)},${tail.slice(1)}`;
}
