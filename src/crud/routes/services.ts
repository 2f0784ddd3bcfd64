/**
 * What a collection's routes share: the compiled model, the store collection, the clock, the identity
 * header name, limits, the change publisher and metrics. Built once per collection by the factory.
 */
import { randomUUID } from 'node:crypto';
import { ObjectId } from 'bson';
import type { Clock } from '../../ports/clock.js';
import type { Collection, Document } from '../../ports/document-store.js';
import { castWrite, needsWireConversion, toWire } from '../cast.js';
import type { Writer } from '../changes.js';
import type { CollectionModel } from '../model/collection-model.js';
import type { RequestContext } from '../request-context.js';

export interface CrudLimits {
  /** `_l` when absent; default 25. */
  readonly defaultLimit: number;
  /** Largest `_l`; default 200 (over it: 400). */
  readonly maxLimit: number;
  /** Largest number of documents one export streams; default unbounded. */
  readonly maxExport?: number;
  /** Largest import file in bytes; default 16 MiB (over it: 413). */
  readonly maxImportBytes?: number;
}

export const DEFAULT_LIMITS: CrudLimits = { defaultLimit: 25, maxLimit: 200 };

export interface CollectionServices {
  readonly model: CollectionModel;
  /** The store collection (or the view's source collection). */
  readonly collection: () => Collection;
  readonly clock: Clock;
  /** Lower-case header carrying the user id (`server.userIdHeader`). */
  readonly userIdHeader: string;
  readonly limits: CrudLimits;
  /** Runs writes (through the outbox for collections with `events`). */
  readonly writer: Writer;
}

/** Store -> wire for one document: unknown fields dropped, GeoPoints as `[lon, lat]`. */
export function createSerializer(model: CollectionModel): (doc: Document, extra?: ReadonlySet<string>) => Record<string, unknown> {
  const convert = new Map<string, boolean>();
  for (const [name, field] of model.fields) convert.set(name, needsWireConversion(field.node));
  return (doc, extra) => {
    // Fast path: a document holding only schema fields that need no conversion is its own wire form.
    let clean = true;
    for (const key in doc) {
      if (convert.get(key) !== false && extra?.has(key) !== true) {
        clean = false;
        break;
      }
    }
    if (clean) return doc;
    const out: Record<string, unknown> = {};
    for (const key in doc) {
      const c = convert.get(key);
      if (c === undefined) {
        if (extra?.has(key) === true) out[key] = doc[key];
        continue;
      }
      const field = model.fields.get(key);
      out[key] = c && field !== undefined ? toWire(field.node, doc[key]) : doc[key];
    }
    return out;
  };
}

/** A new document from a validated body: fields cast, metadata set (crud-api.md §1 metadata table). */
export function buildDocument(model: CollectionModel, body: Readonly<Record<string, unknown>>, ctx: RequestContext, now: Date, path = 'body'): Document {
  const doc: Document = { _id: model.idKind === 'string' ? randomUUID() : new ObjectId() };
  for (const [key, value] of Object.entries(body)) {
    if (key === '__STATE__' || key === '_id') continue;
    const field = model.fields.get(key);
    if (field === undefined || field.metadata) continue;
    doc[key] = castWrite(field.node, value, `${path}/${key}`);
  }
  doc.__STATE__ = typeof body.__STATE__ === 'string' ? body.__STATE__ : model.defaultState;
  doc.creatorId = ctx.userId;
  doc.createdAt = now;
  doc.updaterId = ctx.userId;
  doc.updatedAt = now;
  return doc;
}

/** Only the `acl_read_columns` of a document (update answers); `_id` always. */
export function pickReadable(model: CollectionModel, out: Record<string, unknown>, ctx: RequestContext): Record<string, unknown> {
  if (ctx.readColumns === undefined) return out;
  const columns = ctx.readColumns;
  return Object.fromEntries(Object.entries(out).filter(([k]) => k === '_id' || (columns.has(k) && model.fields.has(k))));
}
