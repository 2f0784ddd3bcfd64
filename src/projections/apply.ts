/**
 * Applies one normalised change to a projection collection (fast-data.md §3.3-§3.4): upsert always, I
 * replaces and U merges, stale guard by (counter, counterType) with an offset tie-break, soft or hard delete,
 * re-insert after a soft delete, PK change as delete + create. Returns the changes for strategies and events,
 * with the pre-image read from the store.
 */
import type { Document } from '../ports/document-store.js';
import type { ConsumedMessage } from '../ports/event-bus.js';
import type { Logger } from '../ports/logger.js';
import type { ParsedChange } from './formats/index.js';
import { mapImage, mapKey, resolveSourceKey, type CompiledProjection, type MappingStats } from './mapping.js';
import { MiaRunError } from '../errors.js';
import type { KeyedCollection } from './write-buffer.js';

export const METADATA_FIELDS = ['__STATE__', 'createdAt', 'updatedAt', 'timestamp', '__internal__counter', '__internal__counterType', '__internal__kafkaInfo'] as const;

export interface Position {
  readonly counter: number | string;
  readonly counterType: string;
}

/** A projection record change: `before` is the stored pre-image (any state), `after` the stored result. */
export interface ProjectionChange {
  readonly projection: string;
  readonly operation: 'INSERT' | 'UPDATE' | 'DELETE';
  readonly before: Document | null;
  readonly after: Document | null;
}

export type ApplyResult = { readonly result: 'applied'; readonly changes: readonly ProjectionChange[] } | { readonly result: 'stale' };

export interface ApplyDeps {
  readonly collection: KeyedCollection;
  readonly deleteMode: 'soft' | 'hard';
  readonly now: () => Date;
  readonly stats: MappingStats;
  readonly logger: Logger;
}

function compare(a: number | string, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when a message at `position` (from `message`) must not overwrite `stored` (§3.4 rule 3). */
export function isStale(stored: Document | null, position: Position, message: ConsumedMessage): boolean {
  if (stored === null || stored.__internal__counterType !== position.counterType) return false;
  const cmp = compare(position.counter, stored.__internal__counter);
  if (cmp !== 0) return cmp < 0;
  const info = stored.__internal__kafkaInfo as { topic?: string; partition?: number; offset?: string } | undefined;
  if (info?.topic !== message.topic || info.partition !== message.partition) return false;
  return message.offset < Number(info.offset);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = node[part] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
  }
  node[parts[parts.length - 1]!] = value;
}

function strip(doc: Document | null): Document | null {
  if (doc === null) return null;
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}

function originalKey(message: ConsumedMessage): unknown {
  if (message.key === null) return null;
  try {
    return JSON.parse(message.key) as unknown;
  } catch {
    return message.key;
  }
}

const QUIET: MappingStats = { onUncastable: () => undefined, onUnknown: () => undefined };

/**
 * The projection keys `change` will read and write (the target key, and the old key of a PK change), for a
 * batch prefetch; empty when the key cannot be resolved (the apply then dead-letters the message).
 */
export function targetKeys(p: CompiledProjection, change: ParsedChange, logger: Logger): Record<string, unknown>[] {
  try {
    const side = change.operation === 'D' ? (change.before !== null ? 'before' : 'after') : 'after';
    const sourceKey = resolveSourceKey(p, change, side);
    if (sourceKey === undefined) return [];
    const keys = [mapKey(p, sourceKey, QUIET, logger)];
    if (change.operation === 'U' && change.before !== null && change.after !== null) {
      const oldSource = resolveSourceKey(p, { ...change, key: null }, 'before');
      if (oldSource !== undefined) keys.push(mapKey(p, oldSource, QUIET, logger));
    }
    return keys;
  } catch {
    return [];
  }
}

/** Applies `change` to projection `p`; throws MR_FD_MISSING_KEY / MR_FD_CAST_FAILED (poison). */
export async function applyChange(p: CompiledProjection, change: ParsedChange, position: Position, message: ConsumedMessage, deps: ApplyDeps): Promise<ApplyResult> {
  const side = change.operation === 'D' ? (change.before !== null ? 'before' : 'after') : 'after';
  const sourceKey = resolveSourceKey(p, change, side);
  if (sourceKey === undefined) throw new MiaRunError('MR_FD_MISSING_KEY', `${p.name}: the primary key (${p.sourceKeys.join(', ')}) cannot be resolved from the message`, { retriable: false });
  const key = mapKey(p, sourceKey, deps.stats, deps.logger);
  const now = deps.now();
  const meta = {
    updatedAt: now,
    timestamp: new Date(message.timestamp),
    __internal__counter: position.counter,
    __internal__counterType: position.counterType,
    __internal__kafkaInfo: { topic: message.topic, partition: message.partition, offset: String(message.offset), key: originalKey(message), timestamp: new Date(message.timestamp) },
  };

  const changes: ProjectionChange[] = [];
  if (change.operation === 'U' && change.before !== null && change.after !== null) {
    const oldSource = resolveSourceKey(p, { ...change, key: null }, 'before');
    if (oldSource !== undefined) {
      const oldKey = mapKey(p, oldSource, deps.stats, deps.logger);
      if (p.primaryKey.some((k) => oldKey[k] !== key[k])) {
        const stored = await deps.collection.findOne(oldKey);
        if (!isStale(stored, position, message)) {
          const deleted = await remove(oldKey, stored, meta, now, deps);
          if (deleted !== null) changes.push({ projection: p.name, ...deleted });
        }
      }
    }
  }

  const stored = await deps.collection.findOne(key);
  if (isStale(stored, position, message)) return changes.length > 0 ? { result: 'applied', changes } : { result: 'stale' };
  if (change.operation === 'D') {
    const deleted = await remove(key, stored, meta, now, deps);
    if (deleted !== null) changes.push({ projection: p.name, ...deleted });
    return { result: 'applied', changes };
  }
  const mapped = mapImage(p, change.after ?? {}, deps.stats, deps.logger);
  const wasPublic = stored !== null && stored.__STATE__ === 'PUBLIC';
  const doc: Record<string, unknown> = change.operation === 'U' && stored !== null ? { ...strip(stored) } : {};
  for (const [name, value] of Object.entries(mapped)) setPath(doc, name, value);
  Object.assign(doc, key, meta, { __STATE__: 'PUBLIC', createdAt: stored?.createdAt ?? now });
  await deps.collection.replaceOne(key, doc, { upsert: true });
  changes.push({ projection: p.name, operation: wasPublic ? 'UPDATE' : 'INSERT', before: strip(stored), after: doc });
  return { result: 'applied', changes };
}

/** Soft or hard delete of one key; a missing record gets a DELETED stub (soft) so older inserts stay stale. */
async function remove(key: Record<string, unknown>, stored: Document | null, meta: Record<string, unknown>, now: Date, deps: ApplyDeps): Promise<Omit<ProjectionChange, 'projection'> | null> {
  if (deps.deleteMode === 'hard') {
    if (stored === null) return null;
    await deps.collection.deleteOne(key);
    return { operation: 'DELETE', before: strip(stored), after: null };
  }
  const doc = { ...(stored === null ? {} : strip(stored)), ...key, ...meta, __STATE__: 'DELETED', createdAt: stored?.createdAt ?? now };
  await deps.collection.replaceOne(key, doc, { upsert: true });
  return stored === null ? null : { operation: 'DELETE', before: strip(stored), after: null };
}
