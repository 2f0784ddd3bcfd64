/**
 * Runs the single-view stage for changes that do not come from this process's ingestion (fast-data.md §4):
 * consumed pr-updates, consumed sv-triggers and SV chaining (a view used as a projection by another view).
 * Three pieces, shared with the ingestion handler:
 * - `recompute(emitTriggers)` wraps the single-view writer: a view with `triggers.publish` is not computed
 *   here but answered with an sv-trigger message; a view published as sv-update v1 or read by another view
 *   has its before/after documents recorded around the write;
 * - `bus.publish` is where every view event goes after the view writes are durable: recorded changes are
 *   re-encoded as sv-update v1 where asked, published (acknowledged), then fed to the views that read that
 *   view (in-process chaining; a view without `publish` uses an internal topic that never reaches the bus);
 * - `runChanges` / `recomputeAll`: strategies, then recomputation and event publication, before the caller's
 *   batch resolves (offsets committed after the effects, §6).
 */
import type { Collection, Document } from '../../ports/document-store.js';
import type { EventBus, OutgoingMessage, PublishedRecord } from '../../ports/event-bus.js';
import type { MetricEmitter } from '../../ports/telemetry.js';
import type { ProjectionChange } from '../apply.js';
import { findBase } from '../single-view/aggregate.js';
import type { CompiledView } from '../single-view/model.js';
import { affectedIdentifiers, identifierKey } from '../single-view/strategy.js';
import type { SvOutcome, WriterDeps } from '../single-view/writer.js';
import { encodeSvTrigger, type TriggerCause } from './sv-trigger.js';
import { encodeSvUpdateV1 } from './sv-update.js';

/** Topic prefix of in-process chaining events of views without `publish` (never sent to the bus). */
export const CHAIN_TOPIC_PREFIX = '\u0000mia-run-chain:';

export type RecomputeFn = (view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: WriterDeps) => Promise<SvOutcome>;

export interface ViewRunnerDeps {
  readonly views: readonly CompiledView[];
  /** Views reading a projection (or a view, for chaining). */
  readonly viewsOf: (projection: string) => readonly CompiledView[];
  readonly svDeps: (view: CompiledView) => WriterDeps & { readonly collection: Collection };
  readonly recompute: RecomputeFn;
  readonly bus: Pick<EventBus, 'publish'>;
  readonly primaryKeyOf: (projection: string) => readonly string[];
  readonly origin: string;
  readonly now: () => number;
  readonly metrics: MetricEmitter;
  /** Recomputations at once; default 16. */
  readonly concurrency?: number;
}

/**
 * What the runner remembers about an event it produced (the view change behind it, for sv-update v1 and
 * chaining), as storable data: the ingestion handler keeps it with the event in the journal outbox and gives
 * it back when a later run produces the recorded event (fast-data.md §5).
 */
export interface EventRecords {
  describe(message: OutgoingMessage): unknown;
  restore(message: OutgoingMessage, saved: unknown): void;
}

/** True when `bus` is the runner's event path (it can describe and restore its events). */
export const hasEventRecords = (bus: object): bus is EventRecords => typeof (bus as Partial<EventRecords>).describe === 'function' && typeof (bus as Partial<EventRecords>).restore === 'function';

export interface ViewRunner {
  recompute(emitTriggers: boolean): RecomputeFn;
  readonly bus: Pick<EventBus, 'publish'> & EventRecords;
  /** Remembers which projection change reached a trigger-published view's identifier (for `change`). */
  noteCause(view: CompiledView, key: string, cause: TriggerCause): void;
  runChanges(changes: readonly ProjectionChange[]): Promise<void>;
  recomputeAll(work: readonly { readonly view: CompiledView; readonly identifier: Record<string, unknown> }[], emitTriggers: boolean): Promise<void>;
}

interface Recorded {
  readonly identifier: Readonly<Record<string, unknown>>;
  readonly operation: 'INSERT' | 'UPDATE' | 'DELETE';
  readonly before: Document | null;
  readonly after: Document | null;
  readonly kafkaInfo?: unknown;
}

/** Bound on remembered trigger causes (a cause whose trigger never came is dropped with the rest). */
const MAX_REMEMBERED = 50_000;

function strip(doc: Document | null): Document | null {
  if (doc === null) return null;
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}

const live = (doc: Document | null): boolean => doc !== null && doc.__STATE__ !== 'DELETED';

async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

/** Creates the runner; no I/O until used. */
export function createViewRunner(deps: ViewRunnerDeps): ViewRunner {
  const byName = new Map(deps.views.map((v) => [v.name, v]));
  const byTopic = new Map<string, CompiledView>();
  for (const v of deps.views) if (v.config.publish !== undefined) byTopic.set(v.config.publish.topic, v);
  const chained = new Set(deps.views.filter((v) => deps.viewsOf(v.name).length > 0).map((v) => v.name));
  const causes = new Map<string, TriggerCause>();
  // Keyed by the event message itself: concurrent batches may recompute the same identifier.
  const recorded = new WeakMap<OutgoingMessage, Recorded>();
  const remember = <T>(map: Map<string, T>, key: string, value: T): void => {
    if (map.size >= MAX_REMEMBERED) map.clear();
    map.set(key, value);
  };

  const recompute = (emitTriggers: boolean): RecomputeFn => async (view, identifier, writer) => {
    const key = identifierKey(view, identifier);
    const trigger = view.config.triggers?.publish;
    if (emitTriggers && trigger !== undefined) {
      const cause = causes.get(`${view.name}\u0000${key}`);
      causes.delete(`${view.name}\u0000${key}`);
      deps.metrics.count('sv_triggers', 'sv-trigger messages published instead of computing a view here', { view: view.name });
      return { result: 'noop', event: { topic: trigger.topic, message: encodeSvTrigger(view.name, key, cause) } };
    }
    const v1 = view.config.publish?.version === 'v1';
    if (!v1 && !chained.has(view.name)) return deps.recompute(view, identifier, writer);
    const before = await writer.collection.findOne(identifier);
    const outcome = await deps.recompute(view, identifier, writer);
    if (outcome.result === 'noop') return outcome;
    const after = await writer.collection.findOne(identifier);
    if (isSame(before, after)) return outcome;
    const operation = !live(after) ? 'DELETE' : live(before) ? 'UPDATE' : 'INSERT';
    const kafkaInfo = v1 ? (await findBase(view, identifier, writer))?.__internal__kafkaInfo : undefined;
    const record: Recorded = { identifier, operation, before, after, kafkaInfo };
    if (outcome.event !== undefined) {
      recorded.set(outcome.event.message, record);
      return outcome;
    }
    if (!chained.has(view.name)) return outcome;
    const message: OutgoingMessage = { key, value: null };
    recorded.set(message, record);
    return { ...outcome, event: { topic: `${CHAIN_TOPIC_PREFIX}${view.name}`, message } };
  };

  const publish = async (topic: string, messages: readonly OutgoingMessage[]): Promise<readonly PublishedRecord[]> => {
    const internal = topic.startsWith(CHAIN_TOPIC_PREFIX);
    const view = internal ? byName.get(topic.slice(CHAIN_TOPIC_PREFIX.length)) : byTopic.get(topic);
    if (view === undefined) return internal ? [] : deps.bus.publish(topic, messages);
    const out: OutgoingMessage[] = [];
    const changes: ProjectionChange[] = [];
    for (const m of messages) {
      const r = recorded.get(m);
      recorded.delete(m);
      if (!internal) out.push(r !== undefined && view.config.publish?.version === 'v1' ? await asV1(view, m.key ?? '', r) : m);
      if (r !== undefined && chained.has(view.name)) changes.push({ projection: view.name, operation: r.operation, before: strip(r.before), after: r.operation === 'DELETE' ? null : strip(r.after) });
    }
    const records = out.length > 0 ? await deps.bus.publish(topic, out) : [];
    if (changes.length > 0) await runChanges(changes);
    return records;
  };

  const asV1 = async (view: CompiledView, key: string, r: Recorded): Promise<OutgoingMessage> => {
    // An inserted document got its _id from the store at the flush that preceded this publish.
    const documentId = r.before?._id ?? r.after?._id ?? (await deps.svDeps(view).collection.findOne(r.identifier))?._id;
    return encodeSvUpdateV1(view.name, key, { ...r, documentId }, { source: deps.origin, includeBeforeAfter: view.config.publish?.includeBeforeAfter === true, at: deps.now() });
  };

  const recomputeAll: ViewRunner['recomputeAll'] = async (work, emitTriggers) => {
    const events = new Map<string, OutgoingMessage[]>();
    const run = recompute(emitTriggers);
    await pool(work, deps.concurrency ?? 16, async ({ view, identifier }) => {
      const outcome = await run(view, identifier, deps.svDeps(view));
      deps.metrics.count('sv', 'Single view recomputations by view and result', { view: view.name, result: outcome.result });
      if (outcome.event !== undefined) events.set(outcome.event.topic, [...(events.get(outcome.event.topic) ?? []), outcome.event.message]);
    });
    for (const [topic, messages] of events) await publish(topic, messages);
  };

  const runChanges = async (changes: readonly ProjectionChange[]): Promise<void> => {
    const affected = new Map<string, { view: CompiledView; identifier: Record<string, unknown> }>();
    for (const change of changes) {
      for (const view of deps.viewsOf(change.projection)) {
        for (const [k, identifier] of await affectedIdentifiers(view, change, deps.svDeps(view))) {
          affected.set(`${view.name}\u0000${k}`, { view, identifier });
          const record = change.after ?? change.before;
          if (view.config.triggers?.publish !== undefined && record !== null) noteCause(view, k, { projection: change.projection, primaryKey: deps.primaryKeyOf(change.projection), record });
        }
      }
    }
    await recomputeAll([...affected.values()], true);
  };

  const noteCause = (view: CompiledView, key: string, cause: TriggerCause): void => remember(causes, `${view.name}\u0000${key}`, cause);

  const describe = (message: OutgoingMessage): unknown => recorded.get(message);
  const restore = (message: OutgoingMessage, saved: unknown): void => {
    if (saved !== undefined && saved !== null) recorded.set(message, saved as Recorded);
  };

  return { recompute, bus: { publish, describe, restore }, noteCause, runChanges, recomputeAll };
}

function isSame(a: Document | null, b: Document | null): boolean {
  if (a === null || b === null) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}
