/**
 * Recomputes one single view document from current projection state and stores it (fast-data.md §5):
 * base gone ⇒ delete (hard, or `virtualDelete`); the validator rejecting the document ⇒ `VALIDATION_ERROR`
 * recorded, then delete (`onInvalid: delete`, Mia) or keep the stored one (`keep`); unchanged apart from
 * `updatedAt` ⇒ no write and no event; otherwise a keyed write keeping `createdAt` (`upsert: replace` writes
 * the whole document, `update` only the top-level fields the aggregation produces), then an `sv-update` v2
 * event when `publish` is set (§4).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Document } from '../../ports/document-store.js';
import type { OutgoingMessage } from '../../ports/event-bus.js';
import type { KeyedCollection } from '../write-buffer.js';
import { aggregate, findBase, type AggregateDeps } from './aggregate.js';
import type { CompiledView } from './model.js';
import type { SvErrorLog } from './errors-log.js';
import { identifierKey } from './strategy.js';

export type SvResult = 'insert' | 'update' | 'delete' | 'noop' | 'invalid' | 'error';

/** A view's validator (`fastData.functions`): `(sv, { logger }) => boolean`, sync or async. */
export type ValidatorFn = (sv: Readonly<Record<string, unknown>>, ctx: { readonly logger: AggregateDeps['logger'] }) => boolean | Promise<boolean>;

export interface WriterDeps extends AggregateDeps {
  readonly collection: KeyedCollection;
  readonly now: () => Date;
  /** `source` of sv-update events (the project name). */
  readonly origin: string;
  readonly validator?: ValidatorFn;
  /** Where `VALIDATION_ERROR` (and the failures of `guardedRecompute`) are recorded. */
  readonly errors?: SvErrorLog;
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
    await remove(view, identifier, stored, now, deps);
    return outcome('delete', view, identifier, 'DELETE', withoutId(stored), null, deps);
  }
  const doc = await aggregate(view, base, deps);
  if (deps.validator !== undefined && (await deps.validator(doc, { logger: deps.logger })) !== true) {
    await deps.errors?.record(view.name, identifier, 'VALIDATION_ERROR', `the validator rejected the single view ${identifierKey(view, identifier)}`);
    if (view.config.onInvalid === 'keep' || stored === null || stored.__STATE__ === 'DELETED') return { result: 'invalid' };
    await remove(view, identifier, stored, now, deps);
    return outcome('invalid', view, identifier, 'DELETE', withoutId(stored), null, deps);
  }
  // `update` keeps the top-level fields others wrote (a second view or writer on the same collection).
  const next = view.config.upsert === 'update' && stored !== null ? { ...withoutId(stored), ...doc } : doc;
  if (isDeepStrictEqual(comparable(stored), comparable(next))) return { result: 'noop' };
  const full = { ...next, createdAt: stored?.createdAt ?? now, updatedAt: now };
  await deps.collection.replaceOne(identifier, full, { upsert: true });
  const live = stored !== null && stored.__STATE__ !== 'DELETED';
  return outcome(live ? 'update' : 'insert', view, identifier, live ? 'UPDATE' : 'INSERT', withoutId(stored), full, deps);
}

/** Hard delete, or `virtualDelete`: `__STATE__: DELETED` on the stored document. */
async function remove(view: CompiledView, identifier: Readonly<Record<string, unknown>>, stored: Document, now: Date, deps: WriterDeps): Promise<void> {
  if (view.config.delete === 'virtualDelete') await deps.collection.replaceOne(identifier, { ...withoutId(stored), __STATE__: 'DELETED', updatedAt: now }, { upsert: true });
  else await deps.collection.deleteOne(identifier);
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
