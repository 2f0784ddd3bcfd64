// examples/bank on real servers: the MongoDB protocol (MONGODB_URL) for the event store, snapshots, outbox
// and read model, Kafka (KAFKA_BROKERS) for the published events. Topic and database get a random suffix.
// Skipped (visibly) when either variable is unset.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadProject } from '../../src/config/load-project.js';
import type { AggregateConfig } from '../../src/config/sections/aggregates.js';
import type { KafkaBusConfig, ProjectConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { waitFor } from '../unit/eventsourcing/harness.js';

const root = new URL('../..', import.meta.url).pathname;
const brokers = process.env.KAFKA_BROKERS;
const mongoUrl = process.env.MONGODB_URL;
const skip = brokers === undefined || brokers === '' || mongoUrl === undefined || mongoUrl === '' ? 'set KAFKA_BROKERS and MONGODB_URL to run' : false;

describe('examples/bank on Kafka + MongoDB protocol', { skip }, () => {
  const suffix = randomBytes(4).toString('hex');
  const topic = `account-events-${suffix}`;
  let dataDir: string;
  let runtime: Runtime;
  let url: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mia-run-bank-kafka-'));
    const { config } = await loadProject(join(root, 'examples/bank/project.yaml'), { cwd: root, env: {} });
    const base = config as ProjectConfig;
    const account = base.aggregates.account as AggregateConfig;
    const bus: KafkaBusConfig = { kind: 'kafka', brokers: (brokers ?? '').split(','), clientId: `bank-test-${suffix}`, topics: { [topic]: { partitions: 3 } } };
    const project: ProjectConfig = {
      ...base,
      databases: { default: { kind: 'mongodb', url: mongoUrl ?? '', database: `bank_test_${suffix}`, connectTimeout: 10_000 } },
      bus,
      aggregates: { account: { ...account, publish: { topic } } },
    };
    runtime = createRuntime(project, { port: 0, host: '127.0.0.1', dataDir, logger: silentLogger });
    url = (await runtime.start()).url;
  });
  after(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const post = async (id: string, body: object) => {
    const res = await fetch(`${url}/accounts/${id}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('appends with expected versions (one of two same-version writers wins), rejects invalid events, folds state', async () => {
    assert.equal((await post('k1', { type: 'Opened', payload: { owner: 'Ada' }, expectedVersion: 0 })).status, 201);
    const race = await Promise.all([10, 20].map((amount) => post('k1', { type: 'Deposited', payload: { amount, currency: 'EUR' }, expectedVersion: 1 })));
    assert.deepEqual(race.map((r) => r.status).sort(), [200, 409]);
    assert.equal((await post('k1', { type: 'Withdrawn', payload: { amount: -1 } })).status, 400);
    const state = (await (await fetch(`${url}/accounts/k1`)).json()) as { version: number; state: { balance: number } };
    assert.equal(state.version, 2);
    assert.ok(state.state.balance === 10 || state.state.balance === 20);
  });

  it('publishes through the outbox to Kafka and the read model follows', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await post('k2', { type: 'Deposited', payload: { amount: 1, currency: 'EUR' } })).status, i === 0 ? 201 : 200);
    const doc = await waitFor(async () => {
      const res = await fetch(`${url}/accounts/-/read-models/balances/k2`);
      const body = res.status === 200 ? ((await res.json()) as { balance: number; __internal__counter: number }) : undefined;
      return body?.__internal__counter === 5 ? body : undefined;
    }, 'read model k2 at version 5', 60_000);
    assert.equal(doc.balance, 5);
  });
});
