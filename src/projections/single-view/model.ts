/**
 * A single view compiled from its declaration (fast-data.md §5): the base projection, the key mapping, the
 * ER relations and the aggregation tree, plus for every projection the paths that lead from the base to it
 * (what strategies walk backwards). Pure: no I/O.
 */
import type { AggregationConfig, FieldRefs, JoinNode, RelationConfig, SingleViewConfig } from '../../config/sections/fast-data.js';

export interface RelationSide {
  readonly projection: string;
  readonly fields: readonly string[];
}

export interface CompiledRelation {
  readonly name: string;
  readonly from: RelationSide;
  readonly to: RelationSide;
}

export type FieldSpec =
  | { readonly kind: 'field'; readonly field: string }
  | { readonly kind: 'const'; readonly value: unknown }
  | { readonly kind: 'fn'; readonly name: string }
  | { readonly kind: 'join'; readonly node: TreeNode };

export interface TreeNode {
  readonly projection: string;
  /** Relation to the parent node (undefined for the base). */
  readonly relation?: CompiledRelation;
  readonly many: boolean;
  readonly sort?: Readonly<Record<string, 1 | -1>>;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

export interface CompiledView {
  readonly name: string;
  readonly config: SingleViewConfig;
  readonly base: string;
  /** SV field → base field. */
  readonly key: Readonly<Record<string, string>>;
  readonly root: TreeNode;
  /** Projection → chains of nodes from the base (first) to a node of that projection (last). */
  readonly paths: ReadonlyMap<string, readonly (readonly TreeNode[])[]>;
  readonly onStates: readonly string[];
}

/** `orders.customerId` → `{ projection: 'orders', field: 'customerId' }`. */
export function splitRef(ref: string): { projection: string; field: string } {
  const dot = ref.indexOf('.');
  return dot < 0 ? { projection: '', field: ref } : { projection: ref.slice(0, dot), field: ref.slice(dot + 1) };
}

function side(refs: FieldRefs): RelationSide {
  const list = (typeof refs === 'string' ? [refs] : refs).map(splitRef);
  return { projection: list[0]?.projection ?? '', fields: list.map((r) => r.field) };
}

export function compileRelations(relations: readonly RelationConfig[]): CompiledRelation[] {
  return relations.map((r, i) => ({ name: r.name ?? `relation${i}`, from: side(r.from), to: side(r.to) }));
}

/** The relation linking `a` and `b` (either direction), by name when `via` is given. */
export function findRelation(relations: readonly CompiledRelation[], a: string, b: string, via?: string): CompiledRelation | undefined {
  return relations.find((r) => (via === undefined || r.name === via) && ((r.from.projection === a && r.to.projection === b) || (r.from.projection === b && r.to.projection === a)));
}

/** The base projection of a view: `base`, else the projection named by the key. */
export function baseOf(config: SingleViewConfig): string {
  return config.base ?? splitRef(Object.values(config.key)[0] ?? '').projection;
}

function isJoin(entry: unknown): entry is JoinNode {
  return typeof entry === 'object' && entry !== null && 'from' in entry && 'fields' in entry;
}

function compileNode(projection: string, fields: AggregationConfig, relations: readonly CompiledRelation[], relation: CompiledRelation | undefined, many: boolean, sort?: Readonly<Record<string, 1 | -1>>): TreeNode {
  const out: Record<string, FieldSpec> = {};
  for (const [name, entry] of Object.entries(fields)) {
    if (typeof entry === 'string') {
      const ref = splitRef(entry);
      out[name] = { kind: 'field', field: ref.projection === projection ? ref.field : entry };
    } else if (isJoin(entry)) {
      const rel = findRelation(relations, projection, entry.from, entry.via);
      out[name] = { kind: 'join', node: compileNode(entry.from, entry.fields, relations, rel, entry.many === true, entry.sort) };
    } else if ('const' in entry) {
      out[name] = { kind: 'const', value: entry.const };
    } else {
      out[name] = { kind: 'fn', name: entry.fn };
    }
  }
  return { projection, ...(relation ? { relation } : {}), many, ...(sort ? { sort } : {}), fields: out };
}

function collectPaths(node: TreeNode, chain: TreeNode[], paths: Map<string, TreeNode[][]>): void {
  const here = [...chain, node];
  paths.set(node.projection, [...(paths.get(node.projection) ?? []), here]);
  for (const spec of Object.values(node.fields)) if (spec.kind === 'join') collectPaths(spec.node, here, paths);
}

/** Compiles one view (the config rules have already checked its references). */
export function compileView(name: string, config: SingleViewConfig): CompiledView {
  const base = baseOf(config);
  const relations = compileRelations(config.relations ?? []);
  const root = compileNode(base, config.aggregation, relations, undefined, false);
  const paths = new Map<string, TreeNode[][]>();
  collectPaths(root, [], paths);
  const key = Object.fromEntries(Object.entries(config.key).map(([k, ref]) => [k, splitRef(ref).field]));
  return { name, config, base, key, root, paths, onStates: config.onStates ?? ['PUBLIC'] };
}

/**
 * The filter on `other` records related to `record` of projection `from` through `relation`, or undefined
 * when a linking field is missing or null (a relation then matches nothing).
 */
export function linkFilter(relation: CompiledRelation, from: string, record: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const [mine, theirs] = relation.from.projection === from ? [relation.from, relation.to] : [relation.to, relation.from];
  const filter: Record<string, unknown> = {};
  for (let i = 0; i < mine.fields.length; i++) {
    const value = record[mine.fields[i]!];
    if (value === undefined || value === null) return undefined;
    filter[theirs.fields[i]!] = value;
  }
  return filter;
}
