import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRebalanceError, toBusError } from '../../../../src/adapters/bus-kafka/errors.js';
import { MiaRunError } from '../../../../src/errors.js';

/** Shapes of kafkajs errors as kafkajs builds them (name, type, retriable, retries wrapping the last cause). */
const protocol = (type: string, retriable: boolean) => Object.assign(new Error(`${type} happened`), { name: 'KafkaJSProtocolError', type, retriable });
const retriesExceeded = (cause: Error) => Object.assign(new Error(cause.message), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause, originalError: cause });

describe('bus.kafka error mapping', () => {
  it('maps an unknown topic to MR_BUS_UNKNOWN_TOPIC (not retriable), naming the topic', () => {
    const err = toBusError(retriesExceeded(protocol('UNKNOWN_TOPIC_OR_PARTITION', true)), 'publishing', { topic: 'orders' });
    assert.equal(err.code, 'MR_BUS_UNKNOWN_TOPIC');
    assert.equal(err.retriable, false);
    assert.match(err.message, /"orders"/);
    assert.equal(err.details?.kafkaError, 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('maps group-protocol errors to retriable MR_BUS_REBALANCING', () => {
    for (const type of ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR']) {
      const err = toBusError(protocol(type, true), 'committing');
      assert.equal(err.code, 'MR_BUS_REBALANCING', type);
      assert.equal(err.retriable, true, type);
      assert.equal(isRebalanceError(protocol(type, true)), true, type);
    }
    assert.equal(isRebalanceError(protocol('LEADER_NOT_AVAILABLE', true)), false);
  });

  it('maps connection losses and exhausted retries of retriable errors to retriable MR_BUS_UNAVAILABLE', () => {
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1'), { name: 'KafkaJSConnectionError', retriable: true });
    // What an idempotent producer throws when the broker went away: a non-retriable wrapper of the connection error.
    const gaveUp = Object.assign(new Error(refused.message, { cause: refused }), { name: 'KafkaJSNonRetriableError', retriable: false });
    for (const e of [refused, retriesExceeded(refused), retriesExceeded(protocol('LEADER_NOT_AVAILABLE', true)), protocol('REQUEST_TIMED_OUT', true), gaveUp]) {
      const err = toBusError(e, 'publishing');
      assert.equal(err.code, 'MR_BUS_UNAVAILABLE');
      assert.equal(err.retriable, true);
      assert.equal(err.statusCode, 503);
      assert.equal(err.cause, e);
    }
  });

  it('maps rejected messages to MR_BUS_INVALID_MESSAGE with a hint on size', () => {
    const err = toBusError(protocol('MESSAGE_TOO_LARGE', false), 'publishing', { topic: 't' });
    assert.equal(err.code, 'MR_BUS_INVALID_MESSAGE');
    assert.equal(err.retriable, false);
    assert.match(err.hint ?? '', /message\.max\.bytes/);
  });

  it('keeps authentication and authorization failures non-retriable', () => {
    for (const e of [protocol('TOPIC_AUTHORIZATION_FAILED', false), Object.assign(new Error('SASL PLAIN authentication failed'), { name: 'KafkaJSSASLAuthenticationError', retriable: false })]) {
      const err = toBusError(e, 'connecting');
      assert.equal(err.code, 'MR_BUS_UNAVAILABLE');
      assert.equal(err.retriable, false);
      assert.match(err.hint ?? '', /sasl/);
    }
  });

  it('passes MiaRunErrors through and wraps non-errors', () => {
    const own = new MiaRunError('MR_BUS_CLOSED', 'closed');
    assert.equal(toBusError(own, 'x'), own);
    const odd = toBusError('plain text', 'x');
    assert.equal(odd.code, 'MR_BUS_UNAVAILABLE');
    assert.match(odd.message, /plain text/);
  });
});
