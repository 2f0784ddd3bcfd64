/**
 * The Fast Data operations outside a running process (the `mia-run fast-data` CLI acting directly on the
 * backends of the descriptor): everything but `load` and `replay`, which move a live consumer. `refresh`
 * loads the descriptor's functions (aggregation functions, validators) and recomputes views here.
 */
import type { ProjectConfig } from '../../config/types.js';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import { isDocumentStore, type DocumentStore } from '../../ports/document-store.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { Backend } from '../../ports/lifecycle.js';
import type { Logger } from '../../ports/logger.js';
import { loadHooks } from '../hooks.js';
import type { AggregationFn } from '../single-view/aggregate.js';
import { compileView } from '../single-view/model.js';
import { recompute, type ValidatorFn } from '../single-view/writer.js';
import { createFastDataOperations, type FastDataOperations } from './index.js';
import { fastDataTargets, type FastDataTargets } from './targets.js';

/** Databases the fast-data operations of `config` read or write (`default` always: control and journal). */
export function fastDataDatabases(config: ProjectConfig): string[] {
  const fd = config.fastData ?? {};
  const names = new Set(['default']);
  for (const sor of Object.values(fd.systemsOfRecord ?? {})) names.add(sor.database ?? 'default');
  for (const view of Object.values(fd.singleViews ?? {})) names.add(view.database ?? 'default');
  return [...names];
}

/** The targets of a descriptor (for resolving names before opening anything). */
export function targetsOf(config: ProjectConfig): FastDataTargets {
  return fastDataTargets(config.name, config.fastData);
}

/** Operations over opened backends (`stores` by database name). */
export function standaloneOperations(config: ProjectConfig, stores: ReadonlyMap<string, Backend>, bus: EventBus, clock: Clock, logger: Logger): FastDataOperations {
  const targets = targetsOf(config);
  const store = (database: string): DocumentStore => {
    const s = stores.get(database);
    if (s === undefined || !isDocumentStore(s)) throw new MiaRunError('MR_FD_OPERATION_UNAVAILABLE', `database "${database}" is not open as a document store`);
    return s;
  };
  let functions: Promise<Map<string, AggregationFn>> | undefined;
  const views = new Map(Object.entries(config.fastData?.singleViews ?? {}).map(([name, v]) => [name, compileView(name, v)]));
  const projection = (name: string) => {
    const p = targets.projections.get(name);
    if (p !== undefined) return { collection: store(p.database).collection(p.collection), primaryKey: p.primaryKey };
    const v = targets.views.get(name);
    if (v !== undefined) return { collection: store(v.database).collection(v.collection), primaryKey: Object.keys(views.get(name)?.key ?? {}) };
    throw new MiaRunError('MR_FD_UNKNOWN_NAME', `"${name}" is not a projection`);
  };
  const loaded = new Map<string, AggregationFn>();
  const ops = createFastDataOperations({
    targets,
    store,
    bus,
    clock,
    writer: (name) => {
      const view = views.get(name);
      const target = targets.views.get(name);
      if (view === undefined || target === undefined) throw new MiaRunError('MR_FD_UNKNOWN_NAME', `"${name}" is not a single view`);
      const validator = view.config.validator === undefined ? undefined : (loaded.get(view.config.validator) as unknown as ValidatorFn | undefined);
      return {
        view,
        deps: {
          projection, functions: loaded, logger: logger.child({ view: name }), collection: store(target.database).collection(target.collection),
          now: () => new Date(clock.now()), origin: config.name, ...(validator === undefined ? {} : { validator }),
        },
      };
    },
    recompute,
  });
  return {
    ...ops,
    async refresh(name) {
      // Functions are loaded once, before the first refresh (the writer reads them synchronously).
      functions ??= loadHooks<AggregationFn>(config.fastData?.functions, config.sourceFile, 'function');
      for (const [k, fn] of await functions) loaded.set(k, fn);
      return ops.refresh(name);
    },
  };
}
