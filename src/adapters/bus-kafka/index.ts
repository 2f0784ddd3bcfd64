/**
 * The `bus.kafka` adapter: the EventBus port on Apache Kafka (kafkajs). Registered in
 * `src/runtime/registry.ts`; nothing else imports it.
 */
import type { KafkaBusConfig } from '../../config/types.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import { KafkaEventBus } from './kafka-event-bus.js';

export { KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus.js';
export type { KafkaTuning } from './client.js';

/** Registry factory (`BackendFactory<'bus.kafka'>`): wiring only, no connection before `start()`. */
export function createKafkaEventBus(name: string, config: KafkaBusConfig, ctx: { readonly clock: Clock; readonly logger: Logger }): KafkaEventBus {
  return new KafkaEventBus({ name, config, clock: ctx.clock, logger: ctx.logger });
}
