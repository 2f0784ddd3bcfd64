/**
 * Oracle GoldenGate messages (fast-data.md §2): string key `pk1_pk2`, value `{op_type: I|U|D, before, after,
 * pos}`. `pos` is the position (padded to 20 digits); a message without it falls back to the Kafka timestamp.
 */
import type { FormatParser } from './types.js';
import { image, invalid, isRecord, keyObject, padPosition, valueOf } from './wire.js';

export const parseGoldenGate: FormatParser = (message) => {
  const value = valueOf(message);
  if (value === null) return { kind: 'skip', reason: 'tombstone' };
  if (!isRecord(value)) throw invalid(message, 'a GoldenGate value must be an object');
  const op = value.op_type;
  if (op !== 'I' && op !== 'U' && op !== 'D') throw invalid(message, `unknown GoldenGate op_type ${JSON.stringify(op)}`);
  const before = image(message, value.before, 'before');
  const after = image(message, value.after, 'after');
  if (op !== 'D' && after === null) throw invalid(message, `op_type "${op}" without an "after" image`);
  const pos = padPosition(value.pos);
  return { kind: 'change', operation: op, key: keyObject(message), rawKey: message.key, before, after, position: pos, counterType: pos === null ? null : 'pos', timestamp: null };
};
