/**
 * Builds a single-view document from current projection state (fast-data.md §5 "Recomputation"): joins
 * follow the relations from the base down, only records whose `__STATE__` is in `onStates` are joined, 1:N
 * joins are arrays in `sort` order (default: the joined projection's PK ascending), 1:1 joins take the
 * first match or null.
 */
import type { Collection, Document } from '../../ports/document-store.js';
import type { Logger } from '../../ports/logger.js';
import { linkFilter, type CompiledView, type TreeNode } from './model.js';

export interface ProjectionHandle {
  readonly collection: Collection;
  readonly primaryKey: readonly string[];
}

/** A custom aggregation function: `({ base, doc, logger }) => value`. */
export type AggregationFn = (ctx: { readonly base: Document; readonly doc: Readonly<Record<string, unknown>>; readonly logger: Logger }) => unknown;

export interface AggregateDeps {
  readonly projection: (name: string) => ProjectionHandle;
  readonly functions: ReadonlyMap<string, AggregationFn>;
  readonly logger: Logger;
}

function getPath(record: Readonly<Record<string, unknown>>, path: string): unknown {
  if (!path.includes('.')) return record[path];
  let node: unknown = record;
  for (const part of path.split('.')) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  return node;
}

async function buildNode(node: TreeNode, record: Document, base: Document, view: CompiledView, deps: AggregateDeps): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(node.fields)) {
    switch (spec.kind) {
      case 'field': {
        const v = getPath(record, spec.field);
        out[name] = v === undefined ? null : v;
        break;
      }
      case 'const':
        out[name] = spec.value;
        break;
      case 'fn': {
        const fn = deps.functions.get(spec.name);
        out[name] = fn === undefined ? null : ((await fn({ base, doc: out, logger: deps.logger })) ?? null);
        break;
      }
      case 'join': {
        const child = spec.node;
        const filter = child.relation === undefined ? undefined : linkFilter(child.relation, node.projection, record);
        if (filter === undefined) {
          out[name] = child.many ? [] : null;
          break;
        }
        const handle = deps.projection(child.projection);
        const sort = child.sort ?? Object.fromEntries(handle.primaryKey.map((k) => [k, 1 as const]));
        const found = await handle.collection.find({ ...filter, __STATE__: { $in: view.onStates } }, { sort, ...(child.many ? {} : { limit: 1 }) }).toArray();
        const built = await Promise.all(found.map((r) => buildNode(child, r, base, view, deps)));
        out[name] = child.many ? built : (built[0] ?? null);
        break;
      }
    }
  }
  return out;
}

/** The base record of an identifier in an accepted state, or null. */
export async function findBase(view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: AggregateDeps): Promise<Document | null> {
  const filter: Record<string, unknown> = { __STATE__: { $in: view.onStates } };
  for (const [svField, baseField] of Object.entries(view.key)) filter[baseField] = identifier[svField];
  return deps.projection(view.base).collection.findOne(filter);
}

/** The SV document (without store metadata) of `base`. */
export async function aggregate(view: CompiledView, base: Document, deps: AggregateDeps): Promise<Record<string, unknown>> {
  const doc = await buildNode(view.root, base, base, view, deps);
  for (const [svField, baseField] of Object.entries(view.key)) doc[svField] = base[baseField];
  if (doc.__STATE__ === undefined) doc.__STATE__ = 'PUBLIC';
  return doc;
}
