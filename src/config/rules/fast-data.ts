/**
 * Rules for `fastData:` (fast-data.md §2-§5), each with a position and a "did you mean": casts that are
 * neither built-in nor declared, topics not declared in `bus.topics`, primary keys not among the fields,
 * field names that collide with metadata, unknown databases, custom formats without an adapter, and single
 * views referencing unknown projections, fields, relations or functions.
 */
import { didYouMean } from '../diagnostics.js';
import type { Path } from '../locate.js';
import { BUILTIN_CAST_NAMES, type AggregationConfig, type FieldRefs, type SingleViewConfig } from '../sections/fast-data.js';
import type { Diagnostic } from '../types.js';
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
      if (!topics.includes(p.topic)) report([...pAt, 'topic'], `topic "${p.topic}" is not declared in bus.topics${didYouMean(p.topic, topics)}`, { hint: 'declare it under bus.topics so it exists on every backend' });
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
  const walk = (aggregation: AggregationConfig, projection: string, path: Path, top: boolean): void => {
    for (const [field, entry] of Object.entries(aggregation)) {
      const fAt: Path = [...path, field];
      if (typeof entry === 'string') {
        if (top || entry.includes('.')) checkRef(entry.includes('.') ? entry : `${projection}.${entry}`, fAt, projection);
        else if (!known(projection).includes(entry)) report(fAt, `"${entry}" is not a field of projection "${projection}"${didYouMean(entry, known(projection))}`);
      } else if ('from' in entry) {
        if (!fields.has(entry.from)) {
          report([...fAt, 'from'], `"${entry.from}" is not a projection${didYouMean(entry.from, projections)}`);
          continue;
        }
        if (entry.via !== undefined && !relations.some((r) => r.name === entry.via)) report([...fAt, 'via'], `relation "${entry.via}" is not declared${didYouMean(entry.via, relations.map((r) => r.name ?? ''))}`);
        else if (!linked(projection, entry.from, entry.via)) report([...fAt, 'from'], `no relation links "${projection}" and "${entry.from}"`, { hint: `add to relations: { from: ${entry.from}.<field>, to: ${projection}.<field> }` });
        walk(entry.fields, entry.from, [...fAt, 'fields'], false);
      } else if ('fn' in entry && !functions.includes(entry.fn)) {
        report([...fAt, 'fn'], `function "${entry.fn}" is not declared in fastData.functions${didYouMean(entry.fn, functions)}`);
      }
    }
  };
  walk(view.aggregation, base, [...at, 'aggregation'], true);
  const topic = view.publish?.topic;
  const topics = Object.keys(ctx.config.bus.topics);
  if (topic !== undefined && !topics.includes(topic)) report([...at, 'publish', 'topic'], `topic "${topic}" is not declared in bus.topics${didYouMean(topic, topics)}`);
}

export const fastDataReferences: ConfigRule = {
  name: 'fast-data-references',
  check: (ctx) => {
    const out: Diagnostic[] = [];
    const report = reporter(ctx, out);
    const fields = new Map<string, string[]>();
    checkSystems(ctx, report, fields);
    for (const [name, view] of Object.entries(ctx.config.fastData?.singleViews ?? {})) checkView(ctx, report, name, view, fields);
    return out;
  },
};

export const fastDataRules: readonly ConfigRule[] = [fastDataReferences];
