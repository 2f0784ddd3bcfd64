/**
 * Indexes on collections mia-run reads but does not own as projections (fast-data.md §3.5, §4): an
 * external projection (written by a Mia Real-Time Updater, which owns its key and counter indexes) and a
 * view read by other views (SV chaining) get only the relation-field indexes the readers' strategies and
 * joins use, so neither walks a collection scan.
 */
import type { IndexSpec } from '../../ports/document-store.js';
import type { CompiledView } from '../single-view/model.js';

/** `fd_rel_<fields>` indexes of collection `name` for the relations of `readers` (its primary key excluded). */
export function relationIndexes(name: string, primaryKey: readonly string[], readers: readonly CompiledView[]): IndexSpec[] {
  const specs: IndexSpec[] = [];
  const seen = new Set<string>();
  for (const view of readers) {
    for (const r of view.config.relations ?? []) {
      for (const refs of [r.from, r.to]) {
        const fields = (typeof refs === 'string' ? [refs] : refs).filter((ref) => ref.startsWith(`${name}.`)).map((ref) => ref.slice(name.length + 1));
        const index = `fd_rel_${fields.join('_')}`;
        if (fields.length === 0 || seen.has(index) || fields.join() === primaryKey.join()) continue;
        seen.add(index);
        specs.push({ name: index, key: Object.fromEntries(fields.map((f) => [f, 1 as const])) });
      }
    }
  }
  return specs;
}
