/**
 * Ordered start and reverse stop of the runtime's parts (STYLE §10). A failed start rolls back what already
 * started, so a half-started runtime never keeps files or connections open.
 */
import { MiaRunError } from '../errors.js';
import type { Logger } from '../ports/logger.js';

export interface LifecycleStep {
  /** Display name in logs and errors, e.g. `store default (store.embedded)`. */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Stops steps in reverse order; a failing stop is logged and does not prevent the others. */
export async function stopInReverse(steps: readonly LifecycleStep[], logger: Logger): Promise<void> {
  for (const step of [...steps].reverse()) {
    try {
      await step.stop();
      logger.debug({ part: step.name }, 'stopped');
    } catch (err) {
      logger.error({ err, part: step.name }, 'stop failed');
    }
  }
}

/**
 * Starts steps in order. On the first failure, stops the started ones in reverse and throws
 * `MR_RUNTIME_START` naming the step, with the original error as cause.
 */
export async function startInOrder(steps: readonly LifecycleStep[], logger: Logger): Promise<void> {
  const started: LifecycleStep[] = [];
  for (const step of steps) {
    try {
      await step.start();
      started.push(step);
      logger.debug({ part: step.name }, 'started');
    } catch (err) {
      await stopInReverse(started, logger);
      if (err instanceof MiaRunError && err.code === 'MR_RUNTIME_START') throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new MiaRunError('MR_RUNTIME_START', `${step.name} failed to start: ${reason}`, { cause: err });
    }
  }
}
