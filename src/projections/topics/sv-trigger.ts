/**
 * The sv-trigger format (fast-data.md §4): "recompute single view X for identifier I", key = the SV
 * identifier, header `messageSchema {"type":"sv-trigger","version":"v1.0.0"}` on emission (not required on
 * input). Only `type: "aggregation"` is implemented; `patch` (Mia's SV Patch) is refused with
 * MR_FD_UNSUPPORTED_TRIGGER so the consumer dead-letters it.
 */
import type { Document } from '../../ports/document-store.js';
import type { ConsumedMessage, OutgoingMessage } from '../../ports/event-bus.js';
import { MiaRunError } from '../../errors.js';
import { kafkaInfo, originalKey, type IngestionInfo } from './pr-update.js';

/** The projection change that led to a trigger, when known. */
export interface TriggerCause {
  readonly projection: string;
  readonly primaryKey: readonly string[];
  /** The stored projection record (after the change; the pre-image for a delete). */
  readonly record: Document;
  readonly message?: IngestionInfo;
}

export interface TriggerRetry {
  readonly attempts: number;
  readonly lastError?: { readonly type: string; readonly message: string };
}

function strip(doc: Document): Document {
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}

/** One sv-trigger `aggregation` message; `identifierKey` is the identifier as key text (fields in key order). */
export function encodeSvTrigger(view: string, identifierKey: string, cause?: TriggerCause, retry?: TriggerRetry): OutgoingMessage {
  const value: Record<string, unknown> = { type: 'aggregation', singleViewName: view, singleViewIdentifier: JSON.parse(identifierKey) as unknown };
  if (cause !== undefined) {
    value.change = {
      projectionName: cause.projection,
      projectionIdentifier: Object.fromEntries(cause.primaryKey.map((k) => [k, cause.record[k] ?? null])),
      data: strip(cause.record),
    };
  }
  if (retry !== undefined) value.retry = retry;
  if (cause?.message !== undefined) value.__internal__kafkaInfo = kafkaInfo(cause.message);
  return { key: identifierKey, headers: { messageSchema: JSON.stringify({ type: 'sv-trigger', version: 'v1.0.0' }) }, value };
}

/** A consumed trigger. */
export interface DecodedTrigger {
  readonly view: string | undefined;
  readonly identifier: Record<string, unknown>;
  readonly attempts: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads one sv-trigger; returns null for a tombstone. Throws MR_FD_UNSUPPORTED_TRIGGER for `patch` and
 * MR_FD_INVALID_CHANGE_EVENT for anything that is not an sv-trigger (both not retriable).
 */
export function decodeSvTrigger(message: ConsumedMessage): DecodedTrigger | null {
  if (message.value === null) return null;
  const where = `${message.topic}[${message.partition}]@${message.offset}`;
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8')) as unknown;
  } catch {
    throw new MiaRunError('MR_FD_INVALID_CHANGE_EVENT', `${where}: sv-trigger value is not JSON`, { retriable: false });
  }
  if (!isObject(value)) throw new MiaRunError('MR_FD_INVALID_CHANGE_EVENT', `${where}: sv-trigger value is not an object`, { retriable: false });
  if (value.type === 'patch') {
    throw new MiaRunError('MR_FD_UNSUPPORTED_TRIGGER', `${where}: sv-trigger type "patch" (SV Patch) is not implemented`, { retriable: false, hint: 'recompute the view with aggregation triggers instead' });
  }
  if (value.type !== 'aggregation') throw new MiaRunError('MR_FD_INVALID_CHANGE_EVENT', `${where}: sv-trigger type ${JSON.stringify(value.type)} is unknown`, { retriable: false });
  const fromKey = originalKey(message.key);
  const identifier = isObject(value.singleViewIdentifier) ? value.singleViewIdentifier : isObject(fromKey) ? fromKey : undefined;
  if (identifier === undefined) throw new MiaRunError('MR_FD_INVALID_CHANGE_EVENT', `${where}: sv-trigger has no singleViewIdentifier`, { retriable: false });
  const retry = isObject(value.retry) && typeof value.retry.attempts === 'number' ? value.retry.attempts : 0;
  return { view: typeof value.singleViewName === 'string' ? value.singleViewName : undefined, identifier, attempts: retry };
}
