/**
 * The ingestion handler of one system of record (fast-data.md §2-§6): per batch, messages are grouped by key
 * (one key applied in order, different keys concurrently), parsed by the SoR's format, applied to their
 * projection with the stale guard, then every single view the changes affect is recomputed once (bursts on
 * one identifier coalesce) before the batch resolves, so the bus commits offsets only after the effects.
 * Poison messages throw non-retriable MR_FD_* errors: the shared dead-letter module replays the batch one
 * message at a time and parks the poison on `<topic>.DLQ` with the reason; other keys keep flowing.
 */
import type { FastDataPosition } from '../config/sections/fast-data.js';
import type { Collection } from '../ports/document-store.js';
import { MiaRunError } from '../errors.js';
import type { BatchHandler, ConsumedMessage, EventBus, OutgoingMessage } from '../ports/event-bus.js';
import type { Logger } from '../ports/logger.js';
import type { MetricEmitter } from '../ports/telemetry.js';
import { applyChange, type ApplyDeps, type Position, type ProjectionChange } from './apply.js';
import type { FormatParser, ParsedChange } from './formats/index.js';
import type { CompiledProjection } from './mapping.js';
import type { CompiledView } from './single-view/model.js';
import { affectedIdentifiers } from './single-view/strategy.js';
import type { SvOutcome, WriterDeps } from './single-view/writer.js';
import { createWriteBuffer, type WriteBuffer } from './write-buffer.js';

export interface IngestDeps {
  readonly sor: string;
  readonly parser: FormatParser;
  readonly position: FastDataPosition;
  readonly byTopic: ReadonlyMap<string, CompiledProjection>;
  /** Apply dependencies of one batch (its `collection` is a write buffer flushed before strategies run). */
  readonly applyDeps: (projection: CompiledProjection, buffer: (collection: Collection) => WriteBuffer) => ApplyDeps;
  /** Views each projection contributes to. */
  readonly viewsOf: (projection: string) => readonly CompiledView[];
  readonly svDeps: (view: CompiledView) => WriterDeps & { readonly collection: Collection };
  readonly recompute: (view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: WriterDeps) => Promise<SvOutcome>;
  /** Where sv-update events go (after the view writes are durable). */
  readonly bus?: Pick<EventBus, 'publish'>;
  readonly metrics: MetricEmitter;
  readonly logger: Logger;
  /**
   * Trigger journal (fast-data.md §4, minimal form): identifiers reached from pre-images are recorded here
   * before the batch's projection writes and removed after their views are written, so a crash or failure
   * in between cannot lose the old parent of a moved foreign key. Entries older than `intentTimeoutMs`
   * (default 60 s) left by a failed or crashed run are recomputed by the next batch.
   */
  readonly journal?: Collection;
  readonly intentTimeoutMs?: number;
  readonly now?: () => number;
  /** Recomputations run at once per batch; default 16. */
  readonly svConcurrency?: number;
}

/** The ordering position of a parsed change under the SoR's `position` setting (§2, §10). */
export function positionOf(change: ParsedChange, message: ConsumedMessage, configured: FastDataPosition, onFallback: () => void): Position {
  if (configured === 'offset') return { counter: message.offset, counterType: 'offset' };
  if (change.position !== null && change.counterType !== null && (configured !== 'kafkaTimestamp' || change.counterType === 'custom')) {
    return { counter: change.position, counterType: change.counterType };
  }
  if (configured !== 'kafkaTimestamp') onFallback();
  return { counter: message.timestamp, counterType: 'timestamp' };
}

async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

/** Builds the batch handler of one system of record. */
export function createIngestHandler(deps: IngestDeps): BatchHandler {
  const { metrics, logger } = deps;
  const count = (projection: string, operation: string, result: string): void =>
    metrics.count('messages', 'CDC messages by projection, operation and result', { projection, operation, result });

  const handleOne = async (message: ConsumedMessage, collect: (changes: readonly ProjectionChange[]) => void, buffer: (collection: Collection) => WriteBuffer): Promise<void> => {
    const projection = deps.byTopic.get(message.topic);
    if (projection === undefined) throw new MiaRunError('MR_FD_INVALID_MESSAGE', `topic "${message.topic}" feeds no projection of "${deps.sor}"`, { retriable: false });
    let parsed;
    try {
      parsed = await deps.parser(message, { primaryKeys: projection.sourceKeys, position: deps.position });
    } catch (error) {
      count(projection.name, 'unknown', 'dead_letter');
      throw error;
    }
    if (parsed.kind === 'skip') {
      if (parsed.reason === 'truncate') {
        logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, code: 'MR_FD_TRUNCATE_SKIPPED' }, 'truncate skipped (never applied to the projection)');
        metrics.count('truncates_skipped', 'Truncate messages skipped (MR_FD_TRUNCATE_SKIPPED)', { projection: projection.name });
      }
      count(projection.name, parsed.reason, 'skipped');
      return;
    }
    const position = positionOf(parsed, message, deps.position, () => metrics.count('position_fallback', 'Messages ordered by Kafka timestamp because the configured position was missing', { projection: projection.name }));
    try {
      const outcome = await applyChange(projection, parsed, position, message, deps.applyDeps(projection, buffer));
      count(projection.name, parsed.operation, outcome.result);
      if (outcome.result === 'applied') collect(outcome.changes);
    } catch (error) {
      if (error instanceof MiaRunError && !error.retriable) count(projection.name, parsed.operation, 'dead_letter');
      throw error;
    }
  };

  const now = deps.now ?? Date.now;
  const viewByName = new Map<string, CompiledView>();
  for (const p of deps.byTopic.values()) for (const v of deps.viewsOf(p.name)) viewByName.set(v.name, v);

  return async (batch) => {
    const byKey = new Map<string, ConsumedMessage[]>();
    for (const m of batch.messages) {
      const k = m.key ?? `\u0000${m.offset}`;
      const list = byKey.get(k);
      if (list === undefined) byKey.set(k, [m]);
      else list.push(m);
    }
    // One buffer per collection name (handles are cheap and may differ between calls).
    const buffers = new Map<string, WriteBuffer>();
    const buffer = (collection: Collection): WriteBuffer => {
      let b = buffers.get(collection.name);
      if (b === undefined) buffers.set(collection.name, (b = createWriteBuffer(collection)));
      return b;
    };
    const applied: ProjectionChange[] = [];
    const settled = await Promise.allSettled(
      [...byKey.values()].map(async (messages) => {
        for (const m of messages) await handleOne(m, (changes) => applied.push(...changes), buffer);
      }),
    );
    const affected = new Map<CompiledView, Map<string, Record<string, unknown>>>();
    const strategise = async (change: ProjectionChange): Promise<void> => {
      for (const view of deps.viewsOf(change.projection)) {
        const ids = await affectedIdentifiers(view, change, deps.svDeps(view));
        const into = affected.get(view) ?? new Map<string, Record<string, unknown>>();
        for (const [k, id] of ids) into.set(k, id);
        affected.set(view, into);
      }
    };
    // Pre-images walk the store as it was before the batch (its writes are still buffered)...
    for (const change of applied) if (change.before !== null) await strategise({ ...change, after: null });
    const intents = [...affected].flatMap(([view, ids]) => [...ids].map(([k, identifier]) => ({ _id: `${view.name}\u0000${k}`, view: view.name, identifier, at: now() })));
    if (deps.journal !== undefined && intents.length > 0) await deps.journal.bulkWrite(intents.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })));
    for (const b of buffers.values()) await b.flush();
    // ...post-images walk it after the writes.
    for (const change of applied) if (change.after !== null) await strategise({ ...change, before: null });
    const done = intents.map((i) => i._id);
    if (deps.journal !== undefined) {
      const overdue = await deps.journal.find({ at: { $lte: now() - (deps.intentTimeoutMs ?? 60_000) } }, { limit: 1000 }).toArray();
      for (const entry of overdue) {
        const view = viewByName.get(String(entry.view));
        if (view !== undefined && !done.includes(String(entry._id))) {
          const into = affected.get(view) ?? new Map<string, Record<string, unknown>>();
          into.set(String(entry._id), entry.identifier as Record<string, unknown>);
          affected.set(view, into);
          done.push(String(entry._id));
        }
      }
    }
    // Views of the messages that did apply are recomputed even when another key failed: the replay of a
    // redelivered message sees its own post-image as pre-image and could no longer reach an old parent.
    const work = [...affected].flatMap(([view, ids]) => [...ids.values()].map((id) => ({ view, id })));
    // View writes of the batch go through write buffers too; sv-update events follow the flush.
    const svBuffers = new Map<CompiledView, WriteBuffer>();
    const events = new Map<string, OutgoingMessage[]>();
    await pool(work, deps.svConcurrency ?? 16, async ({ view, id }) => {
      const base = deps.svDeps(view);
      let b = svBuffers.get(view);
      if (b === undefined) svBuffers.set(view, (b = createWriteBuffer(base.collection)));
      const outcome = await deps.recompute(view, id, { ...base, collection: b });
      metrics.count('single_views', 'Single view recomputations by view and result', { view: view.name, result: outcome.result });
      if (outcome.event !== undefined) events.set(outcome.event.topic, [...(events.get(outcome.event.topic) ?? []), outcome.event.message]);
    });
    for (const b of svBuffers.values()) await b.flush();
    if (deps.bus !== undefined) for (const [topic, messages] of events) await deps.bus.publish(topic, messages);
    if (deps.journal !== undefined && done.length > 0) await deps.journal.deleteMany({ _id: { $in: done } });
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  };
}
