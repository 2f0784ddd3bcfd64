/**
 * Indexes the engine needs, created idempotently at start (fast-data.md §3.5): per projection the unique
 * primary key (`mia_primary_key_index`), the counter indexes, PK + `__STATE__`, every field used by a
 * relation and the declared `indexes`; per single view a unique index on its key fields.
 */
import type { IndexSpec } from '../ports/document-store.js';
import type { CompiledProjection } from './mapping.js';
import type { CompiledView } from './single-view/model.js';

const keyOf = (fields: readonly string[], extra: readonly string[] = []): Record<string, 1> => Object.fromEntries([...fields, ...extra].map((f) => [f, 1 as const]));

/** Indexes of one projection, given the views (for relation fields). */
export function projectionIndexes(p: CompiledProjection, views: readonly CompiledView[]): IndexSpec[] {
  const specs: IndexSpec[] = [
    { name: 'mia_primary_key_index', key: keyOf(p.primaryKey), unique: true },
    { name: 'mia_internal_counter_index', key: keyOf(p.primaryKey, ['__internal__counter', '__internal__counterType']) },
    { name: 'mia_internal_counter_type_index', key: keyOf(p.primaryKey, ['__internal__counterType']) },
    { name: 'mia_state_index', key: keyOf(p.primaryKey, ['__STATE__']) },
  ];
  const seen = new Set<string>();
  for (const view of views) {
    for (const r of view.config.relations ?? []) {
      for (const refs of [r.from, r.to]) {
        const list = typeof refs === 'string' ? [refs] : refs;
        const fields = list.filter((ref) => ref.startsWith(`${p.name}.`)).map((ref) => ref.slice(p.name.length + 1));
        const name = `fd_rel_${fields.join('_')}`;
        if (fields.length === 0 || seen.has(name) || fields.join() === p.primaryKey.join()) continue;
        seen.add(name);
        specs.push({ name, key: keyOf(fields) });
      }
    }
  }
  for (const [i, index] of (p.config.indexes ?? []).entries()) specs.push({ name: index.name ?? `fd_index_${i}`, key: index.fields });
  return specs;
}

/** The unique key index of a single view collection. */
export function viewIndexes(view: CompiledView): IndexSpec[] {
  return [{ name: 'mia_sv_key_index', key: keyOf(Object.keys(view.key)), unique: true }];
}
