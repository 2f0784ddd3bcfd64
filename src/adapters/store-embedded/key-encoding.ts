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

/**
 * Appends encoded values to a growable buffer (index keys are built on every read and write, so this avoids
 * per-byte arrays and the garbage they make).
 */
export class KeyWriter {
  #buf = Buffer.allocUnsafe(64);
  #len = 0;

  constructor(prefix?: Uint8Array) {
    if (prefix !== undefined) this.bytes(prefix);
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  byte(b: number): this {
    this.#ensure(1);
    this.#buf[this.#len++] = b;
    return this;
  }

  bytes(bytes: Uint8Array): this {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /** Bytes with 0x00 and 0x01 escaped, then a 0x00 terminator: variable-length values keep their order. */
  escaped(bytes: Uint8Array): this {
    this.#ensure(bytes.length * 2 + 1);
    const buf = this.#buf;
    let len = this.#len;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0x00 || b === 0x01) {
        buf[len++] = 0x01;
        buf[len++] = b + 1;
      } else buf[len++] = b;
    }
    buf[len++] = 0x00;
    this.#len = len;
    return this;
  }

  /** IEEE-754 double, big-endian, sign flipped (negatives fully inverted): sorts numerically. */
  number(n: number): this {
    this.#ensure(8);
    const at = this.#len;
    this.#buf.writeDoubleBE(n === 0 ? 0 : n, at); // -0 and 0 are equal in MongoDB
    if (n < 0) for (let i = at; i < at + 8; i++) this.#buf[i] = ~this.#buf[i]! & 0xff;
    else this.#buf[at]! |= 0x80;
    this.#len += 8;
    return this;
  }

  value(v: unknown): this {
    writeValue(this, v);
    return this;
  }

  /** A copy of the bytes written so far. */
  finish(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#len));
  }
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

function writeValue(w: KeyWriter, value: unknown): void {
  const tag = typeTag(value);
  w.byte(tag);
  switch (tag) {
    case TAG.null:
      return;
    case TAG.number:
      w.number(Number(value));
      return;
    case TAG.string:
      w.escaped(Buffer.from(value as string, 'utf8'));
      return;
    case TAG.boolean:
      w.byte(value ? 1 : 0);
      return;
    case TAG.date:
      w.number((value as Date).getTime());
      return;
    case TAG.objectId:
      w.bytes((value as ObjectId).id);
      return;
    case TAG.binary:
      w.escaped(value as Uint8Array);
      return;
    default:
      w.escaped(Buffer.from(canonical(value), 'utf8'));
  }
}

/** The encoding of one value (tag + payload). */
export function encodeValue(value: unknown): Buffer {
  return new KeyWriter().value(value).finish();
}

/** Encodes a tuple of values (a compound index key) into one comparable Buffer. */
export function encodeKey(values: readonly unknown[], prefix?: Uint8Array): Buffer {
  const w = new KeyWriter(prefix);
  for (const v of values) w.value(v);
  return w.finish();
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
