/**
 * Builds the kafkajs client from the descriptor's `bus` section (brokers, client id, TLS, SASL) and the
 * adapter's tuning (timeouts of the group protocol, retries). Pure: no connection is opened here.
 */
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { KafkaBusConfig } from '../../config/types.js';
import type { Logger } from '../../ports/logger.js';
import { kafkaLogCreator } from './log-creator.js';

/**
 * Knobs that are not part of the descriptor: sensible defaults for production, shorter ones in tests (a
 * consumer-group join waits for every member up to `rebalanceTimeout`).
 */
export interface KafkaTuning {
  /** Milliseconds without heartbeat after which the broker drops a member; default 30000. */
  readonly sessionTimeout: number;
  /** Milliseconds members get to rejoin during a rebalance; default 60000. */
  readonly rebalanceTimeout: number;
  /** Milliseconds between heartbeats; default 3000. */
  readonly heartbeatInterval: number;
  /** Longest wait of a fetch for new messages, in ms; also bounds how fast an idle consumer stops; default 500. */
  readonly maxWaitTimeInMs: number;
  /** kafkajs retries of retriable errors (exponential back-off from `initialRetryTime`, about 10 s in all); default 5. */
  readonly retries: number;
  /** Milliseconds; default 300. */
  readonly initialRetryTime: number;
  /** Milliseconds to open a connection; default 3000. */
  readonly connectionTimeout: number;
  /** Milliseconds a request may take; default 30000. */
  readonly requestTimeout: number;
  /** Partitions one member processes at the same time (each in order); default 4. */
  readonly partitionsConsumedConcurrently: number;
}

export const DEFAULT_TUNING: KafkaTuning = {
  sessionTimeout: 30_000,
  rebalanceTimeout: 60_000,
  heartbeatInterval: 3_000,
  maxWaitTimeInMs: 500,
  retries: 5,
  initialRetryTime: 300,
  connectionTimeout: 3_000,
  requestTimeout: 30_000,
  partitionsConsumedConcurrently: 4,
};

function saslOptions(sasl: NonNullable<KafkaBusConfig['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/** The kafkajs configuration for `config` (exported for tests). */
export function kafkaClientConfig(config: KafkaBusConfig, tuning: KafkaTuning, logger: Logger): KafkaConfig {
  const ssl = config.ssl;
  return {
    clientId: config.clientId,
    // `brokers: ["${KAFKA_BROKERS}"]` may hold a comma-separated list after interpolation.
    brokers: config.brokers.flatMap((b) => b.split(',')).map((b) => b.trim()).filter((b) => b !== ''),
    ...(ssl === undefined || ssl === false ? {} : { ssl: ssl === true ? true : (ssl as ConnectionOptions) }),
    ...(config.sasl === undefined ? {} : { sasl: saslOptions(config.sasl) }),
    connectionTimeout: tuning.connectionTimeout,
    requestTimeout: tuning.requestTimeout,
    retry: { retries: tuning.retries, initialRetryTime: tuning.initialRetryTime, maxRetryTime: 10_000 },
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(logger),
  };
}

export function createKafkaClient(config: KafkaBusConfig, tuning: KafkaTuning, logger: Logger): Kafka {
  return new Kafka(kafkaClientConfig(config, tuning, logger));
}
