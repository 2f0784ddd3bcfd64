/**
 * Document bytes and key layout of the embedded store. Documents are BSON (ObjectId, Date, nested GeoJSON and
 * numbers round-trip exactly; `undefined` becomes null as with the MongoDB driver). One lmdb environment per
 * database holds every collection; keys are prefixed:
 *   0x00 <name>                          metadata (catalog)
 *   0x01 <collection id> <encoded _id>   document (value: BSON)
 *   0x02 <index id> <encoded values> [<encoded _id> unless unique]   index entry (value: encoded _id)
 */
import { deserialize, serialize } from 'bson';
import { MiaRunError } from '../../errors.js';
import type { Document } from '../../ports/document-store.js';
import { encodeKey, encodeValue, KeyWriter, u32 } from './key-encoding.js';

const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export function encodeDocument(doc: Document): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = serialize(doc, { ignoreUndefined: false });
  } catch (cause) {
    throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', `Document cannot be stored: ${(cause as Error).message}`, { cause });
  }
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    throw new MiaRunError('MR_STORE_INVALID_DOCUMENT', `Document is ${bytes.length} bytes; the limit is ${MAX_DOCUMENT_BYTES}`);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function decodeDocument(bytes: Uint8Array): Document {
  return deserialize(bytes, { promoteValues: true, promoteBuffers: false });
}

/** Bytes taken by the value of a top-level element of `type` at `at`, or -1 for an unknown type. */
function valueSize(bytes: Uint8Array, view: DataView, type: number, at: number): number {
  switch (type) {
    case 0x06: case 0x0a: case 0x7f: case 0xff: return 0; // undefined, null, maxKey, minKey
    case 0x08: return 1; // boolean
    case 0x10: return 4; // int32
    case 0x01: case 0x09: case 0x11: case 0x12: return 8; // double, date, timestamp, int64
    case 0x07: return 12; // ObjectId
    case 0x13: return 16; // decimal128
    case 0x02: case 0x0d: case 0x0e: return 4 + view.getInt32(at, true); // string, code, symbol
    case 0x03: case 0x04: case 0x0f: return view.getInt32(at, true); // document, array, code with scope
    case 0x05: return 5 + view.getInt32(at, true); // binary
    case 0x0c: return 16 + view.getInt32(at, true); // DBPointer
    case 0x0b: { // regular expression: two C strings
      const first = bytes.indexOf(0, at);
      return bytes.indexOf(0, first + 1) + 1 - at;
    }
    default: return -1;
  }
}

/**
 * Only the top-level fields `names` of a stored document, decoded as `decodeDocument` would (their elements
 * are copied into a smaller BSON document); the rest is skipped without being parsed. Undefined when the
 * bytes hold an element type this scanner does not know (the caller decodes the whole document then).
 */
export function decodeFields(bytes: Buffer, names: ReadonlySet<string>): Document | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = view.getInt32(0, true) - 1;
  const parts: Uint8Array[] = [];
  let size = 5;
  let at = 4;
  while (at < end) {
    const type = bytes[at]!;
    const nameEnd = bytes.indexOf(0, at + 1);
    if (nameEnd < 0) return undefined;
    const length = valueSize(bytes, view, type, nameEnd + 1);
    if (length < 0) return undefined;
    const next = nameEnd + 1 + length;
    if (names.has(bytes.toString('utf8', at + 1, nameEnd))) {
      parts.push(bytes.subarray(at, next));
      size += next - at;
    }
    at = next;
  }
  const out = Buffer.allocUnsafe(size);
  out.writeInt32LE(size, 0);
  let offset = 4;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  out[offset] = 0;
  return decodeDocument(out);
}

/** A deep copy that keeps ObjectId, Date and binary types. */
export function cloneDocument<T extends Document>(doc: T): T {
  return decodeDocument(encodeDocument(doc)) as T;
}

export const META_PREFIX = Buffer.from([0x00]);
const DOC = 0x01;
const INDEX = 0x02;

const docPrefixes = new Map<number, Buffer>();

export function docPrefix(collectionId: number): Buffer {
  let prefix = docPrefixes.get(collectionId);
  if (prefix === undefined) docPrefixes.set(collectionId, (prefix = Buffer.concat([Buffer.from([DOC]), u32(collectionId)])));
  return prefix;
}

export function indexPrefix(indexId: number): Buffer {
  return Buffer.concat([Buffer.from([INDEX]), u32(indexId)]);
}

/** Encoded `_id` (the part of keys that identifies a document). */
export function encodeId(id: unknown): Buffer {
  return encodeValue(id);
}

export function docKey(collectionId: number, encodedId: Buffer): Buffer {
  return new KeyWriter(docPrefix(collectionId)).bytes(encodedId).finish();
}

export function metaKey(name: string): Buffer {
  return Buffer.concat([META_PREFIX, Buffer.from(name, 'utf8')]);
}

export { encodeKey };
