import diagnosticsChannel from 'node:diagnostics_channel';
import type { Logger } from '../ports/logger.js';
import { createMetricEmitter } from '../ports/telemetry.js';
import { BREAKER_CHANNEL, type BreakerState, type BreakerStateChange, type CircuitBreaker } from '../resilience/index.js';

const STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Logs every state change of this gateway's circuit breakers and exports it as metrics (STYLE §11):
 * `mia_run_gateway_circuit_breaker_state{breaker}` (0 closed, 1 half-open, 2 open) and
 * `mia_run_gateway_circuit_breaker_transitions_total{breaker,from,to}`. Returns the unsubscribe function.
 */
export function observeBreakers(breakers: () => readonly CircuitBreaker[], logger: Logger): () => void {
  const metrics = createMetricEmitter('gateway');
  const help = 'Circuit breaker state: 0 closed, 1 half-open, 2 open';
  for (const breaker of breakers()) metrics.gauge('circuit_breaker_state', help, STATE_VALUE[breaker.state()], { breaker: breaker.name });
  const listener = (message: unknown): void => {
    const change = message as BreakerStateChange;
    // The channel is process-wide: only this gateway's breakers are reported here.
    if (!breakers().some((b) => b.name === change.name)) return;
    const log = change.to === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger);
    log({ breaker: change.name, from: change.from, to: change.to }, `circuit breaker ${change.name} is ${change.to}`);
    metrics.gauge('circuit_breaker_state', help, STATE_VALUE[change.to], { breaker: change.name });
    metrics.count('circuit_breaker_transitions', 'Circuit breaker state changes', { breaker: change.name, from: change.from, to: change.to });
  };
  diagnosticsChannel.subscribe(BREAKER_CHANNEL, listener);
  return () => diagnosticsChannel.unsubscribe(BREAKER_CHANNEL, listener);
}
