/**
 * SIGTERM/SIGINT handling for `mia-run run`: the first signal starts a graceful stop (drain, then close) and
 * the process exits 0 once it is done; a second signal means "now": exit at once with 128 + signal number,
 * as shells report a signal death. This file and src/cli/main.ts are the only places allowed to exit.
 */
import type { Logger } from '../ports/logger.js';

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;
type HandledSignal = keyof typeof SIGNALS;

export interface SignalTarget {
  on(signal: HandledSignal, listener: () => void): unknown;
  off(signal: HandledSignal, listener: () => void): unknown;
}

export interface SignalOptions {
  readonly logger: Logger;
  /** Default: `process`. */
  readonly target?: SignalTarget;
  /** Default: `process.exit`. */
  readonly exit?: (code: number) => void;
  /** Called when the graceful stop triggered by a signal has finished (successfully or not). */
  readonly onStopped?: (error?: unknown) => void;
}

/**
 * Installs the handlers; returns a function that removes them.
 *
 * @example
 * const uninstall = installSignalHandlers((reason) => runtime.stop(reason), { logger });
 */
export function installSignalHandlers(stop: (reason: string) => Promise<void>, options: SignalOptions): () => void {
  const target = options.target ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let received: HandledSignal | undefined;

  const listeners = (Object.keys(SIGNALS) as HandledSignal[]).map((signal) => {
    const listener = (): void => {
      if (received !== undefined) {
        options.logger.warn({ signal }, 'second signal: exiting now');
        exit(128 + SIGNALS[signal]);
        return;
      }
      received = signal;
      options.logger.info({ signal }, 'signal received: draining (send it again to exit at once)');
      stop(`received ${signal}`).then(
        () => {
          process.exitCode = 0;
          options.onStopped?.();
        },
        (err: unknown) => {
          options.logger.error({ err }, 'graceful stop failed');
          options.onStopped?.(err);
        },
      );
    };
    target.on(signal, listener);
    return [signal, listener] as const;
  });

  return () => {
    for (const [signal, listener] of listeners) target.off(signal, listener);
  };
}
