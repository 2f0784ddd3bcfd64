/**
 * Full refresh of a single view (fast-data.md §7 `refresh <view>`): every base record, in primary-key order,
 * is recomputed from current projection state, then every stored view document whose base is gone is
 * recomputed too (and so deleted). Writes go through a write buffer flushed every `chunk` identifiers, and
 * sv-update events follow each flush; after each flush the last base key is checkpointed (`checkpoint`). Live traffic may keep flowing: recomputing from current state is
 * idempotent, the last writer has the current state.
 */
import type { Collection } from '../../ports/document-store.js';
import type { EventBus, OutgoingMessage } from '../../ports/event-bus.js';
import type { MetricEmitter } from '../../ports/telemetry.js';
import type { CompiledView } from '../single-view/model.js';
import { identifierKey } from '../single-view/strategy.js';
import type { SvOutcome, WriterDeps } from '../single-view/writer.js';
import { createWriteBuffer, type WriteBuffer } from '../write-buffer.js';
import { prefetchAggregation } from '../single-view/prefetch.js';

export interface RefreshDeps {
  readonly view: CompiledView;
  /** Writer dependencies of the view; `collection` is its SV collection. */
  readonly writer: WriterDeps & { readonly collection: Collection };
  readonly recompute: (view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: WriterDeps) => Promise<SvOutcome>;
  readonly bus?: Pick<EventBus, 'publish'>;
  readonly metrics?: MetricEmitter;
  /** Identifiers per flush; default 500. */
  readonly chunk?: number;
  /**
   * Where the refresh records the key of the last base record done after each flush: a refresh interrupted
   * by a stop or a crash starts again after it (the orphan pass is always run whole).
   */
  readonly checkpoint?: RefreshCheckpoint;
}

export interface RefreshCheckpoint {
  load(): Promise<Readonly<Record<string, unknown>> | undefined>;
  save(lastBaseKey: Readonly<Record<string, unknown>>): Promise<void>;
  clear(): Promise<void>;
}

/** Base records after `last` in primary-key order (`$or` of the lexicographic prefixes for a composite key). */
function after(primaryKey: readonly string[], last: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  if (last === undefined) return {};
  const branches = primaryKey.map((field, i) => ({ ...Object.fromEntries(primaryKey.slice(0, i).map((f) => [f, last[f]])), [field]: { $gt: last[field] } }));
  return branches.length === 1 ? branches[0]! : { $or: branches };
}

export interface RefreshResult {
  readonly view: string;
  readonly recomputed: number;
  readonly results: Readonly<Record<string, number>>;
}

/** Recomputes the documents of `identifiers` (one flush); returns the count per result. */
export async function recomputeAll(deps: RefreshDeps, identifiers: readonly Record<string, unknown>[]): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  const buffer: WriteBuffer = createWriteBuffer(deps.writer.collection);
  await buffer.prefetch(Object.keys(deps.view.key), identifiers.map((id) => Object.fromEntries(Object.keys(deps.view.key).map((k) => [k, id[k]]))));
  // Base and joined records of the whole chunk, one query per tree node (single-view/prefetch.ts).
  const prefetched = await prefetchAggregation(deps.view, identifiers, deps.writer);
  const events = new Map<string, OutgoingMessage[]>();
  for (const id of identifiers) {
    const outcome = await deps.recompute(deps.view, id, { ...deps.writer, collection: buffer, prefetched });
    results[outcome.result] = (results[outcome.result] ?? 0) + 1;
    deps.metrics?.count('sv', 'Single view recomputations by view and result', { view: deps.view.name, result: outcome.result });
    if (outcome.event !== undefined) events.set(outcome.event.topic, [...(events.get(outcome.event.topic) ?? []), outcome.event.message]);
  }
  await buffer.flush();
  if (deps.bus !== undefined) for (const [topic, messages] of events) await deps.bus.publish(topic, messages);
  return results;
}

/** Recomputes every document of a view. */
export async function refreshView(deps: RefreshDeps): Promise<RefreshResult> {
  const { view, writer } = deps;
  const keyFields = Object.keys(view.key);
  const results: Record<string, number> = {};
  const seen = new Set<string>();
  let pending: Record<string, unknown>[] = [];
  let lastBase: Record<string, unknown> | undefined;
  const run = async (): Promise<void> => {
    if (pending.length === 0) return;
    const ids = pending;
    pending = [];
    for (const [result, n] of Object.entries(await recomputeAll(deps, ids))) results[result] = (results[result] ?? 0) + n;
    if (lastBase !== undefined) await deps.checkpoint?.save(lastBase);
  };
  const add = async (id: Record<string, unknown>): Promise<void> => {
    const k = identifierKey(view, id);
    if (seen.has(k)) return;
    seen.add(k);
    pending.push(id);
    if (pending.length >= (deps.chunk ?? 500)) await run();
  };

  const base = writer.projection(view.base);
  const sort = Object.fromEntries(base.primaryKey.map((k) => [k, 1 as const]));
  const resumeAfter = await deps.checkpoint?.load();
  for await (const record of base.collection.find(after(base.primaryKey, resumeAfter), { sort })) {
    lastBase = Object.fromEntries(base.primaryKey.map((k) => [k, record[k]]));
    const id: Record<string, unknown> = {};
    let complete = true;
    for (const [svField, baseField] of Object.entries(view.key)) {
      const v = record[baseField];
      if (v === undefined || v === null) complete = false;
      id[svField] = v;
    }
    if (complete) await add(id);
  }
  await run();
  // Documents whose base record no longer exists (in any state): recomputing deletes them. Checked against
  // the base collection, so documents refreshed before a checkpoint are not recomputed twice.
  const candidates: Record<string, unknown>[] = [];
  for await (const doc of writer.collection.find({}, { projection: Object.fromEntries(keyFields.map((k) => [k, 1])) })) {
    const id = Object.fromEntries(keyFields.map((k) => [k, doc[k]]));
    if (!seen.has(identifierKey(view, id))) candidates.push(id);
  }
  const orphans: Record<string, unknown>[] = [];
  for (let i = 0; i < candidates.length; i += 500) {
    const chunk = candidates.slice(i, i + 500);
    const filter = Object.fromEntries(Object.entries(view.key).map(([svField, baseField]) => [baseField, { $in: [...new Set(chunk.map((id) => id[svField]))] }]));
    const present = new Set<string>();
    for await (const record of base.collection.find(filter)) present.add(identifierKey(view, Object.fromEntries(Object.entries(view.key).map(([svField, baseField]) => [svField, record[baseField]]))));
    for (const id of chunk) if (!present.has(identifierKey(view, id))) orphans.push(id);
  }
  lastBase = undefined;
  for (const id of orphans) await add(id);
  await run();
  await deps.checkpoint?.clear();
  return { view: view.name, recomputed: seen.size, results };
}
