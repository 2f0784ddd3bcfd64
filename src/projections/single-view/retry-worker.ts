/**
 * Runs parked single-view retries when they are due (fast-data.md §6): every poll it claims the entries of
 * the retry collection whose `notBefore` has passed, recomputes them through `guardedRecompute` with their
 * attempt count (a new failure parks them again or dead-letters them), removes them once done, and
 * publishes the sv-update the recomputation produced. Off the ingestion path: partitions keep flowing.
 */
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { Collection } from '../../ports/document-store.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { Logger } from '../../ports/logger.js';
import { failurePolicy, guardedRecompute, type GuardedDeps } from './guard.js';
import type { IdentifierLocks } from './identifier-locks.js';
import type { CompiledView } from './model.js';
import { identifierKey } from './strategy.js';

export interface RetryWorkerOptions {
  readonly views: readonly CompiledView[];
  /** Dependencies of a view (its `collection` is the real view collection). */
  readonly deps: (view: CompiledView) => GuardedDeps;
  readonly retries: Collection;
  readonly clock: Clock;
  readonly bus?: Pick<EventBus, 'publish'>;
  readonly logger: Logger;
  /** The process's per-identifier locks (shared with the ingestion handlers). */
  readonly locks?: IdentifierLocks;
  /** Poll period; default the shortest retry delay, between 10 ms and 1 s. */
  readonly pollMs?: number;
}

export interface RetryWorker {
  start(): void;
  stop(): Promise<void>;
  /** Runs the due retries once (what each poll does). */
  runDue(): Promise<number>;
}

/** Creates the retry worker of a process's views. */
export function createRetryWorker(options: RetryWorkerOptions): RetryWorker {
  const byName = new Map(options.views.map((v) => [v.name, v]));
  const pollMs = options.pollMs ?? Math.max(10, Math.min(1000, ...options.views.map((v) => failurePolicy(v).delayMs)));
  let timer: TimerHandle | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  const runDue = async (): Promise<number> => {
    const due = await options.retries.find({ notBefore: { $lte: options.clock.now() } }, { sort: { notBefore: 1 }, limit: 100 }).toArray();
    for (const entry of due) {
      const view = byName.get(String(entry.view));
      if (view === undefined) continue;
      const identifier = entry.identifier as Record<string, unknown>;
      const unlock = await options.locks?.acquire([`${view.name}\u0000${identifierKey(view, identifier)}`]);
      let outcome;
      try {
        outcome = await guardedRecompute(view, identifier, options.deps(view), Number(entry.attempts));
      } finally {
        unlock?.();
      }
      if (outcome.result === 'error') continue; // parked again (or dead-lettered and removed)
      await options.retries.deleteOne({ _id: entry._id });
      if (outcome.event !== undefined) await options.bus?.publish(outcome.event.topic, [outcome.event.message]);
    }
    return due.length;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = options.clock.setTimeout(() => {
      running = runDue()
        .catch((error: unknown) => options.logger.warn({ err: error }, 'single-view retries failed; trying again at the next poll'))
        .finally(schedule);
    }, pollMs);
  };

  return {
    start() {
      if (!stopped || options.views.length === 0) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) options.clock.clearTimeout(timer);
      await running;
    },
    runDue,
  };
}
