/**
 * Consumers of Mia's topic formats (fast-data.md §4):
 * - pr-update v1/v2 (or sv-update v1/v2 of a view of another project) for projections declared
 *   `external: { prUpdateTopic }`: their records are written by someone else in the shared store, so here
 *   they are only strategised and their views recomputed. Group `<project>.fast-data.pr-update`.
 * - sv-trigger `aggregation` messages for views with `triggers.consume` (from a Mia trigger generator, or
 *   this project's own `triggers.publish` when the stages run in different processes): the identifier is
 *   recomputed. Group `<project>.<view>.sv-trigger`. `patch` triggers are dead-lettered
 *   (MR_FD_UNSUPPORTED_TRIGGER).
 * A batch resolves after every view write and event it caused; undecodable messages throw non-retriable
 * errors once the rest of the batch is done, so the bus dead-letters only them.
 */
import type { Collection, Document } from '../../ports/document-store.js';
import type { BatchHandler, EventBus, Subscription } from '../../ports/event-bus.js';
import type { MetricEmitter } from '../../ports/telemetry.js';
import type { ProjectionChange } from '../apply.js';
import type { CompiledView } from '../single-view/model.js';
import { identifierKey } from '../single-view/strategy.js';
import { decodeChangeEvent } from './pr-update.js';
import { decodeSvTrigger } from './sv-trigger.js';
import type { ViewRunner } from './view-runner.js';

export interface ExternalProjection {
  readonly name: string;
  readonly prUpdateTopic: string;
  readonly collection: Collection;
  readonly primaryKey: readonly string[];
}

/** Pause state of projections and views (`mia-run fast-data pause`), with the wait between checks. */
export interface ConsumerPause {
  isPaused(kind: 'projection' | 'view', name: string): boolean;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface ConsumersDeps {
  readonly project: string;
  readonly external: readonly ExternalProjection[];
  readonly views: readonly CompiledView[];
  readonly runner: Pick<ViewRunner, 'runChanges' | 'recomputeAll'>;
  readonly metrics: MetricEmitter;
  /** A paused external projection or view holds its partition (nothing is skipped). */
  readonly pause?: ConsumerPause;
}

async function holdWhilePaused(pause: ConsumerPause | undefined, kind: 'projection' | 'view', name: string, signal: AbortSignal): Promise<void> {
  while (pause?.isPaused(kind, name) === true) await pause.sleep(250, signal);
}

/** Consumer group of the external projections' pr-update topics. */
export const prUpdateGroup = (project: string): string => `${project}.fast-data.pr-update`;
/** Consumer group of a view's sv-trigger topic. */
export const svTriggerGroup = (project: string, view: string): string => `${project}.${view}.sv-trigger`;

function strip(doc: Document | null): Document | null {
  if (doc === null) return null;
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}

/** The handler of the external projections' pr-update topics. */
export function prUpdateHandler(deps: ConsumersDeps): BatchHandler {
  const byTopic = new Map(deps.external.map((p) => [p.prUpdateTopic, p]));
  return async (batch, ctx) => {
    const first = byTopic.get(batch.topic);
    if (first !== undefined) await holdWhilePaused(deps.pause, 'projection', first.name, ctx.signal);
    const changes: ProjectionChange[] = [];
    const failures: unknown[] = [];
    for (const message of batch.messages) {
      const p = byTopic.get(message.topic);
      if (p === undefined) continue;
      let decoded;
      try {
        decoded = decodeChangeEvent(message);
      } catch (error) {
        failures.push(error);
        deps.metrics.count('pr_updates', 'pr-update messages by projection, version and direction', { projection: p.name, version: 'unknown', direction: 'dead_letter' });
        continue;
      }
      if (decoded === null) continue;
      let after = decoded.after ?? null;
      if (decoded.after === undefined && decoded.operation !== 'DELETE') {
        // v1 messages may omit the images: the current record (already written by the producer) stands in.
        const source = decoded.key ?? decoded.before ?? {};
        after = strip(await p.collection.findOne(Object.fromEntries(p.primaryKey.map((k) => [k, source[k]]))));
      }
      changes.push({ projection: p.name, operation: decoded.operation, before: decoded.before ?? null, after });
      deps.metrics.count('pr_updates', 'pr-update messages by projection, version and direction', { projection: p.name, version: decoded.version, direction: 'in' });
    }
    await deps.runner.runChanges(changes);
    if (failures.length > 0) throw failures[0];
  };
}

/** The handler of one view's sv-trigger topic. */
export function svTriggerHandler(deps: ConsumersDeps, view: CompiledView): BatchHandler {
  return async (batch, ctx) => {
    await holdWhilePaused(deps.pause, 'view', view.name, ctx.signal);
    const work = new Map<string, { view: CompiledView; identifier: Record<string, unknown> }>();
    const failures: unknown[] = [];
    for (const message of batch.messages) {
      try {
        const trigger = decodeSvTrigger(message);
        if (trigger === null) continue;
        const identifier = Object.fromEntries(Object.keys(view.key).map((k) => [k, trigger.identifier[k]]));
        work.set(identifierKey(view, identifier), { view, identifier });
        deps.metrics.count('sv_triggers_consumed', 'sv-trigger messages consumed by view and result', { view: view.name, result: 'ok' });
      } catch (error) {
        failures.push(error);
        deps.metrics.count('sv_triggers_consumed', 'sv-trigger messages consumed by view and result', { view: view.name, result: 'dead_letter' });
      }
    }
    await deps.runner.recomputeAll([...work.values()], false);
    if (failures.length > 0) throw failures[0];
  };
}

/** Starts every consumer the descriptor asks for. */
export async function subscribeConsumers(bus: EventBus, deps: ConsumersDeps): Promise<Subscription[]> {
  const out: Subscription[] = [];
  const topics = [...new Set(deps.external.map((p) => p.prUpdateTopic))];
  if (topics.length > 0) out.push(await bus.subscribe({ group: prUpdateGroup(deps.project), topics, fromBeginning: true, handler: prUpdateHandler(deps) }));
  for (const view of deps.views) {
    const topic = view.config.triggers?.consume?.topic;
    if (topic !== undefined) out.push(await bus.subscribe({ group: svTriggerGroup(deps.project, view.name), topics: [topic], fromBeginning: true, handler: svTriggerHandler(deps, view) }));
  }
  return out;
}
