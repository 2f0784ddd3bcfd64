/**
 * Debezium envelopes (fast-data.md §2): `{before, after, source, op, ts_ms}`, Kafka-Connect-wrapped or not.
 * `c`/`r` insert from `after`, `u` update, `d` delete (the `before` image kept), `t` truncate skipped,
 * tombstones (value null) skipped. Position: `source.ts_ms` or `source.lsn` when configured.
 */
import type { FormatParser } from './types.js';
import { image, invalid, isRecord, keyObject, padPosition, valueOf } from './wire.js';

const OPS = { c: 'I', r: 'I', u: 'U', d: 'D' } as const;

export const parseDebezium: FormatParser = (message, options) => {
  const value = valueOf(message);
  if (value === null) return { kind: 'skip', reason: 'tombstone' };
  if (!isRecord(value)) throw invalid(message, 'a Debezium value must be an object');
  const op = value.op;
  if (op === 't') return { kind: 'skip', reason: 'truncate' };
  if (typeof op !== 'string' || !(op in OPS)) throw invalid(message, `unknown Debezium op ${JSON.stringify(op)}`);
  const operation = OPS[op as keyof typeof OPS];
  const before = image(message, value.before, 'before');
  const after = image(message, value.after, 'after');
  if (operation !== 'D' && after === null) throw invalid(message, `op "${op}" without an "after" image`);
  const source = isRecord(value.source) ? value.source : {};
  const sourceTs = typeof source.ts_ms === 'number' ? source.ts_ms : typeof source.ts_ms === 'string' ? Number(source.ts_ms) : null;
  let position: number | string | null = null;
  let counterType: 'ts_ms' | 'lsn' | null = null;
  if (options.position === 'source.ts_ms' && sourceTs !== null && Number.isFinite(sourceTs)) {
    position = sourceTs;
    counterType = 'ts_ms';
  } else if (options.position === 'source.lsn') {
    position = padPosition(source.lsn);
    counterType = position === null ? null : 'lsn';
  }
  return { kind: 'change', operation, key: keyObject(message), rawKey: message.key, before, after, position, counterType, timestamp: sourceTs };
};
