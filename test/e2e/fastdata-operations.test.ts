// Fast Data operations (fast-data.md §6-§7) as a user drives them: a running process on the embedded
// backends, `mia-run fast-data ...` in a second process on the same data directory (status, pause, refresh,
// redrive, and load/replay through the admin routes), the `/-/fast-data/` routes, dead letters with their
// header, and the `mia_run_fd_*` metrics on `/-/metrics`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { loadProject } from '../../src/config/load-project.js';
import type { ProjectConfig } from '../../src/config/types.js';
import { systemClock } from '../../src/ports/clock.js';
import type { ConsumedMessage, EventBus } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';

const YAML = `
version: 1
name: fd-ops
bus:
  topics:
    erp.customers: { partitions: 2 }
    erp.orders: { partitions: 2 }
fastData:
  systemsOfRecord:
    erp:
      format: debezium
      projections:
        customers:
          topic: erp.customers
          primaryKey: [id]
          fields:
            - { name: id, source: ID, cast: toInteger }
            - { name: name, source: NAME, cast: toString }
        orders:
          topic: erp.orders
          primaryKey: [id]
          fields:
            - { name: id, source: ID, cast: toInteger }
            - { name: customerId, source: CUSTOMER_ID, cast: toInteger }
  singleViews:
    customer-360:
      key: { customerId: customers.id }
      relations: [{ from: orders.customerId, to: customers.id }]
      aggregation:
        customerId: customers.id
        name: customers.name
        orders: { from: orders, many: true, fields: { id: id } }
endpoints:
  - { basePath: /customer-360, target: { view: customer-360 }, public: true }
  - { basePath: /customers, target: { projection: customers }, public: true }
`;

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dbz = (op: string, after: Record<string, unknown>): Record<string, unknown> => ({ op, before: null, after, source: {} });

/** Polls `check` until it returns a truthy value (bounded, no fixed sleeps in assertions). */
async function until<T>(check: () => Promise<T>, what: string, attempts = 1500): Promise<NonNullable<T>> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('fast-data operations (CLI, admin routes, dead letters, metrics)', () => {
  let dir: string;
  let config: ProjectConfig;
  let runtime: Runtime;
  let url: string;
  let producer: EventBus;
  let ts = 1_700_000_000_000;

  const start = async (): Promise<void> => {
    runtime = createRuntime(config, { port: 0, host: '127.0.0.1', dataDir: join(dir, 'data'), logger: silentLogger });
    url = (await runtime.start()).url;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-fd-ops-'));
    await writeFile(join(dir, 'project.yaml'), YAML);
    const loaded = await loadProject(join(dir, 'project.yaml'), { env: {} });
    assert.deepEqual(loaded.diagnostics, []);
    config = loaded.config as ProjectConfig;
    await start();
    producer = createEmbeddedEventBus('bus', { kind: 'embedded', topics: {} }, { dataDir: join(dir, 'data'), clock: systemClock, logger: silentLogger }, { pollMs: 5 });
    await producer.start();
  });
  after(async () => {
    await producer?.close();
    await runtime?.stop('test done');
    await rm(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      // From the repository root (where tsx resolves); the descriptor and data directory are absolute.
      const absolute = args.map((a) => (a === 'project.yaml' ? join(dir, 'project.yaml') : a === 'data' ? join(dir, 'data') : a));
      execFile(process.execPath, ['--import', 'tsx', join(root, 'test/e2e/fastdata-cli.ts'), ...absolute], { cwd: root }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 2, stdout, stderr });
      });
    });
  const produce = async (topic: string, key: unknown, value: unknown, headers: Record<string, string> = {}): Promise<void> => {
    await producer.publish(topic, [{ key: typeof key === 'string' ? key : JSON.stringify(key), value: value as string, headers, timestamp: (ts += 1000) }]);
  };
  const json = async (path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${url}${path}`, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const sv = async (id: number): Promise<Record<string, unknown> | undefined> => {
    const res = await json(`/customer-360/${id}`);
    return res.status === 200 ? res.body : undefined;
  };
  const metrics = async (): Promise<string> => (await fetch(`${url}/-/metrics`)).text();
  const metric = (text: string, line: string): number | undefined => {
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    return found === undefined ? undefined : Number(found.slice(line.length + 1));
  };
  const readAll = async (topic: string, atLeast: number): Promise<ConsumedMessage[]> => {
    const out: ConsumedMessage[] = [];
    await until(async () => (await producer.describeTopics()).some((t) => t.name === topic), `topic ${topic}`);
    const sub = await producer.subscribe({ group: `reader-${Math.random()}`, topics: [topic], fromBeginning: true, handler: async (b) => void out.push(...b.messages) });
    await until(async () => out.length >= atLeast, `${atLeast} messages on ${topic}`);
    await sub.stop();
    return out;
  };

  it('ingests, and status (CLI on the backends) reports offsets, documents, views and the journal', async () => {
    await produce('erp.customers', { ID: 1 }, dbz('c', { ID: 1, NAME: 'Ada', EXTRA: 1 }));
    await produce('erp.customers', { ID: 2 }, dbz('c', { ID: 2, NAME: 'Bob' }));
    await produce('erp.orders', { ID: 10 }, dbz('c', { ID: 10, CUSTOMER_ID: 1 }));
    await until(async () => JSON.stringify((await sv(1))?.orders) === '[{"id":10}]', 'customer 1 with order 10');
    const { code, stdout, stderr } = await cli('fast-data', 'status', 'project.yaml', '--data-dir', 'data', '--format', 'json');
    assert.equal(code, 0, stderr);
    const status = JSON.parse(stdout) as { projections: { name: string; lag: number; paused: boolean; documents: { public: number }; partitions: unknown[]; deadLetters: { topic: string; messages: number } }[]; views: { name: string; documents: number; journal: { ready: number } }[] };
    const customers = status.projections.find((p) => p.name === 'customers')!;
    assert.equal(customers.lag, 0);
    assert.equal(customers.paused, false);
    assert.equal(customers.documents.public, 2);
    assert.equal(customers.partitions.length, 2);
    assert.deepEqual(customers.deadLetters, { topic: 'erp.customers.dlq', messages: 0 });
    assert.deepEqual(status.views.map((v) => [v.name, v.documents, v.journal.ready]), [['customer-360', 2, 0]]);
    const text = await cli('fastdata', 'status', 'project.yaml', '--data-dir', 'data');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /customers \(erp, topic erp\.customers\): lag 0 .*documents 2 public/);
    const m = await metrics();
    assert.equal(metric(m, 'mia_run_fd_messages_total{projection="customers",operation="I",result="applied"}'), 2);
    assert.equal(metric(m, 'mia_run_fd_messages_total{projection="orders",operation="I",result="applied"}'), 1);
    assert.equal(metric(m, 'mia_run_fd_unmapped_total{projection="customers",field="EXTRA",type="UNKNOWN_FIELD"}'), 1);
    assert.equal(metric(m, 'mia_run_fd_sv_total{view="customer-360",result="insert"}'), 2);
  });

  it('an unknown name exits 1 with the closest match', async () => {
    const res = await cli('fast-data', 'pause', 'project.yaml', 'custmers', '--data-dir', 'data');
    assert.equal(res.code, 1);
    assert.match(res.stderr, /MR_FD_UNKNOWN_NAME: "custmers" is not a projection or single view of project "fd-ops"; did you mean "customers"\?/);
    const view = await json('/-/fast-data/refresh/customer-36', { method: 'POST' });
    assert.equal(view.status, 404);
    assert.equal(view.body.code, 'MR_FD_UNKNOWN_NAME');
  });

  it('dead-letters poison messages byte for byte with the mia-run-dead-letter header; redrive sends them back', async () => {
    await produce('erp.customers', '{"ID":3}', 'not json', { 'x-trace': 't-1' });
    const [dead] = await readAll('erp.customers.dlq', 1);
    assert.equal(dead!.key, '{"ID":3}');
    assert.equal(dead!.text(), 'not json');
    assert.equal(dead!.headers['x-trace'], 't-1');
    const info = JSON.parse(dead!.headers['mia-run-dead-letter']!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(info), ['code', 'message', 'retriable', 'attempts', 'stage', 'projection', 'source', 'failedAt']);
    assert.equal(info.code, 'MR_FD_INVALID_MESSAGE');
    assert.equal(info.retriable, false);
    assert.equal(info.attempts, 1);
    assert.equal(info.stage, 'ingestion');
    assert.equal(info.projection, 'customers');
    assert.deepEqual(info.source, { topic: 'erp.customers', partition: (info.source as { partition: number }).partition, offset: (info.source as { offset: string }).offset, timestamp: String(ts) });
    assert.match(String((info.source as { offset: string }).offset), /^\d+$/);
    assert.ok(!Number.isNaN(Date.parse(String(info.failedAt))));
    // A key that matches nothing redrives nothing; the whole topic sends the letter back (and, still poison,
    // it is dead-lettered again with its original timestamp).
    const none = await cli('fast-data', 'redrive', 'project.yaml', 'erp.customers.dlq', '--key', '{"ID":99}', '--data-dir', 'data');
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /0 dead letter\(s\) sent back to erp\.customers, 1 with another key left/);
    const all = await cli('fast-data', 'redrive', 'project.yaml', 'erp.customers.dlq', '--data-dir', 'data');
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /1 dead letter\(s\) sent back to erp\.customers/);
    const again = await readAll('erp.customers.dlq', 2);
    assert.equal(again[1]!.text(), 'not json');
    assert.equal(again[1]!.timestamp, dead!.timestamp);
    assert.equal(again[1]!.headers['x-trace'], 't-1');
    assert.equal(metric(await metrics(), 'mia_run_fd_dead_letters_total{projection="customers",code="MR_FD_INVALID_MESSAGE"}'), 2);
    assert.equal(metric(await metrics(), 'mia_run_fd_messages_total{projection="customers",operation="unknown",result="dead_letter"}'), 2);
    const unknownTopic = await cli('fast-data', 'redrive', 'project.yaml', 'erp.customers.DLQ', '--data-dir', 'data');
    assert.equal(unknownTopic.code, 1);
    assert.match(unknownTopic.stderr, /did you mean "erp\.customers\.dlq"/);
  });

  it('pause (admin route) holds a projection, survives a restart, and resume applies what waited', async () => {
    const paused = await json('/-/fast-data/pause/customers', { method: 'POST' });
    assert.equal(paused.status, 200);
    assert.deepEqual(paused.body, { name: 'customers', kind: 'projection', changed: true, paused: true });
    await produce('erp.customers', { ID: 2 }, dbz('u', { ID: 2, NAME: 'Bob paused' }));
    // The other projection of the same system of record keeps flowing.
    await produce('erp.orders', { ID: 11 }, dbz('c', { ID: 11, CUSTOMER_ID: 2 }));
    await until(async () => JSON.stringify((await sv(2))?.orders) === '[{"id":11}]', 'order 11 in customer 2');
    assert.equal((await sv(2))?.name, 'Bob');
    await runtime.stop('restart');
    await start();
    const status = await json('/-/fast-data/status');
    const customers = (status.body.projections as { name: string; paused: boolean; lag: number }[]).find((p) => p.name === 'customers')!;
    assert.equal(customers.paused, true);
    assert.equal(customers.lag, 1);
    const resumed = await cli('fast-data', 'resume', 'project.yaml', 'customers', '--data-dir', 'data');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /projection customers: resumed/);
    await until(async () => (await sv(2))?.name === 'Bob paused', 'the update that waited');
  });

  it('a paused view parks its identifiers in the journal; refresh (CLI) and resume recompute them', async () => {
    // Through the process (--url): it re-reads its pause state before answering.
    const paused = await cli('fast-data', 'pause', 'project.yaml', 'customer-360', '--url', url);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /view customer-360: paused/);
    await produce('erp.customers', { ID: 1 }, dbz('u', { ID: 1, NAME: 'Ada L.' }));
    const parked = await until(async () => {
      const v = ((await json('/-/fast-data/status')).body.views as { journal: { ready: number } }[])[0]!;
      return v.journal.ready >= 1 ? v : undefined;
    }, 'an identifier parked in the journal');
    assert.equal(parked.journal.ready, 1);
    assert.equal((await sv(1))?.name, 'Ada');
    const refreshed = await cli('fast-data', 'refresh', 'project.yaml', 'customer-360', '--data-dir', 'data');
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.match(refreshed.stdout, /customer-360: 2 document\(s\) recomputed \{"update":1,"noop":1\}/);
    assert.equal((await sv(1))?.name, 'Ada L.');
    await json('/-/fast-data/resume/customer-360', { method: 'POST' });
    await until(async () => ((await json('/-/fast-data/status')).body.views as { journal: { ready: number } }[])[0]?.journal.ready === 0, 'the journal drained on resume');
  });

  it('load and replay (CLI through the admin routes) consume the topics again and refresh the views', async () => {
    const loaded = await cli('fast-data', 'load', 'project.yaml', 'orders', '--url', url);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /load started: orders/);
    const replayed = await cli('fast-data', 'replay', 'project.yaml', 'customers', '--url', url, '--format', 'json');
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.deepEqual(JSON.parse(replayed.stdout), { projections: ['customers'], cleared: { customers: 2 }, warnings: [] });
    await until(async () => {
      const p = ((await json('/-/fast-data/status')).body.projections as { name: string; loading: boolean; documents: { public: number } }[]);
      return p.every((x) => !x.loading) && p.find((x) => x.name === 'customers')?.documents.public === 2;
    }, 'the replay to finish');
    await until(async () => (await sv(1))?.name === 'Ada L.' && (await sv(2))?.name === 'Bob paused', 'the views after the replay');
    const offline = await cli('fast-data', 'load', 'project.yaml', 'orders', '--url', 'http://127.0.0.1:9');
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /MR_FD_OPERATION_UNAVAILABLE: no mia-run process answered at http:\/\/127\.0\.0\.1:9/);
  });

  it('exports the mia_run_fd_* metrics with their values', async () => {
    const text = await until(async () => {
      const t = await metrics();
      return metric(t, 'mia_run_fd_consumer_lag{topic="erp.customers",partition="0"}') === 0 && metric(t, 'mia_run_fd_journal_ready{view="customer-360"}') === 0 ? t : undefined;
    }, 'sampled gauges');
    // Counted since the restart: the update that waited for resume, the update behind the paused view, then
    // the load of orders (2 inserts) and the replay of customers (2 inserts, 2 poison messages, 2 updates).
    assert.equal(metric(text, 'mia_run_fd_messages_total{projection="customers",operation="U",result="applied"}'), 4);
    assert.equal(metric(text, 'mia_run_fd_messages_total{projection="customers",operation="I",result="applied"}'), 2);
    assert.equal(metric(text, 'mia_run_fd_messages_total{projection="orders",operation="I",result="applied"}'), 2);
    assert.equal(metric(text, 'mia_run_fd_dead_letters_total{projection="customers",code="MR_FD_INVALID_MESSAGE"}'), 2);
    assert.equal(metric(text, 'mia_run_fd_unmapped_total{projection="customers",field="EXTRA",type="UNKNOWN_FIELD"}'), 1);
    assert.ok((metric(text, 'mia_run_fd_sv_total{view="customer-360",result="update"}') ?? 0) >= 1);
    assert.ok((metric(text, 'mia_run_fd_sv_compute_seconds_count{view="customer-360"}') ?? 0) >= 1);
    assert.ok((metric(text, 'mia_run_fd_ingest_to_sv_seconds_count{view="customer-360"}') ?? 0) >= 1);
    assert.equal(metric(text, 'mia_run_fd_journal_oldest_seconds{view="customer-360"}'), 0);
  });

  it('a load interrupted by a restart carries on and finishes after it', async () => {
    type P = { name: string; loading: boolean; paused: boolean; lag: number };
    const orders = async (): Promise<P> => ((await json('/-/fast-data/status')).body.projections as P[]).find((p) => p.name === 'orders')!;
    // Paused, the consumer cannot catch up: the load stays open across the restart.
    await json('/-/fast-data/pause/orders', { method: 'POST' });
    const started = await json('/-/fast-data/load', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ projections: ['orders'] }) });
    assert.equal(started.status, 202);
    await until(async () => (await orders()).lag === 2, 'the orders group moved back to the beginning');
    assert.equal((await orders()).loading, true);
    await runtime.stop('restart during a load');
    await start();
    assert.deepEqual(await orders().then((o) => [o.loading, o.paused, o.lag]), [true, true, 2]);
    await json('/-/fast-data/resume/orders', { method: 'POST' });
    await until(async () => {
      const o = await orders();
      return !o.loading && o.lag === 0;
    }, 'the load to finish');
    assert.deepEqual((await sv(2))?.orders, [{ id: 11 }]);
  });
});
