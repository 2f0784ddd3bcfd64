import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logLevel } from 'kafkajs';
import { DEFAULT_TUNING, kafkaClientConfig } from '../../../../src/adapters/bus-kafka/client.js';
import { kafkaLogCreator, levelOf } from '../../../../src/adapters/bus-kafka/log-creator.js';
import { toConsumedMessage } from '../../../../src/adapters/bus-kafka/messages.js';
import { topicCreation } from '../../../../src/adapters/bus-kafka/topics.js';
import type { KafkaBusConfig } from '../../../../src/config/types.js';
import { silentLogger, type LogFn, type Logger } from '../../../../src/ports/logger.js';

const base: KafkaBusConfig = { kind: 'kafka', brokers: ['k1:9092', 'k2:9092'], clientId: 'shop', topics: {} };

function recordingLogger(lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[]): Logger {
  const at = (level: string): LogFn => ((obj: unknown, msg?: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg })) as LogFn;
  const logger: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), child: () => logger };
  return logger;
}

describe('bus.kafka client configuration', () => {
  it('passes brokers, client id and no TLS/SASL by default', () => {
    const cfg = kafkaClientConfig(base, DEFAULT_TUNING, silentLogger);
    assert.deepEqual(cfg.brokers, ['k1:9092', 'k2:9092']);
    assert.equal(cfg.clientId, 'shop');
    assert.equal(cfg.ssl, undefined);
    assert.equal(cfg.sasl, undefined);
    assert.equal(cfg.retry?.retries, DEFAULT_TUNING.retries);
  });

  it('splits comma-separated broker lists (an interpolated ${KAFKA_BROKERS})', () => {
    assert.deepEqual(kafkaClientConfig({ ...base, brokers: ['a:9092, b:9092', 'c:9092'] }, DEFAULT_TUNING, silentLogger).brokers, ['a:9092', 'b:9092', 'c:9092']);
  });

  it('passes ssl (true or TLS options) and each SASL mechanism', () => {
    assert.equal(kafkaClientConfig({ ...base, ssl: true }, DEFAULT_TUNING, silentLogger).ssl, true);
    assert.deepEqual(kafkaClientConfig({ ...base, ssl: { rejectUnauthorized: false } }, DEFAULT_TUNING, silentLogger).ssl, { rejectUnauthorized: false });
    assert.equal(kafkaClientConfig({ ...base, ssl: false }, DEFAULT_TUNING, silentLogger).ssl, undefined);
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const cfg = kafkaClientConfig({ ...base, sasl: { mechanism, username: 'u', password: 'p' } }, DEFAULT_TUNING, silentLogger);
      assert.deepEqual(cfg.sasl, { mechanism, username: 'u', password: 'p' });
    }
  });
});

describe('bus.kafka topic creation', () => {
  it('creates the declared partitions and retention; no retention means keep forever', () => {
    assert.deepEqual(topicCreation('orders', { partitions: 6, retentionMs: 3_600_000, retentionBytes: 1_048_576 }), {
      topic: 'orders',
      numPartitions: 6,
      replicationFactor: -1,
      configEntries: [
        { name: 'retention.ms', value: '3600000' },
        { name: 'retention.bytes', value: '1048576' },
      ],
    });
    assert.deepEqual(topicCreation('audit', { partitions: 1 }).configEntries, [{ name: 'retention.ms', value: '-1' }]);
  });
});

describe('bus.kafka logs', () => {
  it('demotes retried error responses and chatter, keeps warnings', () => {
    const entry = (level: number, namespace: string, message: string) => ({ level, namespace, log: { message, timestamp: '' } });
    assert.equal(levelOf(entry(logLevel.ERROR, 'Connection', 'Response Heartbeat(key: 12, version: 3)')), 'debug');
    assert.equal(levelOf(entry(logLevel.ERROR, 'Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded')), 'warn');
    assert.equal(levelOf(entry(logLevel.WARN, 'Producer', 'x')), 'warn');
    assert.equal(levelOf(entry(logLevel.WARN, 'Producer', 'Limiting retries for the idempotent producer may invalidate EoS guarantees')), 'debug');
    assert.equal(levelOf(entry(logLevel.INFO, 'ConsumerGroup', 'Consumer has joined the group')), 'debug');
    assert.equal(levelOf(entry(logLevel.DEBUG, 'Connection', 'Request Fetch')), 'trace');
  });

  it('writes the message with the kafkajs namespace and extra fields into the Logger port', () => {
    const lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
    const log = kafkaLogCreator(recordingLogger(lines))(logLevel.INFO);
    log({ namespace: 'Consumer', level: logLevel.WARN, label: 'WARN', log: { message: 'slow', timestamp: 't', logger: 'kafkajs', groupId: 'g' } });
    assert.deepEqual(lines, [{ level: 'warn', obj: { kafkajs: 'Consumer', groupId: 'g' }, msg: 'slow' }]);
  });
});

describe('bus.kafka consumed messages', () => {
  it('turns kafkajs messages into port messages (key text, tombstone, string headers)', () => {
    const m = toConsumedMessage('t', 2, {
      key: Buffer.from('k-1'),
      value: Buffer.from('{"a":1}'),
      offset: '41',
      timestamp: '1700000000000',
      attributes: 0,
      headers: { plain: Buffer.from('v'), text: 'w', many: [Buffer.from('1'), Buffer.from('2')], none: undefined },
    });
    assert.deepEqual({ topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, timestamp: m.timestamp, headers: m.headers }, {
      topic: 't',
      partition: 2,
      offset: 41,
      key: 'k-1',
      timestamp: 1_700_000_000_000,
      headers: { plain: 'v', text: 'w', many: '2' },
    });
    assert.deepEqual(m.json(), { a: 1 });
    const tomb = toConsumedMessage('t', 0, { key: null, value: null, offset: '0', timestamp: '1', attributes: 0, headers: {} });
    assert.equal(tomb.key, null);
    assert.equal(tomb.value, null);
    assert.equal(tomb.text(), null);
  });
});
