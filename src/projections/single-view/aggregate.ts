/**
 * Builds a single-view document from current projection state (fast-data.md §5 "Recomputation"): joins
 * follow the relations from the base down (with their `where`), only records whose `__STATE__` is in
 * `onStates` are joined, 1:N joins are arrays in `sort` order (default: the joined projection's PK
 * ascending), 1:1 joins take the first match or null; constants, functions and `select` fill the rest.
 */
import type { Collection, Document } from '../../ports/document-store.js';
import type { Logger } from '../../ports/logger.js';
import { getPath, linkFilter, type CompiledView, type FieldSpec, type TreeNode, type ValueSpec } from './model.js';

export interface ProjectionHandle {
  readonly collection: Collection;
  readonly primaryKey: readonly string[];
}

/** What a custom aggregation function receives (fast-data.md §5 `fn`). */
export interface AggregationContext {
  /** The base record. */
  readonly base: Document;
  /** The record of the node being built (the base at the top level, a joined record inside a join). */
  readonly record: Document;
  /** The fields built so far at this level. */
  readonly doc: Readonly<Record<string, unknown>>;
  /** Records of the current node and its ancestors, by projection name. */
  readonly deps: ReadonlyMap<string, Document>;
  /** Read access to projection collections. */
  readonly store: { readonly collection: (projection: string) => Collection };
  readonly logger: Logger;
}

/** A custom aggregation function (`fastData.functions`), sync or async. */
export type AggregationFn = (ctx: AggregationContext) => unknown;

/**
 * Records read ahead for a batch of identifiers (`prefetch.ts`); undefined answers mean "not read ahead,
 * query the store".
 */
export interface PrefetchedRecords {
  /** The base record of an identifier in an accepted state (null: none). */
  base(identifier: Readonly<Record<string, unknown>>): Document | null | undefined;
  /** The joined records of `parent` for `node`, in the node's order (already limited to one for 1:1). */
  joined(node: TreeNode, parent: Document): readonly Document[] | undefined;
}

export interface AggregateDeps {
  readonly projection: (name: string) => ProjectionHandle;
  readonly functions: ReadonlyMap<string, AggregationFn>;
  readonly logger: Logger;
  /** Records of the current batch read ahead (`prefetchAggregation`). */
  readonly prefetched?: PrefetchedRecords;
}

interface Frame {
  readonly record: Document;
  readonly base: Document;
  readonly deps: ReadonlyMap<string, Document>;
}

const COMPARE: Readonly<Record<string, (a: never, b: never) => boolean>> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
};

async function valueOf(spec: ValueSpec, frame: Frame, doc: Record<string, unknown>, deps: AggregateDeps): Promise<unknown> {
  switch (spec.kind) {
    case 'const':
      return spec.value;
    case 'field': {
      const record = spec.ref.projection === '' ? frame.record : frame.deps.get(spec.ref.projection);
      const v = record === undefined ? undefined : getPath(record, spec.ref.field);
      return v === undefined ? null : v;
    }
    case 'fn': {
      const fn = deps.functions.get(spec.name);
      if (fn === undefined) return null;
      const store = { collection: (projection: string) => deps.projection(projection).collection };
      return (await fn({ base: frame.base, record: frame.record, doc, deps: frame.deps, store, logger: deps.logger })) ?? null;
    }
  }
}

async function buildFields(fields: Readonly<Record<string, FieldSpec>>, node: TreeNode, frame: Frame, view: CompiledView, deps: AggregateDeps): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(fields)) {
    switch (spec.kind) {
      case 'join':
        out[name] = await buildJoin(spec.node, node, frame, view, deps);
        break;
      case 'object':
        out[name] = await buildFields(spec.fields, node, frame, view, deps);
        break;
      case 'select': {
        let chosen = spec.otherwise;
        for (const option of spec.options) {
          const left = await valueOf(option.left, frame, out, deps);
          const right = await valueOf(option.right, frame, out, deps);
          if (COMPARE[option.op]?.(left as never, right as never) === true) {
            chosen = option.value;
            break;
          }
        }
        out[name] = await valueOf(chosen, frame, out, deps);
        break;
      }
      default:
        out[name] = await valueOf(spec, frame, out, deps);
    }
  }
  return out;
}

async function joined(child: TreeNode, parent: TreeNode, frame: Frame, view: CompiledView, deps: AggregateDeps): Promise<readonly Document[]> {
  const ahead = deps.prefetched?.joined(child, frame.record);
  if (ahead !== undefined) return ahead;
  const filter = child.relation === undefined ? undefined : linkFilter(child.relation, parent.projection, frame.record);
  if (filter === undefined) return [];
  const handle = deps.projection(child.projection);
  const sort = child.sort ?? Object.fromEntries(handle.primaryKey.map((k) => [k, 1 as const]));
  return handle.collection.find({ ...filter, __STATE__: { $in: view.onStates } }, { sort, ...(child.many ? {} : { limit: 1 }) }).toArray();
}

async function buildJoin(child: TreeNode, parent: TreeNode, frame: Frame, view: CompiledView, deps: AggregateDeps): Promise<unknown> {
  const found = await joined(child, parent, frame, view, deps);
  if (found.length === 0) return child.many ? [] : null;
  const built = await Promise.all(
    found.map(async (record) => {
      const scoped = new Map(frame.deps).set(child.projection, record);
      const doc = await buildFields(child.fields, child, { record, base: frame.base, deps: scoped }, view, deps);
      return child.pluck ? doc.$value : doc;
    }),
  );
  return child.many ? built : (built[0] ?? null);
}

/** The base record of an identifier in an accepted state, or null. */
export async function findBase(view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: AggregateDeps): Promise<Document | null> {
  const ahead = deps.prefetched?.base(identifier);
  if (ahead !== undefined) return ahead;
  const filter: Record<string, unknown> = { __STATE__: { $in: view.onStates } };
  for (const [svField, baseField] of Object.entries(view.key)) filter[baseField] = identifier[svField];
  return deps.projection(view.base).collection.findOne(filter);
}

/** The SV document (without store metadata) of `base`. */
export async function aggregate(view: CompiledView, base: Document, deps: AggregateDeps): Promise<Record<string, unknown>> {
  const doc = await buildFields(view.root.fields, view.root, { record: base, base, deps: new Map([[view.base, base]]) }, view, deps);
  for (const [svField, baseField] of Object.entries(view.key)) doc[svField] = base[baseField];
  if (doc.__STATE__ === undefined) doc.__STATE__ = 'PUBLIC';
  return doc;
}
