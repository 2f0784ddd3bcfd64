/**
 * Failure handling of single-view recomputations (fast-data.md §5 "SV errors", §6 retry policy): the
 * aggregation runs under the view's `timeout`; a failure is recorded in the errors collection
 * (`SINGLE_VIEW_AGGREGATION_MAX_TIME` or `UNKNOWN_ERROR`) and, when retriable, parked in the retry collection
 * with `notBefore` = now + `retry.delay`; after `retry.attempts` retries (or at once for a non-retriable
 * error, or with `attempts: 0`) the identifier is dead-lettered on the view's dead-letter topic in sv-trigger
 * format. Backend outages (store or bus unavailable) are rethrown so the consumer pauses instead.
 */
import { parseDuration } from '../../config/units.js';
import { MiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Collection } from '../../ports/document-store.js';
import type { EventBus, OutgoingMessage } from '../../ports/event-bus.js';
import type { CompiledView } from './model.js';
import type { SvErrorType } from './errors-log.js';
import { identifierKey } from './strategy.js';
import { recompute, type SvOutcome, type WriterDeps } from './writer.js';

/** Default collection of parked single-view retries. */
export const SV_RETRY_COLLECTION = 'fd-sv-retries';

/** What `guardedRecompute` needs besides the writer's dependencies. */
export interface FailureDeps {
  readonly clock: Clock;
  /** Parked retries: `{_id: <view>\0<identifier>, view, identifier, attempts, notBefore, lastError}`. */
  readonly retries: Collection;
  readonly bus?: Pick<EventBus, 'publish'>;
}

export type GuardedDeps = WriterDeps & { readonly failures?: FailureDeps };

/** `timeout` (default 10 s), `retry.attempts` (default 5) and `retry.delay` (default 5000 ms) of a view. */
export function failurePolicy(view: CompiledView): { timeoutMs: number; attempts: number; delayMs: number } {
  return {
    timeoutMs: parseDuration(view.config.timeout ?? '10s') ?? 10_000,
    attempts: view.config.retry?.attempts ?? 5,
    delayMs: parseDuration(view.config.retry?.delay ?? 5000) ?? 5000,
  };
}

/** The dead-letter topic of a view: `deadLetter.topic`, default `<view>.DLQ`. */
export const deadLetterTopic = (view: CompiledView): string => view.config.deadLetter?.topic ?? `${view.name}.DLQ`;

function withTimeout<T>(work: Promise<T>, ms: number, clock: Clock, view: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new MiaRunError('MR_FD_SV_TIMEOUT', `Aggregation exceeding configured time limit (${ms} ms) in single view "${view}"`)), ms);
    work.then(
      (value) => (clock.clearTimeout(timer), resolve(value)),
      (error: unknown) => (clock.clearTimeout(timer), reject(error)),
    );
  });
}

const isOutage = (error: unknown): boolean => error instanceof MiaRunError && (error.code === 'MR_STORE_UNAVAILABLE' || error.code === 'MR_BUS_UNAVAILABLE');

/**
 * Recomputes like `recompute`, under the view's timeout; failures become `{ result: 'error' }` after being
 * recorded and parked or dead-lettered. `attempt` is the number of retries already made.
 */
export async function guardedRecompute(view: CompiledView, identifier: Readonly<Record<string, unknown>>, deps: GuardedDeps, attempt = 0): Promise<SvOutcome> {
  const failures = deps.failures;
  if (failures === undefined) return recompute(view, identifier, deps);
  const policy = failurePolicy(view);
  try {
    return await withTimeout(recompute(view, identifier, deps), policy.timeoutMs, failures.clock, view.name);
  } catch (error) {
    if (isOutage(error)) throw error;
    const type: SvErrorType = error instanceof MiaRunError && error.code === 'MR_FD_SV_TIMEOUT' ? 'SINGLE_VIEW_AGGREGATION_MAX_TIME' : 'UNKNOWN_ERROR';
    const message = error instanceof Error ? error.message : String(error);
    await deps.errors?.record(view.name, identifier, type, message);
    const retriable = !(error instanceof MiaRunError) || error.retriable;
    const id = `${view.name}\u0000${identifierKey(view, identifier)}`;
    if (retriable && attempt < policy.attempts) {
      const doc = { _id: id, view: view.name, identifier: { ...identifier }, attempts: attempt + 1, notBefore: failures.clock.now() + policy.delayMs, lastError: { type, message } };
      await failures.retries.replaceOne({ _id: id }, doc, { upsert: true });
      deps.logger.warn({ view: view.name, identifier, attempt: attempt + 1, errorType: type }, 'single view recomputation failed; retry parked');
    } else {
      await failures.bus?.publish(deadLetterTopic(view), [svTriggerDeadLetter(view, identifier, attempt, type, message, failures.clock.now())]);
      await failures.retries.deleteOne({ _id: id });
      deps.logger.error({ view: view.name, identifier, attempts: attempt, errorType: type }, 'single view recomputation dead-lettered');
    }
    return { result: 'error' };
  }
}

/** An sv-trigger message (fast-data.md §4) with `retry`, plus the `mia-run-dead-letter` reason header (§6). */
export function svTriggerDeadLetter(view: CompiledView, identifier: Readonly<Record<string, unknown>>, attempts: number, type: SvErrorType, message: string, now: number): OutgoingMessage {
  return {
    key: identifierKey(view, identifier),
    headers: {
      messageSchema: JSON.stringify({ type: 'sv-trigger', version: 'v1.0.0' }),
      'mia-run-dead-letter': JSON.stringify({ code: type === 'SINGLE_VIEW_AGGREGATION_MAX_TIME' ? 'MR_FD_SV_TIMEOUT' : 'MR_FD_AGGREGATION_FAILED', message, retriable: false, attempts: attempts + 1, stage: 'single-view', view: view.name, failedAt: new Date(now).toISOString() }),
    },
    value: { type: 'aggregation', singleViewName: view.name, singleViewIdentifier: { ...identifier }, retry: { attempts, lastError: { type, message } } },
  };
}
