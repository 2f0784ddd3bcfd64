/**
 * The port's `ObjectId` is the ES-module build of `bson`; the driver (a CommonJS package) decodes with the
 * CommonJS build, whose classes are distinct, so `instanceof ObjectId` would fail on what the driver returns.
 * Documents read from the server are rebuilt here with the port's class. Encoding needs no help: the driver's
 * serializer accepts any bson instance of the same major version.
 */
import { ObjectId } from 'bson';
import type { Document } from '../../ports/document-store.js';

interface ForeignObjectId {
  readonly _bsontype: 'ObjectId';
  readonly id: Uint8Array;
}

function isForeignObjectId(value: object): value is ForeignObjectId {
  return (value as { _bsontype?: unknown })._bsontype === 'ObjectId' && !(value instanceof ObjectId);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A value with every driver-side `ObjectId` replaced by the port's; other values are returned as they are. */
export function toPortValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = toPortValue(value[i]);
    return value;
  }
  if (isForeignObjectId(value)) return new ObjectId(value.id);
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) value[key] = toPortValue(value[key]);
  }
  return value;
}

/** Rewrites a decoded document in place (it is fresh from the driver, nobody else holds it) and returns it. */
export function toPortDocument<T extends Document | null>(doc: T): T {
  if (doc === null) return doc;
  return toPortValue(doc) as T;
}
