/**
 * Recomputes one single view document from current projection state and stores it (fast-data.md §5):
 * base gone ⇒ delete (hard, or `virtualDelete`); unchanged apart from `updatedAt` ⇒ no write and no event;
 * otherwise a keyed replace keeping `createdAt`, then an `sv-update` v2 event when `publish` is set (§4).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Document } from '../../ports/document-store.js';
import type { OutgoingMessage } from '../../ports/event-bus.js';
import type { KeyedCollection } from '../write-buffer.js';
import { aggregate, findBase, type AggregateDeps } from './aggregate.js';
import type { CompiledView } from './model.js';
import { identifierKey } from './strategy.js';

export type SvResult = 'insert' | 'update' | 'delete' | 'noop';

export interface WriterDeps extends AggregateDeps {
  readonly collection: KeyedCollection;
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

/** What a recomputation did, and the sv-update to publish once the write is durable (when `publish` is set). */
export interface SvOutcome {
  readonly result: SvResult;
  readonly event?: { readonly topic: string; readonly message: OutgoingMessage };
}

/** Recomputes and stores the view document of `identifier`. */
export async function recompute(view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: WriterDeps): Promise<SvOutcome> {
  const base = await findBase(view, identifier, deps);
  const stored = await deps.collection.findOne(identifier);
  const now = deps.now();
  if (base === null) {
    if (stored === null || stored.__STATE__ === 'DELETED') return { result: 'noop' };
    if (view.config.delete === 'virtualDelete') await deps.collection.replaceOne(identifier, { ...withoutId(stored), __STATE__: 'DELETED', updatedAt: now }, { upsert: true });
    else await deps.collection.deleteOne(identifier);
    return outcome('delete', view, identifier, 'DELETE', withoutId(stored), null, deps);
  }
  const doc = await aggregate(view, base, deps);
  if (isDeepStrictEqual(comparable(stored), comparable(doc))) return { result: 'noop' };
  const full = { ...doc, createdAt: stored?.createdAt ?? now, updatedAt: now };
  await deps.collection.replaceOne(identifier, full, { upsert: true });
  const live = stored !== null && stored.__STATE__ !== 'DELETED';
  return outcome(live ? 'update' : 'insert', view, identifier, live ? 'UPDATE' : 'INSERT', withoutId(stored), full, deps);
}

function outcome(result: SvResult, view: CompiledView, identifier: Readonly<Record<string, unknown>>, type: 'INSERT' | 'UPDATE' | 'DELETE', before: Document | null, after: Document | null, deps: WriterDeps): SvOutcome {
  const topic = view.config.publish?.topic;
  if (topic === undefined) return { result };
  return {
    result,
    event: {
      topic,
      message: {
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
    },
  };
}
