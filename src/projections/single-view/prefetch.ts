/**
 * Reads ahead what the recomputation of many identifiers of one view needs (fast-data.md §5
 * "Recomputation"), so a batch costs one query per tree node per chunk of records instead of one per
 * identifier per level: the base records of every identifier (`__STATE__` in `onStates`), then for each
 * join node the joined records of all the parent records at once (`$in` on the linking fields, the other
 * side's `where`, `onStates`, the node's sort), grouped in memory by their linking values. `findBase` and
 * the joins of `aggregate` answer from it and fall back to their own queries for anything not read ahead:
 * values that are not plain strings, numbers or booleans (arrays, dates, objects match by MongoDB rules
 * that a lookup by value cannot reproduce), so results are the same as without it.
 *
 * @example
 * const prefetched = await prefetchAggregation(view, identifiers, deps);
 * await recompute(view, identifier, { ...deps, prefetched });
 */
import type { Document } from '../../ports/document-store.js';
import type { AggregateDeps, PrefetchedRecords } from './aggregate.js';
import { getPath, matchesWhere, type CompiledView, type FieldSpec, type TreeNode } from './model.js';

/** Values per `$in` query: well under the embedded planner's 1,000 index points per query. */
const CHUNK = 400;

const isPlain = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** A lookup key of plain values (type-tagged: `1` and `"1"` differ, as in MongoDB). */
function keyOf(values: readonly unknown[]): string | undefined {
  let out = '';
  for (const v of values) {
    if (!isPlain(v)) return undefined;
    out += `${typeof v === 'string' ? 's' : typeof v === 'number' ? 'n' : 'b'}${String(v)}\u0000`;
  }
  return out;
}

/** The base lookup key of an identifier (the view's key fields, in key order). */
export function baseKeyOf(view: CompiledView, identifier: Readonly<Record<string, unknown>>): string | undefined {
  return keyOf(Object.keys(view.key).map((k) => identifier[k]));
}

/** A filter of `$in` on each field (a superset for composite keys: records are matched again in memory). */
function inFilter(fields: readonly string[], keys: readonly (readonly unknown[])[]): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  fields.forEach((field, i) => (filter[field] = { $in: [...new Set(keys.map((k) => k[i]))] }));
  return filter;
}

function childNodes(fields: Readonly<Record<string, FieldSpec>>, out: TreeNode[] = []): TreeNode[] {
  for (const spec of Object.values(fields)) {
    if (spec.kind === 'join') out.push(spec.node);
    else if (spec.kind === 'object') childNodes(spec.fields, out);
  }
  return out;
}

/** Reads ahead the base records and joined records of `identifiers` of `view`. */
export async function prefetchAggregation(view: CompiledView, identifiers: readonly Readonly<Record<string, unknown>>[], deps: Pick<AggregateDeps, 'projection'>): Promise<PrefetchedRecords> {
  const bases = new Map<string, Document | null>();
  const joins = new Map<TreeNode, WeakMap<Document, readonly Document[]>>();
  const onStates = { $in: view.onStates };

  // Base records, by key.
  const svFields = Object.keys(view.key);
  const baseFields = svFields.map((k) => view.key[k]!);
  const wanted = new Map<string, unknown[]>();
  for (const id of identifiers) {
    const values = svFields.map((k) => id[k]);
    const key = keyOf(values);
    if (key !== undefined) wanted.set(key, values);
  }
  const baseList = [...wanted];
  const baseRecords: Document[] = [];
  for (let i = 0; i < baseList.length; i += CHUNK) {
    const chunk = baseList.slice(i, i + CHUNK);
    const found = await deps.projection(view.base).collection.find({ ...inFilter(baseFields, chunk.map(([, v]) => v)), __STATE__: onStates }).toArray();
    const byKey = new Map<string, Document>();
    let exact = true;
    for (const doc of found) {
      const key = keyOf(baseFields.map((f) => doc[f]));
      if (key === undefined) exact = false;
      else if (!byKey.has(key)) byKey.set(key, doc);
    }
    // A record whose key field is not a plain value (an array) may match several identifiers: leave them to findBase.
    if (!exact) continue;
    for (const [key] of chunk) {
      const doc = byKey.get(key) ?? null;
      bases.set(key, doc);
      if (doc !== null) baseRecords.push(doc);
    }
  }

  // Joined records, level by level: the records of a node are the parents of its children.
  const level = async (node: TreeNode, parents: readonly Document[]): Promise<void> => {
    for (const child of childNodes(node.fields)) {
      const relation = child.relation;
      if (relation === undefined || parents.length === 0) continue;
      const [mine, theirs] = relation.from.projection === node.projection ? [relation.from, relation.to] : [relation.to, relation.from];
      const byParent = new WeakMap<Document, readonly Document[]>();
      const groups = new Map<string, { values: unknown[]; parents: Document[] }>();
      for (const parent of parents) {
        if (mine.where !== undefined && !matchesWhere(mine.where, parent)) {
          byParent.set(parent, []);
          continue;
        }
        const values = mine.fields.map((f) => getPath(parent, f));
        if (values.some((v) => v === undefined || v === null)) {
          byParent.set(parent, []);
          continue;
        }
        const key = keyOf(values);
        if (key === undefined) continue; // matched by MongoDB rules in buildJoin
        const group = groups.get(key);
        if (group === undefined) groups.set(key, { values, parents: [parent] });
        else group.parents.push(parent);
      }
      const handle = deps.projection(child.projection);
      const sort = child.sort ?? Object.fromEntries(handle.primaryKey.map((k) => [k, 1 as const]));
      const list = [...groups.values()];
      const records: Document[] = [];
      for (let i = 0; i < list.length; i += CHUNK) {
        const chunk = list.slice(i, i + CHUNK);
        const link = inFilter(theirs.fields, chunk.map((g) => g.values));
        const overlap = theirs.where !== undefined && Object.keys(theirs.where).some((k) => k in link || k === '__STATE__' || k.startsWith('$'));
        const filter = theirs.where === undefined ? { ...link, __STATE__: onStates } : overlap ? { $and: [theirs.where, link, { __STATE__: onStates }] } : { ...theirs.where, ...link, __STATE__: onStates };
        const found = await handle.collection.find(filter, { sort }).toArray();
        const byKey = new Map<string, Document[]>();
        let exact = true;
        for (const doc of found) {
          const key = keyOf(theirs.fields.map((f) => getPath(doc, f)));
          if (key === undefined) {
            exact = false;
            break;
          }
          const into = byKey.get(key);
          if (into === undefined) byKey.set(key, [doc]);
          else into.push(doc);
        }
        // A joined record whose linking field is an array may belong to several parents: left to buildJoin.
        if (!exact) continue;
        for (const [key, group] of chunk.map((g) => [keyOf(g.values)!, g] as const)) {
          const matched = byKey.get(key) ?? [];
          const kept = child.many ? matched : matched.slice(0, 1);
          for (const parent of group.parents) byParent.set(parent, kept);
          for (const record of kept) records.push(record);
        }
      }
      joins.set(child, byParent);
      await level(child, records);
    }
  };
  await level(view.root, baseRecords);

  return {
    base: (identifier) => {
      const key = baseKeyOf(view, identifier);
      return key === undefined ? undefined : bases.get(key);
    },
    joined: (node, parent) => joins.get(node)?.get(parent),
  };
}
