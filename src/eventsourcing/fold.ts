/**
 * The declarative fold language of `aggregates` (fast-data.md §8): per event type, a list of steps (`set`,
 * `inc`, `dec`, `push`, `unset`, `merge`, and `delete` for read models) applied to a copy of the state.
 * Values come from the event data by dotted path, from the envelope (`$aggregateId`, `$version`, `$type`,
 * `$occurredAt`) or from literals; nothing in the descriptor is evaluated as code.
 */
import type { FoldHandlers, FoldOperation } from '../config/sections/aggregates.js';

/** An event as folds, read models and code hooks see it (data already upcast to the current version). */
export interface FoldEvent {
  readonly aggregateId: string;
  /** Position in the aggregate's stream, from 1. */
  readonly version: number;
  readonly type: string;
  /** Schema version of `data`. */
  readonly schemaVersion: number;
  readonly data: Readonly<Record<string, unknown>>;
  /** ISO 8601 commit time. */
  readonly occurredAt: string;
}

export type State = Record<string, unknown>;

/** `(state, event) => state`; returning null deletes (read models only). */
export type Fold = (state: State | null, event: FoldEvent) => State | null;

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function segments(path: string): string[] {
  const parts = path === '' ? [] : path.split('.');
  // Descriptor keys are already screened by the loader; paths inside values are checked here.
  for (const part of parts) if (FORBIDDEN.has(part)) throw new TypeError(`path "${path}" uses a forbidden key`);
  return parts;
}

/** Reads a dotted path (`a.b.0`); undefined when any step is missing. */
export function getPath(value: unknown, path: string): unknown {
  let node = value;
  for (const part of segments(path)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Writes a dotted path, creating plain objects on the way. */
export function setPath(target: State, path: string, value: unknown): void {
  const parts = segments(path);
  const last = parts.pop();
  if (last === undefined) return;
  let node: Record<string, unknown> = target;
  for (const part of parts) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[last] = value;
}

/** Removes a dotted path; a missing path is a no-op. */
export function unsetPath(target: State, path: string): void {
  const parts = segments(path);
  const last = parts.pop();
  const parent = parts.length === 0 ? target : getPath(target, parts.join('.'));
  if (last !== undefined && typeof parent === 'object' && parent !== null) delete (parent as Record<string, unknown>)[last];
}

function source(event: FoldEvent, from: string): unknown {
  switch (from) {
    case '$aggregateId':
      return event.aggregateId;
    case '$version':
      return event.version;
    case '$type':
      return event.type;
    case '$occurredAt':
      return event.occurredAt;
    default:
      return getPath(event.data, from);
  }
}

const toNumber = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function applyOne(state: State, op: FoldOperation, event: FoldEvent): State | null {
  if ('delete' in op) return null;
  if ('unset' in op) {
    unsetPath(state, op.unset);
  } else if ('set' in op) {
    setPath(state, op.set, structuredClone(op.from === undefined ? op.value ?? null : source(event, op.from) ?? null));
  } else if ('inc' in op || 'dec' in op) {
    const [path, sign] = 'inc' in op ? [op.inc, 1] : [op.dec, -1];
    const amount = op.from === undefined ? op.by ?? 1 : toNumber(source(event, op.from));
    setPath(state, path, toNumber(getPath(state, path)) + sign * amount);
  } else if ('push' in op) {
    const current = getPath(state, op.push);
    const value = op.from === undefined ? op.value ?? event.data : source(event, op.from);
    setPath(state, op.push, [...(Array.isArray(current) ? current : []), structuredClone(value)]);
  } else if ('merge' in op) {
    const value = op.from === undefined ? event.data : source(event, op.from);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const into = op.merge === '' ? state : getPath(state, op.merge);
      const merged = { ...(typeof into === 'object' && into !== null ? (into as State) : {}), ...(structuredClone(value) as State) };
      if (op.merge === '') Object.assign(state, merged);
      else setPath(state, op.merge, merged);
    }
  }
  return state;
}

/**
 * Compiles declarative handlers into a fold. The state passed in is never mutated; event types without a
 * handler leave it as it is. A null state (nothing yet) starts from a copy of `initial`.
 *
 * @example
 * const fold = compileFold({ Deposited: [{ inc: 'balance', from: 'amount' }] }, { balance: 0 });
 * fold(null, { type: 'Deposited', data: { amount: 5 }, ... }); // { balance: 5 }
 */
export function compileFold(handlers: FoldHandlers, initial: Readonly<State> = {}): Fold {
  return (state, event) => {
    const operations = handlers[event.type];
    const start = state ?? structuredClone(initial) as State;
    if (operations === undefined || operations.length === 0) return start;
    let next: State | null = structuredClone(start);
    for (const op of operations) {
      if (next === null) break;
      next = applyOne(next, op, event);
    }
    return next;
  };
}
