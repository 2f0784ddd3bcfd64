/**
 * sv-update v1.0.0 (fast-data.md §4, `publish.version: v1` on a view): `{operationType, operationTimestamp,
 * documentId, singleViewName, source, before?, after?, __internal__kafkaInfo}`, with the images only when
 * `includeBeforeAfter: true`. v2 (the default) is written by the single-view writer; this module turns a
 * recorded view change into the v1 shape instead.
 */
import type { Document } from '../../ports/document-store.js';
import type { OutgoingMessage } from '../../ports/event-bus.js';

/** One view document change, as recorded around a recomputation. */
export interface ViewChange {
  readonly operation: 'INSERT' | 'UPDATE' | 'DELETE';
  readonly before: Document | null;
  readonly after: Document | null;
  /** The stored document's `_id`. */
  readonly documentId: unknown;
  /** `__internal__kafkaInfo` of the base record (the latest ingestion message applied to it), when known. */
  readonly kafkaInfo?: unknown;
}

export interface SvUpdateV1Options {
  /** `source` (the view's origin, default the project name). */
  readonly source: string;
  readonly includeBeforeAfter: boolean;
  /** Epoch ms of the write. */
  readonly at: number;
}

function strip(doc: Document | null): Document | null {
  if (doc === null) return null;
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}

/** The v1 message of one change of view `view`; `key` is the SV identifier as key text. */
export function encodeSvUpdateV1(view: string, key: string, change: ViewChange, options: SvUpdateV1Options): OutgoingMessage {
  const value: Record<string, unknown> = {
    operationType: change.operation,
    operationTimestamp: new Date(options.at).toISOString(),
    documentId: change.documentId === undefined || change.documentId === null ? null : String(change.documentId),
    singleViewName: view,
    source: options.source,
  };
  if (options.includeBeforeAfter) {
    value.before = strip(change.before);
    if (change.operation !== 'DELETE') value.after = strip(change.after);
  }
  value.__internal__kafkaInfo = change.kafkaInfo ?? null;
  return { key, value };
}
