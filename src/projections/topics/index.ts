/**
 * Change events between stages (fast-data.md §4), wired for the projections capability: pr-update
 * emission after projection writes, sv-trigger emission for views computed elsewhere, sv-update v1, SV
 * chaining, and the consumers of pr-update and sv-trigger topics. The capability passes `recompute`,
 * `bus` and `stageEvents` to its ingestion handlers and starts `subscribe()` with them.
 *
 * @example
 * const interop = createInterop({ project, fastData, views, viewsOf, svDeps, recompute, bus, collectionOf, now, metrics });
 * createIngestHandler({ ...deps, recompute: interop.recompute, bus: interop.bus, stageEvents: interop.stageEvents });
 * subscriptions.push(...(await interop.subscribe()));
 */
import type { FastDataConfig } from '../../config/sections/fast-data.js';
import type { Collection } from '../../ports/document-store.js';
import type { EventBus, Subscription } from '../../ports/event-bus.js';
import type { MetricEmitter } from '../../ports/telemetry.js';
import type { CompiledView } from '../single-view/model.js';
import type { WriterDeps } from '../single-view/writer.js';
import { subscribeConsumers, type ConsumerPause, type ExternalProjection } from './consumers.js';
import { createStageEvents, type StageEvents, type StageProjection } from './stage-events.js';
import { createViewRunner, type RecomputeFn } from './view-runner.js';

export { CHAIN_TOPIC_PREFIX } from './view-runner.js';
export { relationIndexes } from './indexes.js';
export type { StageEvents } from './stage-events.js';

export interface InteropDeps {
  readonly project: string;
  readonly fastData: FastDataConfig;
  readonly views: readonly CompiledView[];
  /** Views reading a projection or, for chaining, a view. */
  readonly viewsOf: (projection: string) => readonly CompiledView[];
  readonly svDeps: (view: CompiledView) => WriterDeps & { readonly collection: Collection };
  readonly recompute: RecomputeFn;
  readonly bus: EventBus;
  readonly collectionOf: (projection: string) => Collection;
  readonly now: () => number;
  readonly metrics: MetricEmitter;
}

export interface Interop {
  /** For the ingestion handler: views with `triggers.publish` answer with an sv-trigger instead of computing. */
  readonly recompute: RecomputeFn;
  /** For the ingestion handler's view events: sv-update v1 encoding and in-process chaining. */
  readonly bus: Pick<EventBus, 'publish'>;
  /** For the ingestion handler, one per batch: pr-updates after the projection writes. */
  readonly stageEvents: () => StageEvents;
  /** Starts the pr-update and sv-trigger consumers (none when the descriptor declares none); `pause` holds paused ones. */
  subscribe(pause?: ConsumerPause): Promise<Subscription[]>;
}

/** True when a projection is written by someone else and consumed as pr-update (`external`). */
export const isExternal = (fastData: FastDataConfig, projection: string): boolean =>
  Object.values(fastData.systemsOfRecord ?? {}).some((sor) => sor.projections[projection]?.external !== undefined);

/** Wires the change events of one project. No I/O until a handler runs or `subscribe()`. */
export function createInterop(deps: InteropDeps): Interop {
  const projections = new Map<string, StageProjection>();
  const external: ExternalProjection[] = [];
  for (const [sor, config] of Object.entries(deps.fastData.systemsOfRecord ?? {})) {
    for (const [name, p] of Object.entries(config.projections)) {
      const collection = deps.collectionOf(name);
      projections.set(name, { sor, collection, primaryKey: p.primaryKey, config: p });
      if (p.external !== undefined) external.push({ name, prUpdateTopic: p.external.prUpdateTopic, collection, primaryKey: p.primaryKey });
    }
  }
  const viewKey = new Map(deps.views.map((v) => [v.name, Object.keys(v.key)]));
  const runner = createViewRunner({
    views: deps.views,
    viewsOf: deps.viewsOf,
    svDeps: deps.svDeps,
    recompute: deps.recompute,
    bus: deps.bus,
    primaryKeyOf: (name) => projections.get(name)?.primaryKey ?? viewKey.get(name) ?? [],
    origin: deps.project,
    now: deps.now,
    metrics: deps.metrics,
  });
  return {
    recompute: runner.recompute(true),
    bus: runner.bus,
    stageEvents: createStageEvents({ projections, viewsOf: deps.viewsOf, svDeps: deps.svDeps, runner, bus: deps.bus, now: deps.now, metrics: deps.metrics }),
    subscribe: (pause) => subscribeConsumers(deps.bus, { project: deps.project, external, views: deps.views, runner, metrics: deps.metrics, ...(pause === undefined ? {} : { pause }) }),
  };
}
