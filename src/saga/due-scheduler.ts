/**
 * Wakes up at the earliest due time stored in the saga collection (armed timers, commands to retry) through
 * the Clock port, so due work survives restarts: `start()` looks at the store, finds what is overdue and
 * runs it at once. One timer at a time; `poke(dueAt)` brings it forward when a write adds earlier work.
 * With nothing due it still looks again every `idleRecheckMs`: another process may have stored work (a
 * timer, or a command it wrote and then died before delivering) that this one was never told about.
 */
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';

export interface DueSchedulerOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The earliest due time in the store, or null. */
  readonly nextDue: () => Promise<number | null>;
  /** Runs what is due at `now`; returns true when more may be due already (a full page). */
  readonly runDue: (now: number) => Promise<boolean>;
  /** Delay before looking again after a failing run, or when due work is still there after a run; default 1 s. */
  readonly errorDelayMs?: number;
  /** Delay before looking again when nothing is due (work stored by other processes); default 30 s. */
  readonly idleRecheckMs?: number;
}

export interface DueScheduler {
  start(): Promise<void>;
  /** Makes sure the scheduler wakes up no later than `dueAt`. */
  poke(dueAt: number): void;
  stop(): Promise<void>;
}

export function createDueScheduler(options: DueSchedulerOptions): DueScheduler {
  const { clock, logger } = options;
  let handle: TimerHandle | undefined;
  let scheduledAt = Infinity;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  const idleRecheckMs = options.idleRecheckMs ?? 30_000;

  const arm = (at: number): void => {
    if (stopped || at >= scheduledAt) return;
    if (handle) clock.clearTimeout(handle);
    scheduledAt = at;
    handle = clock.setTimeout(() => {
      handle = undefined;
      scheduledAt = Infinity;
      wake();
    }, Math.max(0, at - clock.now()));
  };

  const cycle = async (): Promise<void> => {
    do {
      again = false;
      try {
        while (!stopped && (await options.runDue(clock.now())));
        const next = stopped ? null : await options.nextDue();
        const now = clock.now();
        // Still overdue after a run: work in flight elsewhere (or failing); look again after a pause, not in a loop.
        if (next !== null) arm(Math.min(Math.max(next, now + (options.errorDelayMs ?? 1000)), now + idleRecheckMs));
        else arm(now + idleRecheckMs);
      } catch (err) {
        logger.error({ err, scheduler: options.name }, 'saga scheduler run failed; retrying');
        arm(clock.now() + (options.errorDelayMs ?? 1000));
      }
    } while (again && !stopped);
  };

  const wake = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = cycle().finally(() => {
      running = undefined;
    });
  };

  return {
    async start() {
      stopped = false;
      wake();
      await running;
    },
    poke(dueAt) {
      if (dueAt <= clock.now()) wake();
      else arm(dueAt);
    },
    async stop() {
      stopped = true;
      if (handle) clock.clearTimeout(handle);
      handle = undefined;
      scheduledAt = Infinity;
      await running;
    },
  };
}
