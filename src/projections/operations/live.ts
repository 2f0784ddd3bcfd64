/**
 * The in-process side of the Fast Data operations (fast-data.md §7), owned by the projections capability:
 * - pause state polled from the store; a system of record whose projections are all paused has its
 *   subscription paused (partly paused ones hold the paused topics' batches in the handler); a resumed view
 *   has the identifiers parked in the journal recomputed;
 * - `load`: the projections' topics are consumed again from the beginning in bulk mode (no strategies); once
 *   the group has passed the end offsets captured at the start, the affected views are refreshed. The
 *   load is recorded in `fd-control` (`load:<projection>` with the captured offsets) until it finishes, so
 *   a process that restarts mid-load carries on in bulk mode and still refreshes the views;
 * - gauges sampled every `sampleMs`: `consumer_lag{topic,partition}`, `journal_ready{view}`,
 *   `journal_oldest_seconds{view}`.
 */
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { Collection } from '../../ports/document-store.js';
import type { EventBus, Subscription } from '../../ports/event-bus.js';
import type { Logger } from '../../ports/logger.js';
import type { MetricEmitter } from '../../ports/telemetry.js';
import { createPauseWatcher, type PauseWatcher } from './control.js';
import type { LiveConsumers } from './index.js';
import type { FastDataTargets, ProjectionTarget } from './targets.js';

export interface LiveDeps {
  readonly targets: FastDataTargets;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricEmitter;
  readonly control: Collection;
  readonly journal: Collection;
  /** The ingestion subscription of each system of record (filled as they start). */
  readonly subscriptions: ReadonlyMap<string, Subscription>;
  /** Views fed by a projection. */
  readonly viewsOf: (projection: string) => readonly string[];
  readonly refresh: (view: string) => Promise<unknown>;
  /** Recomputes the journal entries of `view` and clears them. */
  readonly drain: (view: string) => Promise<void>;
  readonly sampleMs?: number;
}

export interface Live extends LiveConsumers {
  readonly pause: PauseWatcher;
  /** Projections in bulk mode (read by the ingestion handler). */
  readonly bulk: ReadonlySet<string>;
  start(): Promise<void>;
  stop(): void;
}

/** Builds the live side; `start()` reads the pause state and starts the samplers. */
export function createLive(deps: LiveDeps): Live {
  const { targets, bus, clock, logger, metrics } = deps;
  const bulk = new Set<string>();
  const timers = new Set<TimerHandle>();
  let stopped = false;
  const consumedBy = (sor: string): ProjectionTarget[] => [...targets.projections.values()].filter((p) => p.sor === sor);
  const every = (ms: number, fn: () => Promise<void>): void => {
    const tick = (): void => {
      if (stopped) return;
      const handle = clock.setTimeout(() => {
        timers.delete(handle);
        fn()
          .catch((err: unknown) => logger.warn({ err }, 'fast data: background task failed'))
          .finally(tick);
      }, ms);
      timers.add(handle);
    };
    tick();
  };

  const pause: PauseWatcher = createPauseWatcher({
    control: deps.control,
    clock,
    logger,
    onChange: async (kind, name, paused) => {
      logger.info({ kind, name, paused }, paused ? 'fast data: paused' : 'fast data: resumed');
      if (kind === 'view') {
        if (!paused) await deps.drain(name);
        return;
      }
      const sor = targets.projections.get(name)?.sor;
      const sub = sor === undefined ? undefined : deps.subscriptions.get(sor);
      if (sub === undefined || sor === undefined) return;
      if (consumedBy(sor).every((p) => pause.isPaused('projection', p.name))) sub.pause();
      else sub.resume();
    },
  });

  const sample = async (): Promise<void> => {
    const groups = new Map<string, string[]>();
    for (const p of targets.projections.values()) groups.set(p.group, [...(groups.get(p.group) ?? []), p.topic]);
    for (const [group, topics] of groups) {
      for (const row of await bus.lag(group, topics)) metrics.gauge('consumer_lag', 'Messages not yet consumed, per ingestion topic and partition', row.lag, { topic: row.topic, partition: String(row.partition) });
    }
    for (const view of targets.views.keys()) {
      const [ready, oldest] = await Promise.all([deps.journal.count({ view }), deps.journal.findOne({ view }, { sort: { at: 1 } })]);
      metrics.gauge('journal_ready', 'Single-view identifiers waiting in the trigger journal', ready, { view });
      const at = typeof oldest?.at === 'number' ? oldest.at : undefined;
      metrics.gauge('journal_oldest_seconds', 'Age of the oldest trigger journal entry of the view', at === undefined ? 0 : Math.max(0, (clock.now() - at) / 1000), { view });
    }
  };

  const loadId = (p: ProjectionTarget): string => `load:${p.name}`;
  const finishLoad = async (projections: readonly ProjectionTarget[], ends: ReadonlyMap<string, number>): Promise<void> => {
    for (;;) {
      if (stopped) return;
      let caughtUp = true;
      for (const p of projections) {
        for (const row of await bus.lag(p.group, [p.topic])) if ((row.committed ?? row.start) < (ends.get(`${p.topic}\u0000${row.partition}`) ?? 0)) caughtUp = false;
      }
      if (caughtUp) break;
      await clock.sleep(100);
    }
    for (const p of projections) bulk.delete(p.name);
    const views = new Set(projections.flatMap((p) => deps.viewsOf(p.name)));
    for (const view of views) await deps.refresh(view);
    await deps.control.deleteMany({ _id: { $in: projections.map(loadId) } });
    logger.info({ projections: projections.map((p) => p.name), views: [...views] }, 'fast data: load finished');
  };

  return {
    pause,
    bulk,
    loading: () => bulk,
    async load(projections) {
      const described = await bus.describeTopics();
      const ends = new Map<string, number>();
      for (const p of projections) for (const part of described.find((t) => t.name === p.topic)?.partitions ?? []) ends.set(`${p.topic}\u0000${part.partition}`, part.end);
      for (const p of projections) {
        const own = Object.fromEntries([...ends].filter(([k]) => k.startsWith(`${p.topic}\u0000`)).map(([k, end]) => [k.slice(p.topic.length + 1), end]));
        await deps.control.replaceOne({ _id: loadId(p) }, { kind: 'load', name: p.name, ends: own, startedAt: new Date(clock.now()) }, { upsert: true });
      }
      for (const p of projections) bulk.add(p.name);
      for (const p of projections) await deps.subscriptions.get(p.sor)?.seek(p.topic, 'beginning');
      void finishLoad(projections, ends).catch((err: unknown) => logger.error({ err }, 'fast data: load failed'));
    },
    async start() {
      await pause.start();
      // Loads interrupted by a stop or a crash carry on (their consumer resumes from its committed offsets).
      for (const doc of await deps.control.find({ kind: 'load' }).toArray()) {
        const p = targets.projections.get(String(doc.name));
        if (p === undefined) continue;
        bulk.add(p.name);
        const ends = new Map(Object.entries((doc.ends ?? {}) as Record<string, number>).map(([partition, end]) => [`${p.topic}\u0000${partition}`, end]));
        void finishLoad([p], ends).catch((err: unknown) => logger.error({ err }, 'fast data: load failed'));
      }
      for (const [sor, sub] of deps.subscriptions) if (consumedBy(sor).every((p) => pause.isPaused('projection', p.name))) sub.pause();
      await sample().catch((err: unknown) => logger.warn({ err }, 'fast data: metrics sample failed'));
      every(deps.sampleMs ?? 5000, sample);
    },
    stop() {
      stopped = true;
      pause.stop();
      for (const t of timers) clock.clearTimeout(t);
      timers.clear();
    },
  };
}
