/**
 * A single view compiled from its declaration (fast-data.md §5): the base projection, the key mapping, the
 * ER relations (field equalities plus an optional constant `where` on either side) and the aggregation tree,
 * plus for every projection the paths that lead from the base to it (what strategies walk backwards). Pure:
 * no I/O.
 */
import { Query } from 'mingo';
import type { AggregationConfig, AggregationEntry, FieldRefs, JoinNode, RelationConfig, SelectEntry, SelectValue, SingleViewConfig } from '../../config/sections/fast-data.js';

export interface RelationSide {
  readonly projection: string;
  readonly fields: readonly string[];
  /** The `where` conditions on this side's fields (field names without the projection), if any. */
  readonly where?: Readonly<Record<string, unknown>>;
}

export interface CompiledRelation {
  readonly name: string;
  readonly from: RelationSide;
  readonly to: RelationSide;
}

/** An operand or value of a select: a field reference (scoped), a constant or a function. */
export type ValueSpec = { readonly kind: 'field'; readonly ref: FieldRef } | { readonly kind: 'const'; readonly value: unknown } | { readonly kind: 'fn'; readonly name: string };

/** A field of the node's record (`projection` empty) or of an ancestor node's record. */
export interface FieldRef {
  readonly projection: string;
  readonly field: string;
}

export type FieldSpec =
  | ValueSpec
  | { readonly kind: 'join'; readonly node: TreeNode }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, FieldSpec>> }
  | { readonly kind: 'select'; readonly options: readonly { readonly op: string; readonly left: ValueSpec; readonly right: ValueSpec; readonly value: ValueSpec }[]; readonly otherwise: ValueSpec };

export interface TreeNode {
  readonly projection: string;
  /** Relation to the parent node (undefined for the base). */
  readonly relation?: CompiledRelation;
  readonly many: boolean;
  readonly sort?: Readonly<Record<string, 1 | -1>>;
  /** The join yields the value of its `$value` field instead of an object (`value:` in YAML). */
  readonly pluck: boolean;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

export interface CompiledView {
  readonly name: string;
  readonly config: SingleViewConfig;
  readonly base: string;
  /** SV field → base field. */
  readonly key: Readonly<Record<string, string>>;
  readonly root: TreeNode;
  /**
   * Projection → chains of nodes from the base (first) to a node of that projection (last). A projection
   * with a custom strategy and no place in the tree has an empty list (it still triggers the view).
   */
  readonly paths: ReadonlyMap<string, readonly (readonly TreeNode[])[]>;
  readonly onStates: readonly string[];
}

/** `orders.customerId` → `{ projection: 'orders', field: 'customerId' }`. */
export function splitRef(ref: string): { projection: string; field: string } {
  const dot = ref.indexOf('.');
  return dot < 0 ? { projection: '', field: ref } : { projection: ref.slice(0, dot), field: ref.slice(dot + 1) };
}

function side(refs: FieldRefs, where: Readonly<Record<string, unknown>> | undefined): RelationSide {
  const list = (typeof refs === 'string' ? [refs] : refs).map(splitRef);
  const projection = list[0]?.projection ?? '';
  const own = Object.entries(where ?? {}).filter(([k]) => splitRef(k).projection === projection);
  return { projection, fields: list.map((r) => r.field), ...(own.length > 0 ? { where: Object.fromEntries(own.map(([k, v]) => [splitRef(k).field, v])) } : {}) };
}

export function compileRelations(relations: readonly RelationConfig[]): CompiledRelation[] {
  return relations.map((r, i) => ({ name: r.name ?? `relation${i}`, from: side(r.from, r.where), to: side(r.to, r.where) }));
}

/** The relation linking `a` and `b` (either direction), by name when `via` is given. */
export function findRelation(relations: readonly CompiledRelation[], a: string, b: string, via?: string): CompiledRelation | undefined {
  return relations.find((r) => (via === undefined || r.name === via) && ((r.from.projection === a && r.to.projection === b) || (r.from.projection === b && r.to.projection === a)));
}

/** The base projection of a view: `base`, else the projection named by the key. */
export function baseOf(config: SingleViewConfig): string {
  return config.base ?? splitRef(Object.values(config.key)[0] ?? '').projection;
}

function isJoin(entry: AggregationEntry): entry is JoinNode {
  return typeof entry === 'object' && 'from' in entry;
}

function isSelect(entry: AggregationEntry): entry is SelectEntry {
  return typeof entry === 'object' && 'select' in entry;
}

interface Scope {
  readonly projection: string;
  readonly ancestors: readonly string[];
  readonly relations: readonly CompiledRelation[];
}

function fieldRef(ref: string, scope: Scope): FieldRef {
  const split = splitRef(ref);
  // `orders.total` inside the orders node, or `customers.name` of an ancestor; anything else is a path.
  if (split.projection === scope.projection) return { projection: '', field: split.field };
  if (scope.ancestors.includes(split.projection)) return split;
  return { projection: '', field: ref };
}

function valueSpec(value: SelectValue, scope: Scope): ValueSpec {
  if (typeof value === 'string') return { kind: 'field', ref: fieldRef(value, scope) };
  if ('const' in value) return { kind: 'const', value: value.const };
  return { kind: 'fn', name: value.fn };
}

function compileFields(fields: AggregationConfig, scope: Scope): Record<string, FieldSpec> {
  const out: Record<string, FieldSpec> = {};
  for (const [name, entry] of Object.entries(fields)) {
    if (typeof entry === 'string') out[name] = { kind: 'field', ref: fieldRef(entry, scope) };
    else if (isJoin(entry)) out[name] = { kind: 'join', node: compileJoin(entry, scope) };
    else if (isSelect(entry)) {
      out[name] = {
        kind: 'select',
        options: entry.select.map((o) => {
          const [op, operands] = Object.entries(o.when)[0] ?? ['==', [{ const: null }, { const: null }]];
          return { op, left: valueSpec(operands[0], scope), right: valueSpec(operands[1], scope), value: valueSpec(o.value, scope) };
        }),
        otherwise: entry.default === undefined ? { kind: 'const', value: null } : valueSpec(entry.default, scope),
      };
    } else if ('fields' in entry) out[name] = { kind: 'object', fields: compileFields(entry.fields, scope) };
    else out[name] = valueSpec(entry, scope);
  }
  return out;
}

function compileJoin(entry: JoinNode, parent: Scope): TreeNode {
  const relation = findRelation(parent.relations, parent.projection, entry.from, entry.via);
  const scope: Scope = { projection: entry.from, ancestors: [...parent.ancestors, parent.projection], relations: parent.relations };
  const pluck = entry.value !== undefined;
  const fields = compileFields(pluck ? { $value: entry.value! } : (entry.fields ?? {}), scope);
  return { projection: entry.from, ...(relation ? { relation } : {}), many: entry.many === true, ...(entry.sort ? { sort: entry.sort } : {}), pluck, fields };
}

function collectPaths(node: TreeNode, chain: TreeNode[], paths: Map<string, TreeNode[][]>): void {
  const here = [...chain, node];
  paths.set(node.projection, [...(paths.get(node.projection) ?? []), here]);
  const visit = (fields: Readonly<Record<string, FieldSpec>>): void => {
    for (const spec of Object.values(fields)) {
      if (spec.kind === 'join') collectPaths(spec.node, here, paths);
      else if (spec.kind === 'object') visit(spec.fields);
    }
  };
  visit(node.fields);
}

/** Compiles one view (the config rules have already checked its references). */
export function compileView(name: string, config: SingleViewConfig): CompiledView {
  const base = baseOf(config);
  const relations = compileRelations(config.relations ?? []);
  const root: TreeNode = { projection: base, many: false, pluck: false, fields: compileFields(config.aggregation, { projection: base, ancestors: [], relations }) };
  const paths = new Map<string, TreeNode[][]>();
  collectPaths(root, [], paths);
  for (const p of Object.keys(config.strategies ?? {})) if (!paths.has(p)) paths.set(p, []);
  const key = Object.fromEntries(Object.entries(config.key).map(([k, ref]) => [k, splitRef(ref).field]));
  return { name, config, base, key, root, paths, onStates: config.onStates ?? ['PUBLIC'] };
}

/** A dot path of a record (undefined when absent). */
export function getPath(record: Readonly<Record<string, unknown>>, path: string): unknown {
  if (!path.includes('.')) return record[path];
  let node: unknown = record;
  for (const part of path.split('.')) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  return node;
}

const whereCache = new WeakMap<object, Query>();
/** True when `record` matches a relation side's `where` (a MongoDB filter, compiled once). */
export function matchesWhere(where: Readonly<Record<string, unknown>>, record: Readonly<Record<string, unknown>>): boolean {
  let query = whereCache.get(where);
  if (query === undefined) whereCache.set(where, (query = new Query(where as Record<string, unknown>)));
  return query.test(record as Record<string, unknown>);
}

/**
 * The filter on `other` records related to `record` of projection `from` through `relation`, or undefined
 * when a linking field is missing or null, or the relation's `where` on `record`'s side does not match (a
 * relation then matches nothing). The other side's `where` is part of the returned filter.
 */
export function linkFilter(relation: CompiledRelation, from: string, record: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const [mine, theirs] = relation.from.projection === from ? [relation.from, relation.to] : [relation.to, relation.from];
  if (mine.where !== undefined && !matchesWhere(mine.where, record)) return undefined;
  const filter: Record<string, unknown> = { ...theirs.where };
  for (let i = 0; i < mine.fields.length; i++) {
    const value = getPath(record, mine.fields[i]!);
    if (value === undefined || value === null) return undefined;
    const field = theirs.fields[i]!;
    if (theirs.where !== undefined && field in theirs.where) {
      // An equality and a `where` on the same field must both hold.
      delete filter[field];
      filter.$and = [...((filter.$and as unknown[] | undefined) ?? []), { [field]: value }, { [field]: theirs.where[field] }];
    } else filter[field] = value;
  }
  return filter;
}
