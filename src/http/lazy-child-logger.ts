/**
 * Fastify's `childLoggerFactory` for the runtime: the per-request child logger (bound to the request id) is
 * created on its first use instead of on every request. Most requests never log through it (the access
 * line goes through the root logger with the id as a field), so they skip pino's child construction.
 */
import type { FastifyBaseLogger } from 'fastify';

type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];

type Bindings = Record<string, unknown>;
type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** A logger that becomes `parent.child(bindings, options)` when a method is first called. */
class LazyChild {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  get level(): string {
    return this.real().level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  real(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  /** pino's `silent` level method: never writes. */
  silent(): void {}

  fatal(...args: unknown[]): void {
    this.call('fatal', args);
  }

  error(...args: unknown[]): void {
    this.call('error', args);
  }

  warn(...args: unknown[]): void {
    this.call('warn', args);
  }

  info(...args: unknown[]): void {
    this.call('info', args);
  }

  debug(...args: unknown[]): void {
    this.call('debug', args);
  }

  trace(...args: unknown[]): void {
    this.call('trace', args);
  }

  private call(method: Method, args: unknown[]): void {
    const logger = this.real();
    (logger[method] as (...a: unknown[]) => void).apply(logger, args);
  }
}

/**
 * The factory: `{ childLoggerFactory: lazyChildLogger }` in Fastify's options.
 *
 * @example
 * const app = Fastify({ loggerInstance: pino(), childLoggerFactory: lazyChildLogger });
 */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return new LazyChild(logger, bindings, options) as unknown as FastifyBaseLogger;
}
