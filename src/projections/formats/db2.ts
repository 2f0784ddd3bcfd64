/**
 * IBM DB2 InfoSphere "basic" messages (fast-data.md §2): key = object of PK columns (or empty), value = the
 * whole row, or null for a delete. A `"__deleted": "true"` field (Debezium `ExtractNewRecordState` with
 * `delete.handling.mode=rewrite`) is read as a delete. No before image, so no PK change.
 */
import type { FormatParser } from './types.js';
import { invalid, isRecord, keyObject, valueOf } from './wire.js';

export const parseDb2: FormatParser = (message) => {
  const value = valueOf(message);
  const key = keyObject(message);
  if (value === null) return { kind: 'change', operation: 'D', key, rawKey: message.key, before: null, after: null, position: null, counterType: null, timestamp: null };
  if (!isRecord(value)) throw invalid(message, 'a db2 value must be an object (the row) or null');
  if (value.__deleted === 'true' || value.__deleted === true) {
    return { kind: 'change', operation: 'D', key, rawKey: message.key, before: value, after: null, position: null, counterType: null, timestamp: null };
  }
  // I or U is decided by the store (an upsert); U merges, which also suits rows sent whole.
  return { kind: 'change', operation: 'U', key, rawKey: message.key, before: null, after: value, position: null, counterType: null, timestamp: null };
};
