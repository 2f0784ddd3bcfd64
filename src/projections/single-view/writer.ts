/**
 * Recomputes one single view document from current projection state and stores it (fast-data.md §5):
 * base gone ⇒ delete (hard, or `virtualDelete`); unchanged apart from `updatedAt` ⇒ no write and no event;
 * otherwise a keyed replace keeping `createdAt`, then an `sv-update` v2 event when `publish` is set (§4).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Collection, Document } from '../../ports/document-store.js';
import type { EventBus } from '../../ports/event-bus.js';
import { aggregate, findBase, type AggregateDeps } from './aggregate.js';
import type { CompiledView } from './model.js';
import { identifierKey } from './strategy.js';

export type SvResult = 'insert' | 'update' | 'delete' | 'noop';

export interface WriterDeps extends AggregateDeps {
  readonly collection: Collection;
  readonly bus?: EventBus;
  readonly now: () => Date;
  /** `source` of sv-update events (the project name). */
  readonly origin: string;
}

function comparable(doc: Document | null): Document | null {
  if (doc === null) return null;
  const { _id, createdAt, updatedAt, ...rest } = doc;
  void _id;
  void createdAt;
  void updatedAt;
  return rest;
}

function withoutId(doc: Document | null): Document | null {
  if (doc === null) return null;
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}

/** Recomputes and stores the view document of `identifier`. */
export async function recompute(view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: WriterDeps): Promise<SvResult> {
  const base = await findBase(view, identifier, deps);
  const stored = await deps.collection.findOne(identifier);
  const now = deps.now();
  if (base === null) {
    if (stored === null || stored.__STATE__ === 'DELETED') return 'noop';
    if (view.config.delete === 'virtualDelete') await deps.collection.updateOne(identifier, { $set: { __STATE__: 'DELETED', updatedAt: now } });
    else await deps.collection.deleteOne(identifier);
    await publish(view, identifier, 'DELETE', withoutId(stored), null, deps);
    return 'delete';
  }
  const doc = await aggregate(view, base, deps);
  if (isDeepStrictEqual(comparable(stored), comparable(doc))) return 'noop';
  const full = { ...doc, createdAt: stored?.createdAt ?? now, updatedAt: now };
  await deps.collection.replaceOne(identifier, full, { upsert: true });
  const live = stored !== null && stored.__STATE__ !== 'DELETED';
  await publish(view, identifier, live ? 'UPDATE' : 'INSERT', withoutId(stored), full, deps);
  return live ? 'update' : 'insert';
}

async function publish(view: CompiledView, identifier: Readonly<Record<string, unknown>>, type: 'INSERT' | 'UPDATE' | 'DELETE', before: Document | null, after: Document | null, deps: WriterDeps): Promise<void> {
  const topic = view.config.publish?.topic;
  if (topic === undefined || deps.bus === undefined) return;
  await deps.bus.publish(topic, [
    {
      key: identifierKey(view, identifier),
      headers: { messageSchema: JSON.stringify({ type: 'sv-update', version: 'v2.0.0' }) },
      value: {
        operation: { type, timestamp: deps.now().toISOString() },
        source: deps.origin,
        storageNamespace: view.config.collection ?? view.name,
        primaryKeys: Object.keys(view.key),
        before,
        after,
      },
    },
  ]);
}
