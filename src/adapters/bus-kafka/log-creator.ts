/**
 * Routes kafkajs' own logging into the `Logger` port at levels that suit an operator: kafkajs logs every error
 * response at ERROR before retrying it (a coordinator that is still loading, a rebalance in progress), and
 * narrates joins and connections at INFO. What really fails reaches the caller as a `MiaRunError`, so:
 *
 * | kafkajs                          | Logger |
 * |----------------------------------|--------|
 * | ERROR `[Connection] Response ...` | debug  |
 * | other ERROR                      | warn   |
 * | WARN (bounded producer retries)  | debug  |
 * | other WARN                       | warn   |
 * | INFO                             | debug  |
 * | DEBUG                            | trace  |
 */
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../../ports/logger.js';

type Level = 'trace' | 'debug' | 'warn';

/** The Logger level of one kafkajs entry (exported for tests). */
export function levelOf(entry: Pick<LogEntry, 'level' | 'namespace' | 'log'>): Level {
  switch (entry.level) {
    case logLevel.ERROR:
      return entry.namespace === 'Connection' && entry.log.message.startsWith('Response ') ? 'debug' : 'warn';
    case logLevel.WARN:
      // Bounded retries of the idempotent producer are deliberate: publish fails with a retriable error
      // instead of hanging, and delivery is at-least-once anyway.
      return entry.log.message.startsWith('Limiting retries for the idempotent producer') ? 'debug' : 'warn';
    case logLevel.INFO:
      return 'debug';
    default:
      return 'trace';
  }
}

/** A kafkajs `logCreator` writing to `logger` (child bindings `{ kafkajs: <namespace> }`). */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () => (entry) => {
    const { message, timestamp: _timestamp, logger: _name, ...extra } = entry.log;
    logger[levelOf(entry)]({ kafkajs: entry.namespace, ...extra }, message);
  };
}
