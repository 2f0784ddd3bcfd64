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
