/**
 * Rules for `fastData:` (fast-data.md §2-§5), each with a position and a "did you mean": casts that are
 * neither built-in nor declared, topics not declared in `bus.topics`, primary keys not among the fields,
 * field names that collide with metadata, unknown databases, custom formats without an adapter, and single
 * views referencing unknown projections, fields, relations or functions.
 */
import { didYouMean } from '../diagnostics.js';
import type { Path } from '../locate.js';
import { BUILTIN_CAST_NAMES, type AggregationConfig, type AggregationEntry, type FieldRefs, type SelectValue, type SingleViewConfig } from '../sections/fast-data.js';
import type { Diagnostic } from '../types.js';
import { withChainedViews } from './fast-data-topics.js';
import type { ConfigRule, RuleContext } from './rule.js';

const METADATA = ['__STATE__', 'createdAt', 'updatedAt', 'timestamp', '__internal__counter', '__internal__counterType', '__internal__kafkaInfo'];

type Report = (path: Path, message: string, extra?: { hint?: string; code?: Diagnostic['code']; severity?: 'warning'; target?: 'key' }) => void;

function reporter(ctx: RuleContext, out: Diagnostic[]): Report {
  return (path, message, extra = {}) => {
    out.push(ctx.report({ code: extra.code ?? 'MR_CONFIG_UNKNOWN_REF', path, message, ...(extra.hint ? { hint: extra.hint } : {}), ...(extra.severity ? { severity: extra.severity } : {}), ...(extra.target ? { target: extra.target } : {}) }));
  };
}

function checkSystems(ctx: RuleContext, report: Report, fields: Map<string, string[]>): void {
  const fd = ctx.config.fastData ?? {};
  const topics = Object.keys(ctx.config.bus.topics);
  const databases = Object.keys(ctx.config.databases);
  const casts = [...BUILTIN_CAST_NAMES, ...Object.keys(fd.casts ?? {})];
  for (const [sorName, sor] of Object.entries(fd.systemsOfRecord ?? {})) {
    const at: Path = ['fastData', 'systemsOfRecord', sorName];
    if (sor.format === 'custom' && sor.adapter === undefined) report([...at, 'format'], `system of record "${sorName}" has format custom but no adapter`, { code: 'MR_CONFIG_INVALID_VALUE', hint: 'add adapter: { module: ./adapter.js, export: messageAdapter }' });
    if (sor.database !== undefined && !databases.includes(sor.database)) report([...at, 'database'], `database "${sor.database}" is not declared${didYouMean(sor.database, databases)}`);
    for (const [name, p] of Object.entries(sor.projections)) {
      const pAt: Path = [...at, 'projections', name];
      if (fields.has(name)) report(pAt, `projection "${name}" is declared twice`, { code: 'MR_CONFIG_DUPLICATE', target: 'key' });
      if (p.external === undefined && !topics.includes(p.topic)) report([...pAt, 'topic'], `topic "${p.topic}" is not declared in bus.topics${didYouMean(p.topic, topics)}`, { hint: 'declare it under bus.topics so it exists on every backend' });
      const names = p.fields.map((f) => f.name);
      fields.set(name, names);
      p.fields.forEach((f, i) => {
        if (f.cast !== undefined && !casts.includes(f.cast)) report([...pAt, 'fields', i, 'cast'], `cast "${f.cast}" is neither built-in nor declared in fastData.casts${didYouMean(f.cast, casts)}`);
        if (METADATA.includes(f.name.split('.')[0]!)) report([...pAt, 'fields', i, 'name'], `field "${f.name}" collides with the metadata field of the same name`, { code: 'MR_CONFIG_INVALID_VALUE' });
        if (names.indexOf(f.name) !== i) report([...pAt, 'fields', i, 'name'], `field "${f.name}" is declared twice`, { code: 'MR_CONFIG_DUPLICATE' });
      });
      p.primaryKey.forEach((k, i) => {
        if (!names.includes(k)) report([...pAt, 'primaryKey', i], `primary key "${k}" is not among the fields of "${name}"${didYouMean(k, names)}`);
      });
    }
  }
}

function refList(refs: FieldRefs): readonly string[] {
  return typeof refs === 'string' ? [refs] : refs;
}

function checkView(ctx: RuleContext, report: Report, name: string, view: SingleViewConfig, fields: Map<string, string[]>): void {
  const at: Path = ['fastData', 'singleViews', name];
  const projections = [...fields.keys()];
  const known = (p: string): string[] => [...(fields.get(p) ?? []), ...METADATA];
  const checkRef = (ref: string, path: Path, only?: string): string | undefined => {
    const dot = ref.indexOf('.');
    const projection = dot < 0 ? '' : ref.slice(0, dot);
    const field = ref.slice(dot + 1);
    if (!fields.has(projection)) {
      report(path, `"${ref}" does not name a projection${didYouMean(projection, projections)}`, { hint: 'write projection.field' });
      return undefined;
    }
    if (only !== undefined && projection !== only) report(path, `"${ref}" must be a field of "${only}" here`);
    else if (!known(projection).includes(field)) report(path, `"${field}" is not a field of projection "${projection}"${didYouMean(field, known(projection))}`);
    return projection;
  };
  const databases = Object.keys(ctx.config.databases);
  if (view.database !== undefined && !databases.includes(view.database)) report([...at, 'database'], `database "${view.database}" is not declared${didYouMean(view.database, databases)}`);
  if (fields.has(name)) report(at, `single view "${name}" has the name of a projection (endpoint targets would be ambiguous)`, { code: 'MR_CONFIG_DUPLICATE', target: 'key' });
  const keyProjections = Object.entries(view.key).map(([k, ref]) => checkRef(ref, [...at, 'key', k]));
  const base = view.base ?? keyProjections[0];
  if (view.base !== undefined && !fields.has(view.base)) report([...at, 'base'], `base "${view.base}" is not a projection${didYouMean(view.base, projections)}`);
  if (base === undefined || !fields.has(base)) return;
  Object.entries(view.key).forEach(([k, ref], i) => {
    if (keyProjections[i] !== undefined && keyProjections[i] !== base) report([...at, 'key', k], `key field "${ref}" is not a field of the base projection "${base}"`);
  });
  const relations = view.relations ?? [];
  relations.forEach((r, i) => {
    const from = refList(r.from).map((ref, j) => checkRef(ref, [...at, 'relations', i, 'from', ...(typeof r.from === 'string' ? [] : [j])]));
    const to = refList(r.to).map((ref, j) => checkRef(ref, [...at, 'relations', i, 'to', ...(typeof r.to === 'string' ? [] : [j])]));
    if (from.length !== to.length) report([...at, 'relations', i], `relation has ${from.length} "from" field(s) and ${to.length} "to" field(s)`, { code: 'MR_CONFIG_INVALID_VALUE' });
  });
  const linked = (a: string, b: string, via?: string): boolean =>
    relations.some((r) => (via === undefined || r.name === via) && [refList(r.from)[0]?.split('.')[0], refList(r.to)[0]?.split('.')[0]].sort().join() === [a, b].sort().join());
  const functions = Object.keys(ctx.config.fastData?.functions ?? {});
  const checkFn = (fn: string, path: Path): void => {
    if (!functions.includes(fn)) report(path, `function "${fn}" is not declared in fastData.functions${didYouMean(fn, functions)}`);
  };
  // A field reference: `field` of the node's projection, or `projection.field` of the node or an ancestor.
  const checkField = (entry: string, projection: string, ancestors: readonly string[], path: Path, top: boolean): void => {
    const owner = entry.includes('.') ? entry.slice(0, entry.indexOf('.')) : '';
    if (owner !== '' && ancestors.includes(owner)) checkRef(entry, path, owner);
    else if (top || entry.includes('.')) checkRef(entry.includes('.') ? entry : `${projection}.${entry}`, path, projection);
    else if (!known(projection).includes(entry)) report(path, `"${entry}" is not a field of projection "${projection}"${didYouMean(entry, known(projection))}`);
  };
  const checkValue = (value: SelectValue, projection: string, ancestors: readonly string[], path: Path, top: boolean): void => {
    if (typeof value === 'string') checkField(value, projection, ancestors, path, top);
    else if ('fn' in value) checkFn(value.fn, [...path, 'fn']);
  };
  const walkEntry = (entry: AggregationEntry, projection: string, ancestors: readonly string[], fAt: Path, top: boolean): void => {
    if (typeof entry === 'string') checkField(entry, projection, ancestors, fAt, top);
    else if ('from' in entry) {
      if (!fields.has(entry.from)) {
        report([...fAt, 'from'], `"${entry.from}" is not a projection${didYouMean(entry.from, projections)}`);
        return;
      }
      if (entry.via !== undefined && !relations.some((r) => r.name === entry.via)) report([...fAt, 'via'], `relation "${entry.via}" is not declared${didYouMean(entry.via, relations.map((r) => r.name ?? ''))}`);
      else if (!linked(projection, entry.from, entry.via)) report([...fAt, 'from'], `no relation links "${projection}" and "${entry.from}"`, { hint: `add to relations: { from: ${entry.from}.<field>, to: ${projection}.<field> }` });
      if ((entry.fields === undefined) === (entry.value === undefined)) report(fAt, 'a join needs exactly one of "fields" (objects) and "value" (one value per joined record)', { code: 'MR_CONFIG_INVALID_VALUE' });
      if (entry.fields !== undefined) walk(entry.fields, entry.from, [...ancestors, projection], [...fAt, 'fields'], false);
      if (entry.value !== undefined) walkEntry(entry.value, entry.from, [...ancestors, projection], [...fAt, 'value'], false);
    } else if ('select' in entry) {
      entry.select.forEach((option, i) => {
        const [op, operands] = Object.entries(option.when)[0] ?? [];
        if (op === undefined || !['==', '!=', '>', '<', '>=', '<='].includes(op) || Object.keys(option.when).length !== 1) report([...fAt, 'select', i, 'when'], 'a condition is one of ==, !=, >, <, >=, <= with two operands', { code: 'MR_CONFIG_INVALID_VALUE' });
        else operands?.forEach((o, j) => checkValue(o, projection, ancestors, [...fAt, 'select', i, 'when', op, j], top));
        checkValue(option.value, projection, ancestors, [...fAt, 'select', i, 'value'], top);
      });
      if (entry.default !== undefined) checkValue(entry.default, projection, ancestors, [...fAt, 'default'], top);
    } else if ('fields' in entry) walk(entry.fields, projection, ancestors, [...fAt, 'fields'], top);
    else if ('fn' in entry) checkFn(entry.fn, [...fAt, 'fn']);
  };
  const walk = (aggregation: AggregationConfig, projection: string, ancestors: readonly string[], path: Path, top: boolean): void => {
    for (const [field, entry] of Object.entries(aggregation)) walkEntry(entry, projection, ancestors, [...path, field], top);
  };
  relations.forEach((r, i) => {
    const sides = [refList(r.from)[0]?.split('.')[0], refList(r.to)[0]?.split('.')[0]];
    for (const ref of Object.keys(r.where ?? {})) {
      const owner = ref.split('.')[0] ?? '';
      if (!sides.includes(owner)) report([...at, 'relations', i, 'where', ref], `"${ref}" must be a field of "${sides[0]}" or "${sides[1]}" (write projection.field)`, { target: 'key' });
      else if (!known(owner).includes(ref.slice(owner.length + 1).split('.')[0]!)) report([...at, 'relations', i, 'where', ref], `"${ref.slice(owner.length + 1)}" is not a field of projection "${owner}"`, { target: 'key' });
    }
  });
  if (view.validator !== undefined) checkFn(view.validator, [...at, 'validator']);
  for (const [projection, strategy] of Object.entries(view.strategies ?? {})) {
    if (!fields.has(projection)) report([...at, 'strategies', projection], `"${projection}" is not a projection${didYouMean(projection, projections)}`, { target: 'key' });
    checkFn(strategy.fn, [...at, 'strategies', projection, 'fn']);
  }
  walk(view.aggregation, base, [], [...at, 'aggregation'], true);
  const topic = view.publish?.topic;
  const topics = Object.keys(ctx.config.bus.topics);
  if (topic !== undefined && !topics.includes(topic)) report([...at, 'publish', 'topic'], `topic "${topic}" is not declared in bus.topics${didYouMean(topic, topics)}`);
  const dlq = view.deadLetter?.topic;
  if (dlq !== undefined && !topics.includes(dlq)) report([...at, 'deadLetter', 'topic'], `topic "${dlq}" is not declared in bus.topics${didYouMean(dlq, topics)}`);
}

export const fastDataReferences: ConfigRule = {
  name: 'fast-data-references',
  check: (ctx) => {
    const out: Diagnostic[] = [];
    const report = reporter(ctx, out);
    const fields = new Map<string, string[]>();
    checkSystems(ctx, report, fields);
    for (const [name, view] of Object.entries(ctx.config.fastData?.singleViews ?? {})) checkView(ctx, report, name, view, withChainedViews(ctx.config.fastData, fields, name));
    return out;
  },
};

export const fastDataRules: readonly ConfigRule[] = [fastDataReferences];
