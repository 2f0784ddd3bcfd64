// Change events between Fast Data stages (fast-data.md §4) on Kafka + MongoDB protocol (skipped unless
// KAFKA_BROKERS and MONGODB_URL are set): the same scenarios as the embedded suite, with topics carrying a
// random suffix, the runtime's database on the MongoDB-protocol server and the "Mia components" (pr-update
// and sv-trigger producers, the Real-Time Updater writing the shared database) played by separate clients.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { createKafkaEventBus } from '../../src/adapters/bus-kafka/index.js';
import { createMongoDocumentStore } from '../../src/adapters/store-mongodb/index.js';
import { loadProject } from '../../src/config/load-project.js';
import type { KafkaBusConfig, MongoDatabaseConfig, ProjectConfig } from '../../src/config/types.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DocumentStore } from '../../src/ports/document-store.js';
import { deadLetterTopic, type EventBus } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { topicScenarios, topicsYaml, type TopicsEnv } from './fastdata-topics-scenarios.js';

const brokers = process.env.KAFKA_BROKERS;
const mongoUrl = process.env.MONGODB_URL;
const skip = brokers === undefined || mongoUrl === undefined ? 'set KAFKA_BROKERS and MONGODB_URL to run' : false;

describe('fast data change events on Kafka + MongoDB protocol', { skip }, () => {
  const suffix = `-${randomBytes(4).toString('hex')}`;
  let dir: string;
  let runtime: Runtime;
  let bus: EventBus;
  let store: DocumentStore;
  let env: TopicsEnv;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-topics-kafka-'));
    await writeFile(join(dir, 'project.yaml'), topicsYaml(suffix));
    const { config, diagnostics } = await loadProject(join(dir, 'project.yaml'), { env: {} });
    assert.deepEqual(diagnostics, []);
    const base = config as ProjectConfig;
    const kafka: KafkaBusConfig = { kind: 'kafka', brokers: (brokers ?? '').split(','), clientId: `fd-topics${suffix}`, topics: base.bus.topics };
    const mongo: MongoDatabaseConfig = { kind: 'mongodb', url: mongoUrl ?? '', database: `fd_topics${suffix.replace('-', '_')}`, connectTimeout: 10_000 };
    runtime = createRuntime({ ...base, name: `fd-topics${suffix}`, bus: kafka, databases: { default: mongo } }, { port: 0, host: '127.0.0.1', dataDir: join(dir, 'data'), logger: silentLogger });
    const { url } = await runtime.start();
    bus = createKafkaEventBus('bus', { ...kafka, clientId: `fd-topics-client${suffix}` }, { clock: systemClock, logger: silentLogger });
    await bus.start();
    store = createMongoDocumentStore('default', mongo, { clock: systemClock, logger: silentLogger });
    await store.start();
    env = { url, bus, store, s: suffix, dlq: deadLetterTopic };
  });

  after(async () => {
    await bus?.close();
    await store?.close();
    await runtime?.stop('test done');
    await rm(dir, { recursive: true, force: true });
  });

  topicScenarios(() => env);
});
