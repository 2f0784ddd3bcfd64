/**
 * The ingestion side of the change events (fast-data.md §4, §6): the ingestion handler tells one
 * `StageEvents` per batch about every applied (non-stale) projection change with the message it came from;
 * after the batch's projection writes are flushed, `publish()` produces the pr-update of every change of a
 * projection with `publish` (v2 by default, v1 on request), waits for the bus acknowledgement, and notes
 * which change reached each identifier of a view with `triggers.publish` (the sv-trigger `change` field).
 * The batch resolves, and its offsets are committed, only after `publish()` resolved.
 */
import type { ProjectionConfig } from '../../config/sections/fast-data.js';
import type { Collection } from '../../ports/document-store.js';
import type { ConsumedMessage, EventBus, OutgoingMessage } from '../../ports/event-bus.js';
import type { MetricEmitter } from '../../ports/telemetry.js';
import type { ProjectionChange } from '../apply.js';
import type { CompiledView } from '../single-view/model.js';
import { affectedIdentifiers } from '../single-view/strategy.js';
import type { WriterDeps } from '../single-view/writer.js';
import { encodePrUpdateV1, encodePrUpdateV2, type IngestionInfo } from './pr-update.js';
import type { ViewRunner } from './view-runner.js';

/** The hook the ingestion handler calls, one per batch. */
export interface StageEvents {
  /** Changes applied from `message` (its projection writes may still be buffered). */
  applied(changes: readonly ProjectionChange[], message: ConsumedMessage): void;
  /** After the projection writes are durable: produces the pr-updates (acknowledged) and notes trigger causes. */
  publish(): Promise<void>;
}

export interface StageProjection {
  readonly sor: string;
  readonly collection: Collection;
  readonly primaryKey: readonly string[];
  readonly config: ProjectionConfig;
}

export interface StageEventsDeps {
  readonly projections: ReadonlyMap<string, StageProjection>;
  readonly viewsOf: (projection: string) => readonly CompiledView[];
  readonly svDeps: (view: CompiledView) => WriterDeps;
  readonly runner: Pick<ViewRunner, 'noteCause'>;
  readonly bus: Pick<EventBus, 'publish'>;
  readonly now: () => number;
  readonly metrics: MetricEmitter;
}

const info = (m: ConsumedMessage): IngestionInfo => ({ topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, timestamp: m.timestamp });

const timeOf = (value: unknown, fallback: number): number => (value instanceof Date ? value.getTime() : typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? Date.parse(value) : fallback);

/** Creates the per-batch hook factory (a projection needs it only for `publish` or trigger-published views). */
export function createStageEvents(deps: StageEventsDeps): () => StageEvents {
  const triggerViews = (projection: string): CompiledView[] => deps.viewsOf(projection).filter((v) => v.config.triggers?.publish !== undefined);
  const wanted = (projection: string): boolean => deps.projections.get(projection)?.config.publish !== undefined || triggerViews(projection).length > 0;

  return () => {
    const polledAt = deps.now();
    const items: { change: ProjectionChange; message: ConsumedMessage }[] = [];
    return {
      applied(changes, message) {
        for (const change of changes) if (wanted(change.projection)) items.push({ change, message });
      },
      async publish() {
        const byTopic = new Map<string, OutgoingMessage[]>();
        for (const { change, message } of items) {
          const p = deps.projections.get(change.projection);
          const publish = p?.config.publish;
          if (p !== undefined && publish !== undefined) {
            const record = change.after ?? change.before;
            const ctx = { source: p.sor, collection: p.config.collection ?? change.projection, primaryKey: p.primaryKey, message: info(message), polledAt, writtenAt: timeOf(change.after?.updatedAt, deps.now()) };
            let encoded: OutgoingMessage;
            if (publish.version === 'v1') {
              const key = Object.fromEntries(p.primaryKey.map((k) => [k, record?.[k]]));
              const documentId = change.before?._id ?? (await p.collection.findOne(key))?._id;
              encoded = encodePrUpdateV1(change, { ...ctx, documentId });
            } else {
              encoded = encodePrUpdateV2(change, ctx);
            }
            byTopic.set(publish.topic, [...(byTopic.get(publish.topic) ?? []), encoded]);
            deps.metrics.count('pr_updates', 'pr-update messages by projection, version and direction', { projection: change.projection, version: publish.version ?? 'v2', direction: 'out' });
          }
          for (const view of triggerViews(change.projection)) {
            const record = change.after ?? change.before;
            if (record === null || p === undefined) continue;
            for (const k of (await affectedIdentifiers(view, change, deps.svDeps(view))).keys()) {
              deps.runner.noteCause(view, k, { projection: change.projection, primaryKey: p.primaryKey, record, message: info(message) });
            }
          }
        }
        for (const [topic, messages] of byTopic) await deps.bus.publish(topic, messages);
      },
    };
  };
}
