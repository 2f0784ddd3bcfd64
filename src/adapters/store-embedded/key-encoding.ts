/**
 * Order-preserving binary encoding of index values, so that lmdb's byte order equals MongoDB's comparison
 * order within a type and types sort in MongoDB's bracket order (null < numbers < strings < objects < arrays
 * < binary < ObjectId < booleans < dates < others). Equality and range lookups on indexed fields are then
 * plain lmdb range scans.
 */
import { ObjectId } from 'bson';

/** Type tags; their order is MongoDB's BSON comparison order. */
export const TAG = {
  null: 0x05,
  number: 0x10,
  string: 0x20,
  object: 0x30,
  array: 0x40,
  binary: 0x50,
  objectId: 0x60,
  boolean: 0x70,
  date: 0x80,
  other: 0x90,
  /** Upper bound sentinel: greater than every encoded value. */
  max: 0xff,
} as const;

/** Escapes 0x00 and 0x01 so that a 0x00 terminator ends a variable-length value and order is kept. */
function escapeBytes(bytes: Uint8Array, out: number[]): void {
  for (const b of bytes) {
    if (b === 0x00) out.push(0x01, 0x01);
    else if (b === 0x01) out.push(0x01, 0x02);
    else out.push(b);
  }
  out.push(0x00);
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** IEEE-754 double as 8 big-endian bytes with the sign flipped (negatives fully inverted): sorts numerically. */
function pushNumber(n: number, out: number[]): void {
  f64[0] = n === 0 ? 0 : n; // -0 and 0 are equal in MongoDB
  const bytes = [...f64Bytes].reverse();
  if (n < 0) for (let i = 0; i < 8; i++) bytes[i] = ~bytes[i]! & 0xff;
  else bytes[0]! |= 0x80;
  out.push(...bytes);
}

/** Tag of a value in MongoDB's comparison order. */
export function typeTag(value: unknown): number {
  if (value === null || value === undefined) return TAG.null;
  if (typeof value === 'number' || typeof value === 'bigint') return TAG.number;
  if (typeof value === 'string') return TAG.string;
  if (typeof value === 'boolean') return TAG.boolean;
  if (value instanceof Date) return TAG.date;
  if (value instanceof ObjectId) return TAG.objectId;
  if (Array.isArray(value)) return TAG.array;
  if (value instanceof Uint8Array) return TAG.binary;
  if (isPlainObject(value)) return TAG.object;
  return TAG.other;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Canonical text of a composite value (objects keep key order, as BSON equality does). */
function canonical(value: unknown): string {
  if (value instanceof ObjectId) return `{"$oid":"${value.toHexString()}"}`;
  if (value instanceof Date) return `{"$date":${value.getTime()}}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isPlainObject(value)) return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  if (value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value) ?? String(value);
}

const utf8 = new TextEncoder();

/** Appends the encoding of one value (tag + payload). */
export function pushValue(value: unknown, out: number[]): void {
  const tag = typeTag(value);
  out.push(tag);
  switch (tag) {
    case TAG.null:
      return;
    case TAG.number:
      return pushNumber(Number(value), out);
    case TAG.string:
      return escapeBytes(utf8.encode(value as string), out);
    case TAG.boolean:
      out.push(value ? 1 : 0);
      return;
    case TAG.date:
      return pushNumber((value as Date).getTime(), out);
    case TAG.objectId:
      out.push(...(value as ObjectId).id);
      return;
    case TAG.binary:
      return escapeBytes(value as Uint8Array, out);
    default:
      return escapeBytes(utf8.encode(canonical(value)), out);
  }
}

/** Encodes a tuple of values (a compound index key) into one comparable Buffer. */
export function encodeKey(values: readonly unknown[], prefix?: Uint8Array): Buffer {
  const out: number[] = prefix === undefined ? [] : [...prefix];
  for (const v of values) pushValue(v, out);
  return Buffer.from(out);
}

/** The smallest key strictly greater than every key starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]! += 1;
      return out.subarray(0, i + 1);
    }
  }
  return Buffer.concat([out, Buffer.from([0xff])]);
}

/** A 4-byte big-endian unsigned integer (collection and index ids in key prefixes). */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
