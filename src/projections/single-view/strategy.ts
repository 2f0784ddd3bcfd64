/**
 * Automatic strategy (fast-data.md §5): from one projection change (stored pre-image and post-image) to the
 * identifiers of every single view to recompute. Each place the projection occurs in a view's aggregation
 * tree is walked backwards to the base through the relations, querying related records in ANY state, so a
 * foreign key that moves reaches both the old parent (from the pre-image) and the new one (post-image).
 */
import type { Document } from '../../ports/document-store.js';
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

/** Identifiers (by `identifierKey`) of `view` affected by `change`. */
export async function affectedIdentifiers(view: CompiledView, change: ProjectionChange, deps: AggregateDeps): Promise<Map<string, Record<string, unknown>>> {
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
        for await (const p of deps.projection(parent.projection).collection.find(filter)) next.set(String(p._id), p);
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
