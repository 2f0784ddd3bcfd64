/**
 * Fast Data operations (fast-data.md §7), shared by the `/-/fast-data/` admin routes of a running process
 * and the `mia-run fast-data` CLI: status, pause/resume (persisted, `control.ts`), redrive, refresh of a
 * view, and load/replay of projections. `load` and `replay` move a live consumer, so they need the process
 * that consumes the projection (`live`); every other operation works on the backends alone.
 */
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Collection, DocumentStore } from '../../ports/document-store.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { MetricEmitter } from '../../ports/telemetry.js';
import type { CompiledView } from '../single-view/model.js';
import type { SvOutcome, WriterDeps } from '../single-view/writer.js';
import { CONTROL_COLLECTION, readPaused, setPaused } from './control.js';
import { releaseHolds } from '../key-holds.js';
import { redrive, sameKey, type RedriveResult } from './redrive.js';
import { refreshView, type RefreshResult } from './refresh.js';
import type { FastDataTargets, ProjectionTarget } from './targets.js';

export const JOURNAL_COLLECTION = 'fd-sv-journal';

/** What a running process offers for `load` and `replay`. */
export interface LiveConsumers {
  /** Starts a bulk load of `projections` from the beginning of their topics; resolves once started. */
  load(projections: readonly ProjectionTarget[]): Promise<void>;
  /** Projections currently loading. */
  loading(): ReadonlySet<string>;
}

export interface OperationsDeps {
  readonly targets: FastDataTargets;
  readonly store: (database: string) => DocumentStore;
  readonly bus: EventBus;
  readonly clock: Clock;
  /** Writer dependencies per view (hooks loaded); needed by `refresh`. */
  readonly writer?: (view: string) => { readonly view: CompiledView; readonly deps: WriterDeps & { readonly collection: Collection } };
  readonly recompute?: (view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: WriterDeps) => Promise<SvOutcome>;
  /** Where view events of `refresh` go (sv-update v1 encoding, SV chaining: `topics/`); default `bus`. */
  readonly viewEvents?: Pick<EventBus, 'publish'>;
  readonly metrics?: MetricEmitter;
  readonly live?: LiveConsumers;
  /** Runs after a pause or resume (a running process re-reads its pause state at once). */
  readonly onPauseChange?: () => Promise<void>;
}

export interface PartitionStatus {
  readonly partition: number;
  readonly committed: number | null;
  readonly end: number;
  readonly lag: number;
}

export interface ProjectionStatus {
  readonly name: string;
  readonly sor: string;
  readonly topic: string;
  readonly group: string;
  readonly paused: boolean;
  readonly loading?: boolean;
  readonly lag: number;
  readonly partitions: readonly PartitionStatus[];
  readonly documents: { readonly total: number; readonly public: number; readonly deleted: number };
  readonly deadLetters: { readonly topic: string; readonly messages: number };
}

export interface ViewStatus {
  readonly name: string;
  readonly collection: string;
  readonly paused: boolean;
  readonly documents: number;
  readonly journal: { readonly ready: number; readonly oldestSeconds: number | null };
}

export interface FastDataStatus {
  readonly project: string;
  readonly projections: readonly ProjectionStatus[];
  readonly views: readonly ViewStatus[];
}

export interface LoadResult {
  readonly projections: readonly string[];
  readonly cleared?: Readonly<Record<string, number>>;
  readonly warnings: readonly string[];
}

export interface FastDataOperations {
  status(): Promise<FastDataStatus>;
  pause(name: string): Promise<{ name: string; kind: string; paused: true; changed: boolean }>;
  resume(name: string): Promise<{ name: string; kind: string; paused: false; changed: boolean }>;
  redrive(deadLetterTopic: string, key?: string): Promise<RedriveResult>;
  refresh(view: string): Promise<RefreshResult>;
  load(projections: readonly string[]): Promise<LoadResult>;
  replay(projections: readonly string[]): Promise<LoadResult>;
}

/** Builds the operations over `deps` (no I/O until an operation runs). */
export function createFastDataOperations(deps: OperationsDeps): FastDataOperations {
  const { targets, bus, clock } = deps;
  const control = (): Collection => deps.store('default').collection(CONTROL_COLLECTION);
  const journal = (): Collection => deps.store('default').collection(JOURNAL_COLLECTION);
  const needLive = (op: string): LiveConsumers => {
    if (deps.live === undefined) throw new MiaRunError('MR_FD_OPERATION_UNAVAILABLE', `"${op}" needs the running process that consumes the projections`, { hint: 'run it against the process: mia-run fast-data ' + op + ' --url http://host:port ...' });
    return deps.live;
  };
  const toggle = async (name: string, paused: boolean) => {
    const target = targets.resolve(name);
    const changed = await setPaused(control(), target.kind, target.name, paused, new Date(clock.now()));
    await deps.onPauseChange?.();
    return { name: target.name, kind: target.kind, changed };
  };
  const warningsOf = async (projections: readonly ProjectionTarget[]): Promise<string[]> => {
    const described = await bus.describeTopics();
    return projections.flatMap((p) => (described.find((t) => t.name === p.topic)?.partitions ?? []).filter((part) => part.start > 0).map((part) => `${p.topic}[${part.partition}]: the earliest kept offset is ${part.start}; older messages were dropped by retention`));
  };

  return {
    async status() {
      const paused = await readPaused(control());
      const loading = deps.live?.loading() ?? new Set<string>();
      const described = await bus.describeTopics();
      const lagByGroup = new Map<string, Awaited<ReturnType<EventBus['lag']>>>();
      const projections: ProjectionStatus[] = [];
      for (const p of targets.projections.values()) {
        if (!lagByGroup.has(p.group)) lagByGroup.set(p.group, await bus.lag(p.group, [...targets.projections.values()].filter((q) => q.group === p.group).map((q) => q.topic)));
        const rows = (lagByGroup.get(p.group) ?? []).filter((l) => l.topic === p.topic).map((l) => ({ partition: l.partition, committed: l.committed, end: l.end, lag: l.lag }));
        const collection = deps.store(p.database).collection(p.collection);
        const [total, pub, deleted] = await Promise.all([collection.count({}), collection.count({ __STATE__: 'PUBLIC' }), collection.count({ __STATE__: 'DELETED' })]);
        const dlq = described.find((t) => t.name === p.deadLetterTopic);
        projections.push({
          name: p.name, sor: p.sor, topic: p.topic, group: p.group, paused: paused.has(`projection:${p.name}`),
          ...(deps.live === undefined ? {} : { loading: loading.has(p.name) }),
          lag: rows.reduce((sum, r) => sum + r.lag, 0), partitions: rows,
          documents: { total, public: pub, deleted },
          deadLetters: { topic: p.deadLetterTopic, messages: (dlq?.partitions ?? []).reduce((sum, part) => sum + part.end - part.start, 0) },
        });
      }
      const views: ViewStatus[] = [];
      for (const v of targets.views.values()) {
        const [documents, ready, oldest] = await Promise.all([
          deps.store(v.database).collection(v.collection).count({}),
          journal().count({ view: v.name }),
          journal().findOne({ view: v.name }, { sort: { at: 1 } }),
        ]);
        const at = typeof oldest?.at === 'number' ? oldest.at : undefined;
        views.push({ name: v.name, collection: v.collection, paused: paused.has(`view:${v.name}`), documents, journal: { ready, oldestSeconds: at === undefined ? null : Math.max(0, (clock.now() - at) / 1000) } });
      }
      return { project: targets.project, projections, views };
    },
    async pause(name) {
      return { ...(await toggle(name, true)), paused: true };
    },
    async resume(name) {
      return { ...(await toggle(name, false)), paused: false };
    },
    async redrive(topic, key) {
      const projection = targets.byDeadLetterTopic(topic);
      // Held keys (deadLetter.mode holdKey) are released first: the redriven messages then pass in order.
      await releaseHolds(control(), projection.name, key === undefined ? undefined : (held) => sameKey(held, key));
      return redrive(bus, clock, targets.project, projection, key);
    },
    async refresh(name) {
      const target = targets.resolve(name, 'view');
      if (deps.writer === undefined || deps.recompute === undefined) throw new MiaRunError('MR_FD_OPERATION_UNAVAILABLE', `refresh of "${target.name}" needs the view's functions loaded`);
      const { view, deps: writer } = deps.writer(target.name);
      const id = `refresh:${target.name}`;
      const checkpoint = {
        load: async () => ((await control().findOne({ _id: id }))?.after as Record<string, unknown> | undefined) ?? undefined,
        save: async (last: Readonly<Record<string, unknown>>) => void (await control().replaceOne({ _id: id }, { kind: 'refresh', name: target.name, after: last, at: new Date(clock.now()) }, { upsert: true })),
        clear: async () => void (await control().deleteOne({ _id: id })),
      };
      return refreshView({ view, writer, recompute: deps.recompute, bus: deps.viewEvents ?? bus, checkpoint, ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }) });
    },
    async load(names) {
      const live = needLive('load');
      const projections = names.map((n) => targets.resolve(n, 'projection') as ProjectionTarget);
      const warnings = await warningsOf(projections);
      await live.load(projections);
      return { projections: projections.map((p) => p.name), warnings };
    },
    async replay(names) {
      const live = needLive('replay');
      const projections = names.map((n) => targets.resolve(n, 'projection') as ProjectionTarget);
      const warnings = await warningsOf(projections);
      const cleared: Record<string, number> = {};
      // The stale guard would reject the replayed messages otherwise.
      for (const p of projections) cleared[p.name] = (await deps.store(p.database).collection(p.collection).deleteMany({})).deletedCount;
      await live.load(projections);
      return { projections: projections.map((p) => p.name), cleared, warnings };
    },
  };
}
