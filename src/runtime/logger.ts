import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export interface CreateLoggerOptions {
  /** pino level name; default `info`. */
  readonly level?: string;
  /** Where lines go; default stdout. Pass a pino-pretty stream for humans (the CLI does on a TTY). */
  readonly destination?: DestinationStream;
}

/**
 * The runtime's logger: pino JSON lines (one access line per request comes from the HTTP server), with the
 * `Logger` port's shape so capabilities and adapters receive children of it.
 */
export function createLogger(options: CreateLoggerOptions = {}): PinoLogger {
  const level = options.level ?? 'info';
  return options.destination === undefined ? pino({ level, base: { name: 'mia-run' } }) : pino({ level, base: { name: 'mia-run' } }, options.destination);
}
