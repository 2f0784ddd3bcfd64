/**
 * The bank's `balances` read model fed by two mia-run processes in one consumer group (at-least-once): both
 * take commands for the same accounts, every published event is also redelivered (as a relay republishing
 * after a crash would), and one process leaves half-way (its partitions move to a third one). Every document
 * must still equal its account's state: applied once per (aggregateId, version), never twice, none lost.
 * Embedded store and bus on a shared data directory always; Kafka + MongoDB protocol when KAFKA_BROKERS and
 * MONGODB_URL are set (visible skip otherwise).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { loadProject } from '../../src/config/load-project.js';
import type { AggregateConfig } from '../../src/config/sections/aggregates.js';
import type { ProjectConfig } from '../../src/config/types.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DocumentStore } from '../../src/ports/document-store.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { busKind, createBackendRegistry, storeKind } from '../../src/runtime/registry.js';
import { waitFor } from '../unit/eventsourcing/harness.js';

const root = new URL('../..', import.meta.url).pathname;
const child = join(root, 'test/integration/eventsourcing-child.ts');
const brokers = process.env.KAFKA_BROKERS;
const mongoUrl = process.env.MONGODB_URL;
const realSkip = brokers === undefined || brokers === '' || mongoUrl === undefined || mongoUrl === '' ? 'set KAFKA_BROKERS and MONGODB_URL to run' : false;

interface Proc { readonly proc: ChildProcess; readonly url: string }

async function startProcess(configFile: string, dataDir: string): Promise<Proc> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, configFile, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => line.startsWith('url ') && resolve(line.slice(4)));
    proc.once('exit', (code) => reject(new Error(`child exited with ${code} before starting`)));
  });
  return { proc, url };
}

async function stopProcess(p: Proc): Promise<void> {
  if (p.proc.exitCode !== null) return;
  const exited = new Promise((resolve) => p.proc.once('exit', resolve));
  p.proc.kill('SIGTERM');
  await exited;
}

async function scenario(project: ProjectConfig, dataDir: string): Promise<void> {
  const configFile = join(dataDir, 'project.json');
  await writeFile(configFile, JSON.stringify(project));
  const topic = project.aggregates.account?.publish?.topic ?? '';
  const ctx = { dataDir, logger: silentLogger, clock: systemClock, projectName: project.name };
  const registry = createBackendRegistry();
  const dbConfig = project.databases.default!;
  const store = registry.create(storeKind(dbConfig), 'default', dbConfig as never, ctx) as DocumentStore;
  const bus = registry.create(busKind(project.bus), 'bus', project.bus as never, ctx) as EventBus;
  const procs: Proc[] = [];
  try {
    procs.push(await startProcess(configFile, dataDir), await startProcess(configFile, dataDir));
    await store.start();
    await bus.start();
    const accounts = Array.from({ length: 8 }, (_, i) => `acc-${i}`);
    const call = async (p: Proc, path: string, body: object): Promise<number> => {
      const res = await fetch(`${p.url}/accounts/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.arrayBuffer();
      return res.status;
    };
    const round = async (live: readonly Proc[], n: number) => {
      // Both processes take commands for every account at once (version conflicts are retried by the command;
      // a withdrawal decided before the deposit is refused for insufficient funds).
      const statuses = await Promise.all(accounts.flatMap((id, i) => [call(live[(i + n) % live.length]!, `${id}/deposit`, { amount: 10 + n, currency: 'EUR' }), call(live[(i + n + 1) % live.length]!, `${id}/withdraw`, { amount: 1 })]));
      assert.ok(statuses.every((s) => s === 200 || s === 409 || s === 422), `statuses ${statuses.join(',')}`);
    };
    for (const [i, id] of accounts.entries()) assert.equal(await call(procs[i % 2]!, `${id}/open`, { owner: id }), 201);
    for (let n = 0; n < 3; n++) await round(procs, n);

    // Redeliver every event stored so far, as a relay that crashed after publishing would.
    const events = await store.collection('account-events').find({}, { sort: { aggregateId: 1, version: 1 } }).toArray();
    await bus.publish(topic, events.map((e) => ({ key: String(e.aggregateId), value: { aggregateType: 'account', aggregateId: e.aggregateId, version: e.version, type: e.type, schemaVersion: e.schemaVersion, data: e.data, metadata: { occurredAt: new Date().toISOString() } } })));

    // One process leaves; a third one joins the group.
    await stopProcess(procs[1]!);
    procs[1] = await startProcess(configFile, dataDir);
    for (let n = 3; n < 6; n++) await round(procs, n);

    const expected = async (id: string) => (await (await fetch(`${procs[0]!.url}/accounts/${id}`)).json()) as { version: number; state: { balance: number } };
    for (const id of accounts) {
      const want = await expected(id);
      const doc = await waitFor(async () => {
        const d = await store.collection('balances').findOne({ _id: id });
        return d !== null && d.__internal__counter === want.version ? d : undefined;
      }, `read model ${id} at version ${want.version}`, 60_000);
      assert.equal(doc.balance, want.state.balance, `${id}: every event applied exactly once`);
    }
  } finally {
    await Promise.all(procs.map(stopProcess));
    await bus.close();
    await store.close();
  }
}

async function bank(): Promise<ProjectConfig> {
  const { config, diagnostics } = await loadProject(join(root, 'examples/bank/project.yaml'), { cwd: root, env: {} });
  assert.ok(config, diagnostics.map((d) => d.message).join('\n'));
  return config;
}

describe('a read model fed by two processes in one consumer group stays exact', () => {
  it('embedded store and bus on a shared data directory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mia-run-es-two-'));
    try {
      await scenario(await bank(), dataDir);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('Kafka + MongoDB protocol', { skip: realSkip }, async () => {
    const suffix = randomBytes(4).toString('hex');
    const topic = `account-events-${suffix}`;
    const base = await bank();
    const account = base.aggregates.account as AggregateConfig;
    const project: ProjectConfig = {
      ...base,
      databases: { default: { kind: 'mongodb', url: mongoUrl ?? '', database: `bank_two_${suffix}`, connectTimeout: 10_000 } },
      bus: { kind: 'kafka', brokers: (brokers ?? '').split(','), clientId: `bank-two-${suffix}`, topics: { [topic]: { partitions: 3 } } },
      aggregates: { account: { ...account, publish: { topic } } },
    };
    const dataDir = await mkdtemp(join(tmpdir(), 'mia-run-es-two-kafka-'));
    try {
      await scenario(project, dataDir);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
