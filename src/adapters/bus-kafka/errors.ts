/**
 * Turns kafkajs errors into `MiaRunError`s whose `retriable` flag says whether trying again can help (kafkajs
 * has already retried with back-off by the time an error reaches us; callers may retry again later).
 */
import { MiaRunError, isMiaRunError } from '../../errors.js';

/** The fields of kafkajs errors we read (kafkajs' classes are not exported as ESM named exports). */
interface KafkaJsErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly type?: string;
  readonly retriable?: boolean;
  readonly cause?: unknown;
  readonly originalError?: unknown;
}

/** Protocol error types that mean "the group is moving partitions around; rejoin and try again". */
const REBALANCING = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR', 'NOT_COORDINATOR_FOR_GROUP', 'FENCED_INSTANCE_ID']);
const UNKNOWN_TOPIC = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID']);
const INVALID_MESSAGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP', 'INVALID_TOPIC_EXCEPTION']);
const NOT_AUTHORIZED = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'SASL_AUTHENTICATION_FAILED']);

function shape(err: unknown): KafkaJsErrorShape {
  return typeof err === 'object' && err !== null ? (err as KafkaJsErrorShape) : { message: String(err) };
}

/**
 * The innermost kafkajs error. kafkajs wraps the last failure of its retries (`KafkaJSNumberOfRetriesExceeded`,
 * or `KafkaJSNonRetriableError` when a producer gives up on a lost connection): the cause says what happened.
 */
function innermost(err: unknown): KafkaJsErrorShape {
  let current = shape(err);
  for (let i = 0; i < 5; i += 1) {
    const next = current.originalError ?? (current.name?.startsWith('KafkaJS') === true ? current.cause : undefined);
    if (next === undefined || next === null || next === current) break;
    current = shape(next);
  }
  return current;
}

/** Whether `err` means the consumer group is rebalancing (kafkajs rejoins by itself when it sees one). */
export function isRebalanceError(err: unknown): boolean {
  const inner = innermost(err);
  return inner.type !== undefined && REBALANCING.has(inner.type);
}

/**
 * Maps an error thrown by kafkajs during `action` on `topic` (when one applies). MiaRunErrors pass through.
 *
 * @example
 * try { await producer.send(...) } catch (err) { throw toBusError(err, 'publishing to orders', { topic: 'orders' }) }
 */
export function toBusError(err: unknown, action: string, details: Readonly<Record<string, unknown>> = {}): MiaRunError {
  if (isMiaRunError(err)) return err;
  const inner = innermost(err);
  const type = inner.type;
  const reason = inner.message ?? shape(err).message ?? 'unknown error';
  const all = { ...details, ...(type === undefined ? {} : { kafkaError: type }) };
  if (type !== undefined && UNKNOWN_TOPIC.has(type)) {
    const topic = typeof details.topic === 'string' ? `"${details.topic}" ` : '';
    return new MiaRunError('MR_BUS_UNKNOWN_TOPIC', `Topic ${topic}does not exist on the Kafka cluster (${action})`, {
      cause: err,
      details: all,
      hint: 'declare it under bus.topics in the descriptor; mia-run creates declared topics at start',
    });
  }
  if (type !== undefined && REBALANCING.has(type)) {
    return new MiaRunError('MR_BUS_REBALANCING', `The consumer group is rebalancing (${action}): ${reason}`, { cause: err, details: all });
  }
  if (type !== undefined && INVALID_MESSAGE.has(type)) {
    return new MiaRunError('MR_BUS_INVALID_MESSAGE', `Kafka rejected the message (${action}): ${reason}`, {
      cause: err,
      details: all,
      hint: type === 'MESSAGE_TOO_LARGE' ? 'the broker limits a record batch to message.max.bytes (1 MiB by default)' : undefined,
    });
  }
  if ((type !== undefined && NOT_AUTHORIZED.has(type)) || inner.name === 'KafkaJSSASLAuthenticationError') {
    return new MiaRunError('MR_BUS_UNAVAILABLE', `Kafka refused access (${action}): ${reason}`, {
      cause: err,
      details: all,
      retriable: false,
      hint: 'check bus.sasl / bus.ssl and the ACLs of the Kafka principal',
    });
  }
  // Connection losses, timeouts, leader elections, exhausted retries of retriable errors: the cluster may
  // answer later. Errors kafkajs flags as non-retriable (and that are none of the above) stay non-retriable.
  const retriable = inner.retriable !== false || shape(err).name === 'KafkaJSNumberOfRetriesExceeded';
  return new MiaRunError('MR_BUS_UNAVAILABLE', `Kafka is unavailable (${action}): ${reason}`, {
    cause: err,
    details: all,
    retriable,
    hint: retriable ? 'is the broker running and reachable at bus.brokers?' : undefined,
  });
}
