/**
 * Mia's single-view files as `fastData.singleViews` declarations (fast-data.md §5): an ER schema
 * (`{version, config: {<P>: {outgoing: {<Q>: {conditions: {<name>: {condition, oneToMany}}}}}}}`) becomes
 * `relations` named after its conditions (`{<Q field>: <P field>}` pairs, constants as `where` on Q); a
 * low-code aggregation (`SV_CONFIG` with `dependencies`, `mapping`, `joinDependency`, `aliasOf`, `useAlias`,
 * `identifierQueryMapping`, `_select`) becomes the aggregation tree; `singleViewKey.json` becomes `key`.
 * Constants `__string__[v]`, `__integer__[n]`, `__boolean__[b]`, `__constant__[v]` and functions
 * `__fromFile__[fn]` (a `fastData.functions` name) are understood. Pure: every problem is returned with the
 * path in its file, which the caller turns into `file:line:col`.
 */
import type { AggregationConfig, AggregationEntry, RelationConfig, SelectValue } from './fast-data.js';

export type MiaFileKind = 'erSchema' | 'aggregation' | 'key';
export type JsonPath = readonly (string | number)[];

export interface MiaProblem {
  readonly file: MiaFileKind;
  readonly path: JsonPath;
  readonly message: string;
  readonly kind: 'unknown' | 'invalid';
  readonly hint?: string;
}

export interface MiaInput {
  /** Parsed files (absent when the view does not import it). */
  readonly erSchema?: unknown;
  readonly aggregation?: unknown;
  readonly key?: unknown;
  /** Relation names declared in YAML (when the ER schema is not imported). */
  readonly yamlRelations: readonly RelationConfig[];
  /** `base` from YAML, for a key file without an aggregation file. */
  readonly base?: string;
  /** Declared `fastData.functions`. */
  readonly functions: readonly string[];
}

export interface MiaOutput {
  readonly relations?: RelationConfig[];
  readonly aggregation?: AggregationConfig;
  readonly key?: Record<string, string>;
  readonly base?: string;
  readonly onStates?: readonly string[];
  readonly problems: readonly MiaProblem[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): [string, unknown][] => (isObject(v) ? Object.entries(v) : []);

const CONSTANT = /^__(string|integer|boolean|constant)__\[(.*)\]$/s;
const FROM_FILE = /^__fromFile__\[(.+)\]$/s;

/** The value of a Mia constant, `undefined` when `text` is not one; throws on a malformed one. */
export function miaConstant(text: string): { value: unknown } | undefined {
  const m = CONSTANT.exec(text);
  if (m === null) return undefined;
  const [, type, raw = ''] = m;
  if (type === 'integer') {
    if (!/^-?\d+$/.test(raw)) throw new Error(`"${text}" is not an integer constant`);
    return { value: Number.parseInt(raw, 10) };
  }
  if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new Error(`"${text}" is not a boolean constant (true or false)`);
    return { value: raw === 'true' };
  }
  return { value: raw };
}

/** Converts the Mia files of one view. */
export function importMiaView(input: MiaInput): MiaOutput {
  const problems: MiaProblem[] = [];
  const problem = (file: MiaFileKind, path: JsonPath, message: string, kind: MiaProblem['kind'] = 'invalid', hint?: string): void => {
    problems.push({ file, path, message, kind, ...(hint === undefined ? {} : { hint }) });
  };
  const constant = (file: MiaFileKind, path: JsonPath, text: string): { value: unknown } | undefined => {
    try {
      return miaConstant(text);
    } catch (error) {
      problem(file, path, (error as Error).message);
      return { value: null };
    }
  };

  // --- ER schema -> relations ---------------------------------------------------------------------------
  let relations: RelationConfig[] | undefined;
  if (input.erSchema !== undefined) {
    relations = [];
    if (!isObject(input.erSchema) || !isObject(input.erSchema.config)) problem('erSchema', [], 'an ER schema is { "version": "1.0.0", "config": { <projection>: { "outgoing": { ... } } } }');
    for (const [p, source] of entries(isObject(input.erSchema) ? input.erSchema.config : undefined)) {
      for (const [q, target] of entries(isObject(source) ? source.outgoing : undefined)) {
        for (const [name, spec] of entries(isObject(target) ? target.conditions : undefined)) {
          const at: JsonPath = ['config', p, 'outgoing', q, 'conditions', name, 'condition'];
          const from: string[] = [];
          const to: string[] = [];
          const where: Record<string, unknown> = {};
          const walk = (condition: unknown, path: JsonPath): void => {
            for (const [k, v] of entries(condition)) {
              if (k === '$and' && Array.isArray(v)) v.forEach((c, i) => walk(c, [...path, k, i]));
              else if (k.startsWith('$')) problem('erSchema', [...path, k], `operator "${k}" is not supported in a condition (field equalities, constants and $and are)`, 'invalid', 'split the condition into one condition per alternative');
              else if (typeof v === 'string') {
                const c = constant('erSchema', [...path, k], v);
                if (c !== undefined) where[`${q}.${k}`] = c.value;
                else {
                  from.push(`${p}.${v}`);
                  to.push(`${q}.${k}`);
                }
              } else where[`${q}.${k}`] = v; // a literal or an operator object on the destination field
            }
          };
          walk(isObject(spec) ? spec.condition : undefined, at);
          if (from.length === 0) problem('erSchema', at, `condition "${name}" has no field equality ("<${q} field>": "<${p} field>")`);
          else if (relations.some((r) => r.name === name)) problem('erSchema', ['config', p, 'outgoing', q, 'conditions', name], `condition "${name}" is declared twice`);
          else relations.push({ name, from: from.length === 1 ? from[0]! : from, to: to.length === 1 ? to[0]! : to, ...(Object.keys(where).length > 0 ? { where } : {}) });
        }
      }
    }
  }
  const known = relations ?? input.yamlRelations;
  const relationEnds = (name: string): { p: string; q: string } | undefined => {
    const r = known.find((x) => x.name === name);
    if (r === undefined) return undefined;
    const first = (refs: RelationConfig['from']): string => (typeof refs === 'string' ? refs : (refs[0] ?? '')).split('.')[0] ?? '';
    return { p: first(r.from), q: first(r.to) };
  };

  // --- aggregation -> aggregation tree ---------------------------------------------------------------------
  let aggregation: AggregationConfig | undefined;
  let base = input.base;
  let onStates: readonly string[] | undefined;
  const identifierFields: Record<string, string> = {};
  const configs = isObject(input.aggregation) && isObject(input.aggregation.config) ? input.aggregation.config : undefined;
  if (input.aggregation !== undefined) {
    if (configs === undefined || !isObject(configs.SV_CONFIG)) problem('aggregation', [], 'a Mia aggregation is { "version": "1.x", "config": { "SV_CONFIG": { "dependencies": ..., "mapping": ... } } }');
    else {
      const root = configs.SV_CONFIG;
      const rootDeps = isObject(root.dependencies) ? root.dependencies : {};
      const baseDep = Object.entries(rootDeps).find(([, d]) => isObject(d) && d.on === '_identifier');
      if (baseDep === undefined) problem('aggregation', ['config', 'SV_CONFIG', 'dependencies'], 'SV_CONFIG needs one projection dependency with "on": "_identifier" (the base)');
      else {
        const [baseName, baseSpec] = baseDep as [string, Json];
        base = typeof baseSpec.aliasOf === 'string' ? baseSpec.aliasOf : baseName;
        for (const [field, mapped] of entries(baseSpec.identifierQueryMapping)) {
          if (typeof mapped === 'string' && mapped.startsWith('_identifier.')) identifierFields[mapped.slice('_identifier.'.length)] = field;
        }
        const states = root.onStates ?? (input.aggregation as Json).onStates;
        if (Array.isArray(states)) onStates = states.map(String);
        aggregation = convertConfig('SV_CONFIG', { dep: baseName, projection: base }, []);
      }
    }
  }

  interface NodeRef {
    readonly dep: string;
    readonly projection: string;
  }

  function convertConfig(name: string, node: NodeRef, ancestors: readonly NodeRef[]): AggregationConfig {
    const cfg = (configs?.[name] ?? {}) as Json;
    const deps = isObject(cfg.dependencies) ? cfg.dependencies : {};
    const depsAt: JsonPath = ['config', name, 'dependencies'];
    const projectionOf = (dep: string): string => {
      const d = deps[dep];
      return isObject(d) && typeof d.aliasOf === 'string' ? d.aliasOf : dep;
    };
    for (const [dep, d] of Object.entries(deps)) {
      if (!isObject(d)) continue;
      if ('_select' in d) problem('aggregation', [...depsAt, dep, '_select'], `dependency "${dep}": a conditional dependency (_select) is not supported`, 'invalid', 'use a _select in the mapping over two dependencies instead');
      else if (d.type === 'projection' && typeof d.on === 'string' && d.on !== '_identifier' && relationEnds(d.on) === undefined) {
        problem('aggregation', [...depsAt, dep, 'on'], `dependency "${dep}" uses condition "${d.on}", which the ER schema does not declare`, 'unknown');
      } else if (d.type === 'config' && !isObject(configs?.[dep])) problem('aggregation', [...depsAt, dep], `config dependency "${dep}" has no configuration under "config"`, 'unknown');
    }
    // The join that reaches a 1:1 projection dependency from the node, wrapping `inner` (its value).
    const reach = (dep: string, inner: AggregationEntry, path: JsonPath, seen: readonly string[] = []): AggregationEntry | undefined => {
      if (dep === node.dep) return inner;
      const ancestor = ancestors.find((a) => a.dep === dep);
      if (ancestor !== undefined) {
        if (typeof inner === 'string') return inner;
        problem('aggregation', path, `"${dep}" belongs to an enclosing configuration; joins from it are not supported here`);
        return undefined;
      }
      const d = deps[dep];
      if (!isObject(d) || d.type !== 'projection') {
        problem('aggregation', path, `"${dep}" is not a projection dependency of "${name}"`, 'unknown');
        return undefined;
      }
      if (typeof d.on !== 'string' || d.on === '_identifier') {
        problem('aggregation', path, `dependency "${dep}" must be joined through an ER schema condition here`);
        return undefined;
      }
      const ends = relationEnds(d.on);
      if (ends === undefined || seen.includes(dep)) return undefined; // reported with the dependency
      const projection = projectionOf(dep);
      const parent = typeof d.useAlias === 'string' ? d.useAlias : ends.p === node.projection ? node.dep : (Object.keys(deps).find((k) => k !== dep && projectionOf(k) === ends.p) ?? ancestors.find((a) => a.projection === ends.p)?.dep ?? node.dep);
      return reach(parent, { from: projection, via: d.on, value: inner }, path, [...seen, dep]);
    };
    const fieldRef = (text: string, path: JsonPath): AggregationEntry | undefined => {
      const dot = text.indexOf('.');
      const dep = text.slice(0, dot);
      const projection = dep === node.dep ? node.projection : (ancestors.find((a) => a.dep === dep)?.projection ?? projectionOf(dep));
      return reach(dep, `${projection}.${text.slice(dot + 1)}`, path);
    };
    const value = (raw: unknown, path: JsonPath): AggregationEntry | undefined => {
      if (typeof raw === 'string') {
        const c = constant('aggregation', path, raw);
        if (c !== undefined) return { const: c.value };
        const fn = FROM_FILE.exec(raw)?.[1];
        if (fn !== undefined) {
          if (!input.functions.includes(fn)) problem('aggregation', path, `function "${fn}" is not declared in fastData.functions`, 'unknown', `declare it: fastData.functions.${fn}: { module: ./functions.js, export: ${fn} }`);
          return { fn };
        }
        if (raw.includes('.')) return fieldRef(raw, path);
        const sub = deps[raw];
        if (!isObject(sub) || sub.type !== 'config' || !isObject(configs?.[raw])) {
          problem('aggregation', path, `"${raw}" is neither DEPENDENCY.field, a config dependency, a constant nor __fromFile__[fn]`, 'unknown');
          return undefined;
        }
        const subCfg = configs![raw] as Json;
        const join = subCfg.joinDependency;
        if (typeof join !== 'string') return { fields: convertConfig(raw, node, ancestors) };
        const joinSpec = isObject(subCfg.dependencies) ? subCfg.dependencies[join] : undefined;
        if (!isObject(joinSpec) || typeof joinSpec.on !== 'string') {
          problem('aggregation', ['config', raw, 'joinDependency'], `joinDependency "${join}" is not a projection dependency of "${raw}" joined through a condition`, 'unknown');
          return undefined;
        }
        const projection = typeof joinSpec.aliasOf === 'string' ? joinSpec.aliasOf : join;
        const fields = convertConfig(raw, { dep: join, projection }, [...ancestors, node]);
        if (relationEnds(joinSpec.on) === undefined) return undefined;
        return { from: projection, via: joinSpec.on, many: true, fields };
      }
      if (isObject(raw) && isObject(raw._select)) {
        const sel = raw._select;
        const operand = (o: unknown, at: JsonPath): SelectValue | undefined => {
          const v = value(o, at);
          if (v === undefined || typeof v === 'string' || 'const' in v || 'fn' in v) return v as SelectValue | undefined;
          problem('aggregation', at, 'a _select operand or value must be a field of the node, of an enclosing dependency, or a constant');
          return undefined;
        };
        const options = (Array.isArray(sel.options) ? sel.options : []).flatMap((o: unknown, i: number) => {
          const at: JsonPath = [...path, '_select', 'options', i];
          const [op, operands] = entries(isObject(o) ? o.when : undefined)[0] ?? [];
          if (op === undefined || !Array.isArray(operands) || operands.length !== 2) {
            problem('aggregation', [...at, 'when'], 'a condition is { "<op>": [a, b] } with ==, !=, >, <, >= or <=');
            return [];
          }
          const left = operand(operands[0], [...at, 'when', op, 0]);
          const right = operand(operands[1], [...at, 'when', op, 1]);
          const v = operand(isObject(o) ? o.value : undefined, [...at, 'value']);
          return left === undefined || right === undefined || v === undefined ? [] : [{ when: { [op]: [left, right] as const }, value: v }];
        });
        const otherwise = sel.default === undefined ? undefined : operand(sel.default, [...path, '_select', 'default']);
        return { select: options, ...(otherwise === undefined ? {} : { default: otherwise }) };
      }
      if (isObject(raw)) {
        const fields: Record<string, AggregationEntry> = {};
        for (const [k, v] of Object.entries(raw)) {
          const e = value(v, [...path, k]);
          if (e !== undefined) fields[k] = e;
        }
        return { fields };
      }
      problem('aggregation', path, 'a mapping value is a string, a nested object or a { "_select": ... }');
      return undefined;
    };
    const out: Record<string, AggregationEntry> = {};
    for (const [field, raw] of entries(cfg.mapping)) {
      const e = value(raw, ['config', name, 'mapping', field]);
      if (e !== undefined) out[field] = e;
    }
    return out;
  }

  // --- singleViewKey.json -> key -----------------------------------------------------------------------------
  let key: Record<string, string> | undefined;
  if (input.key !== undefined) {
    const cfg = isObject(input.key) ? input.key.config : undefined;
    if (!isObject(cfg) || Object.keys(cfg).length === 0) problem('key', [], 'singleViewKey.json is { "version": "1.0.0", "config": { "<SV field>": "<identifier field>" } }');
    else if (base === undefined) problem('key', [], 'the base projection is unknown: import the aggregation file too, or set base:');
    else {
      key = {};
      for (const [svField, identField] of Object.entries(cfg)) {
        if (typeof identField !== 'string') problem('key', ['config', svField], 'an identifier field name is expected');
        else key[svField] = `${base}.${identifierFields[identField] ?? identField}`;
      }
    }
  }
  return { ...(relations ? { relations } : {}), ...(aggregation ? { aggregation } : {}), ...(key ? { key } : {}), ...(base !== undefined && input.aggregation !== undefined ? { base } : {}), ...(onStates ? { onStates } : {}), problems };
}
