/**
 * Strategies (fast-data.md §5): from one projection change (stored pre-image and post-image) to the
 * identifiers of every single view to recompute. Automatic: each place the projection occurs in a view's
 * aggregation tree is walked backwards to the base through the relations (their `where` included), querying
 * related records in ANY state, so a foreign key that moves reaches both the old parent (from the pre-image)
 * and the new one (post-image). Custom (`strategies: { <projection>: { fn } }`): an async generator
 * `(change, { store, logger })` yielding identifiers replaces the automatic walk for that projection. More
 * identifiers than `fanOutWarn` (default 10,000) from one change are logged, never truncated.
 */
import { MiaRunError } from '../../errors.js';
import type { Collection, Document } from '../../ports/document-store.js';
import type { Logger } from '../../ports/logger.js';
import type { ProjectionChange } from '../apply.js';
import type { AggregateDeps } from './aggregate.js';
import { linkFilter, type CompiledView } from './model.js';

/** Stable text of an identifier (for coalescing and message keys): fields in key order. */
export function identifierKey(view: CompiledView, identifier: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(Object.fromEntries(Object.keys(view.key).map((k) => [k, identifier[k]])));
}

function identifierOf(view: CompiledView, base: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const id: Record<string, unknown> = {};
  for (const [svField, baseField] of Object.entries(view.key)) {
    const v = base[baseField];
    if (v === undefined || v === null) return undefined;
    id[svField] = v;
  }
  return id;
}

/** A custom strategy (`fastData.functions`): yields the identifiers of the view to recompute. */
export type StrategyFn = (
  change: ProjectionChange,
  ctx: { readonly store: { readonly collection: (projection: string) => Collection }; readonly logger: Logger },
) => AsyncIterable<Readonly<Record<string, unknown>>> | Iterable<Readonly<Record<string, unknown>>>;

/** Default of `fanOutWarn`. */
export const FAN_OUT_WARN = 10_000;

/** Identifiers (by `identifierKey`) of `view` affected by `change`. */
export async function affectedIdentifiers(view: CompiledView, change: ProjectionChange, deps: AggregateDeps): Promise<Map<string, Record<string, unknown>>> {
  const found = await (view.config.strategies?.[change.projection] === undefined ? automatic(view, change, deps) : custom(view, change, deps));
  const limit = view.config.fanOutWarn ?? FAN_OUT_WARN;
  if (found.size > limit) deps.logger.warn({ view: view.name, projection: change.projection, identifiers: found.size, fanOutWarn: limit }, 'one projection change triggers many single views');
  return found;
}

async function custom(view: CompiledView, change: ProjectionChange, deps: AggregateDeps): Promise<Map<string, Record<string, unknown>>> {
  const name = view.config.strategies![change.projection]!.fn;
  // Functions are declared once under fastData.functions; a strategy has its own signature.
  const fn = deps.functions.get(name) as unknown as StrategyFn | undefined;
  if (fn === undefined) throw new MiaRunError('MR_FD_AGGREGATION_FAILED', `strategy function "${name}" of view "${view.name}" is not loaded`, { retriable: false });
  const found = new Map<string, Record<string, unknown>>();
  const store = { collection: (projection: string) => deps.projection(projection).collection };
  for await (const yielded of fn(change, { store, logger: deps.logger })) {
    const id = Object.fromEntries(Object.keys(view.key).map((k) => [k, yielded[k]]));
    if (Object.values(id).some((v) => v === undefined || v === null)) continue;
    found.set(identifierKey(view, id), id);
  }
  return found;
}

async function automatic(view: CompiledView, change: ProjectionChange, deps: AggregateDeps): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const seeds = [change.before, change.after].filter((r): r is Document => r !== null);
  for (const path of view.paths.get(change.projection) ?? []) {
    let records: Document[] = seeds;
    // Walk from the changed node up to the base: node i's relation links it to node i-1.
    for (let i = path.length - 1; i > 0 && records.length > 0; i--) {
      const node = path[i]!;
      const parent = path[i - 1]!;
      if (node.relation === undefined) {
        records = [];
        break;
      }
      const next = new Map<string, Document>();
      for (const record of records) {
        const filter = linkFilter(node.relation, node.projection, record);
        if (filter === undefined) continue;
        // toArray: no promise per record (the results of one hop are few and all needed).
        for (const p of await deps.projection(parent.projection).collection.find(filter).toArray()) next.set(String(p._id), p);
      }
      records = [...next.values()];
    }
    for (const base of records) {
      const id = identifierOf(view, base);
      if (id !== undefined) found.set(identifierKey(view, id), id);
    }
  }
  return found;
}
