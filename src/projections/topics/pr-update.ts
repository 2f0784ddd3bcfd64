/**
 * The pr-update format (fast-data.md §4): one message per applied projection change, key = the projection
 * primary key. v2.0.0 (the default) carries a `messageSchema` header and the ingestion context; v1.0.0 is
 * Mia's older shape with `operationType`, `documentId` and `__internal__kafkaInfo`. Consumed messages (from
 * a Mia Real-Time Updater or Projection Storer, or sv-update v1/v2 of another view for SV chaining) are read
 * by `decodeChangeEvent`: version from the `messageSchema` header, else from the shape.
 */
import type { Document } from '../../ports/document-store.js';
import type { ConsumedMessage, OutgoingMessage } from '../../ports/event-bus.js';
import { MiaRunError } from '../../errors.js';
import type { ProjectionChange } from '../apply.js';

/** The ingestion message a change came from, as `__internal__kafkaInfo` / `context.ingestion` describe it. */
export interface IngestionInfo {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly timestamp: number;
}

/** What a pr-update needs besides the change. */
export interface PrUpdateContext {
  /** The system of record (`source`). */
  readonly source: string;
  /** The projection collection (`storageNamespace`). */
  readonly collection: string;
  readonly primaryKey: readonly string[];
  readonly message: IngestionInfo;
  /** When the batch was polled (epoch ms). */
  readonly polledAt: number;
  /** When the projection write happened (epoch ms). */
  readonly writtenAt: number;
  /** v1 only: the stored document's `_id`. */
  readonly documentId?: unknown;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The original message key: parsed JSON when it is JSON, else the text (as `__internal__kafkaInfo.key`). */
export function originalKey(key: string | null): unknown {
  if (key === null) return null;
  try {
    return JSON.parse(key) as unknown;
  } catch {
    return key;
  }
}

/** `__internal__kafkaInfo` of an ingestion message. */
export function kafkaInfo(message: IngestionInfo): Record<string, unknown> {
  return { topic: message.topic, partition: message.partition, offset: String(message.offset), key: originalKey(message.key), timestamp: iso(message.timestamp) };
}

/** The message key: the primary-key fields of the record, in key order, as JSON text. */
export function recordKey(primaryKey: readonly string[], record: Readonly<Record<string, unknown>> | null): string {
  return JSON.stringify(Object.fromEntries(primaryKey.map((k) => [k, record?.[k] ?? null])));
}

function strip(doc: Document | null): Document | null {
  if (doc === null) return null;
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}

/** pr-update v2.0.0 (default). */
export function encodePrUpdateV2(change: ProjectionChange, ctx: PrUpdateContext): OutgoingMessage {
  const m = ctx.message;
  return {
    key: recordKey(ctx.primaryKey, change.after ?? change.before),
    headers: {
      messageSchema: JSON.stringify({ type: 'pr-update', version: 'v2.0.0' }),
      context: JSON.stringify({ ingestion: { topic: m.topic, partitionID: m.partition, offset: String(m.offset), timestamp: iso(m.timestamp), pollTimestamp: iso(ctx.polledAt) } }),
    },
    value: {
      operation: { type: change.operation, timestamp: iso(ctx.writtenAt) },
      source: ctx.source,
      storageNamespace: ctx.collection,
      primaryKeys: [...ctx.primaryKey],
      before: strip(change.before),
      after: change.operation === 'DELETE' ? null : strip(change.after),
    },
  };
}

/** pr-update v1.0.0 (`publish.version: v1`): `after` absent on DELETE. */
export function encodePrUpdateV1(change: ProjectionChange, ctx: PrUpdateContext): OutgoingMessage {
  const value: Record<string, unknown> = {
    operationType: change.operation,
    operationTimestamp: iso(ctx.writtenAt),
    documentId: ctx.documentId === undefined || ctx.documentId === null ? null : String(ctx.documentId),
    projectionName: change.projection,
    source: ctx.source,
    primaryKeys: [...ctx.primaryKey],
    before: strip(change.before),
  };
  if (change.operation !== 'DELETE') value.after = strip(change.after);
  value.__internal__kafkaInfo = kafkaInfo(ctx.message);
  return { key: recordKey(ctx.primaryKey, change.after ?? change.before), value };
}

/** A consumed pr-update or sv-update, whatever its version. `undefined` images were not in the message. */
export interface DecodedChangeEvent {
  readonly type: 'pr-update' | 'sv-update';
  readonly version: 'v1' | 'v2';
  readonly operation: ProjectionChange['operation'];
  /** `projectionName` / `singleViewName` (v1) when present. */
  readonly name?: string;
  readonly key: Record<string, unknown> | null;
  readonly before: Document | null | undefined;
  readonly after: Document | null | undefined;
}

const invalid = (message: ConsumedMessage, reason: string): MiaRunError =>
  new MiaRunError('MR_FD_INVALID_CHANGE_EVENT', `${message.topic}[${message.partition}]@${message.offset}: ${reason}`, { retriable: false });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function operationOf(raw: unknown): ProjectionChange['operation'] | undefined {
  if (raw === 'INSERT' || raw === 'UPDATE' || raw === 'DELETE') return raw;
  if (raw === 'UPSERT') return 'UPDATE';
  return undefined;
}

function image(value: Record<string, unknown>, field: string): Document | null | undefined {
  if (!(field in value)) return undefined;
  const v = value[field];
  return isObject(v) ? v : null;
}

/** The `messageSchema` header, parsed (`{type, version}`), or undefined. */
export function messageSchema(message: ConsumedMessage): { type?: string; version?: string } | undefined {
  const raw = message.headers.messageSchema;
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    return isObject(parsed) ? { ...(typeof parsed.type === 'string' ? { type: parsed.type } : {}), ...(typeof parsed.version === 'string' ? { version: parsed.version } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a pr-update or sv-update (v1 or v2). Returns null for a tombstone; throws MR_FD_INVALID_CHANGE_EVENT
 * (not retriable) for anything else that is not one.
 */
export function decodeChangeEvent(message: ConsumedMessage): DecodedChangeEvent | null {
  if (message.value === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8')) as unknown;
  } catch {
    throw invalid(message, 'value is not JSON');
  }
  if (!isObject(value)) throw invalid(message, 'value is not an object');
  const schema = messageSchema(message);
  const version = schema?.version?.startsWith('v2') === true ? 'v2' : schema?.version?.startsWith('v1') === true ? 'v1' : isObject(value.operation) ? 'v2' : 'operationType' in value ? 'v1' : undefined;
  if (version === undefined) throw invalid(message, 'neither a v2 (`operation`) nor a v1 (`operationType`) change event');
  const type = schema?.type === 'sv-update' || (schema?.type === undefined && 'singleViewName' in value) ? 'sv-update' : 'pr-update';
  const operation = operationOf(version === 'v2' ? (value.operation as Record<string, unknown> | undefined)?.type : value.operationType);
  if (operation === undefined) throw invalid(message, 'unknown operation type');
  let key: Record<string, unknown> | null = null;
  if (message.key !== null) {
    const parsed = originalKey(message.key);
    if (isObject(parsed)) key = parsed;
  }
  const name = typeof value.projectionName === 'string' ? value.projectionName : typeof value.singleViewName === 'string' ? value.singleViewName : undefined;
  const before = image(value, 'before');
  // v1 leaves `after` out on DELETE; a DELETE never has a post-image.
  const after = operation === 'DELETE' ? null : image(value, 'after');
  return { type, version, operation, ...(name === undefined ? {} : { name }), key, before, after };
}
