/**
 * The bytes of one log record (lmdb `binary` encoding; lmdb hands back a fresh Buffer per read, so the
 * decoded value may be a view of it). Layout, little-endian:
 *   u8 format (1) | f64 timestamp | u32 size counted for retention
 *   i32 key length (-1: null) | key UTF-8
 *   i32 headers length (-1: none) | headers as JSON UTF-8
 *   i32 value length (-1: tombstone) | value bytes (to the end)
 */
import type { LogRecord } from './log-store.js';

const FORMAT = 1;
const FIXED = 1 + 8 + 4 + 4 + 4 + 4;

export function encodeRecord(record: LogRecord): Buffer {
  const key = record.k === null ? null : Buffer.from(record.k, 'utf8');
  const headers = record.h === null ? null : Buffer.from(JSON.stringify(record.h), 'utf8');
  const size = FIXED + (key?.length ?? 0) + (headers?.length ?? 0) + (record.v?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(FORMAT, 0);
  at = out.writeDoubleLE(record.t, at);
  at = out.writeUInt32LE(record.s, at);
  for (const part of [key, headers, record.v]) {
    at = out.writeInt32LE(part === null ? -1 : part.length, at);
    if (part !== null) at += part.copy(out, at);
  }
  return out;
}

export function decodeRecord(bytes: Buffer): LogRecord {
  if (bytes.readUInt8(0) !== FORMAT) throw new Error(`Unknown bus record format ${bytes.readUInt8(0)}`);
  const t = bytes.readDoubleLE(1);
  const s = bytes.readUInt32LE(9);
  let at = 13;
  const part = (): Buffer | null => {
    const length = bytes.readInt32LE(at);
    at += 4;
    if (length < 0) return null;
    const slice = bytes.subarray(at, at + length);
    at += length;
    return slice;
  };
  const key = part();
  const headers = part();
  const v = part();
  return { t, s, k: key === null ? null : key.toString('utf8'), h: headers === null ? null : (JSON.parse(headers.toString('utf8')) as Record<string, string>), v };
}

/** The timestamp of an encoded record, without decoding the rest. */
export function recordTimestamp(bytes: Buffer): number {
  return bytes.readDoubleLE(1);
}

/** The retention size of an encoded record, without decoding the rest. */
export function recordRetentionSize(bytes: Buffer): number {
  return bytes.readUInt32LE(9);
}
