// `mia-run topics ...` as a user runs it: the built CLI in a child process, NDJSON on stdin, output and exit
// code asserted. Runs on the embedded bus always, and on Kafka when KAFKA_BROKERS is set.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'bin/mia-run.js');
const built = existsSync(join(root, 'dist/cli/main.js'));

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion with `input` on stdin; killed (and failing) after 60 s. */
function mia(args: readonly string[], cwd: string, input = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mia-run ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Starts `mia-run run` and resolves once it listens. */
async function serve(args: readonly string[], cwd: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'run', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      if (/listening on http/.test(out)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`mia-run run exited (${code}):\n${out}`)));
  });
  return child;
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

interface Backend {
  readonly name: string;
  readonly skip: string | false;
  readonly bus: (id: string) => string;
}

const backends: readonly Backend[] = [
  { name: 'embedded', skip: false, bus: () => 'kind: embedded' },
  {
    name: 'kafka',
    skip: process.env.KAFKA_BROKERS ? false : 'set KAFKA_BROKERS to run (scripts/services/kafka start)',
    bus: () => `kind: kafka\n  brokers: ["${process.env.KAFKA_BROKERS}"]`,
  },
];

for (const backend of backends) {
  describe(`mia-run topics on the ${backend.name} bus (built CLI)`, { skip: built ? backend.skip : 'run `npm run build` first' }, () => {
    let dir = '';
    let project = '';
    let dataDir = '';
    const id = randomUUID().slice(0, 8);
    const events = `e2e-events-${id}`;
    const audit = `e2e-audit-${id}`;
    const topics = (...more: string[]): string[] => [...more, '--data-dir', dataDir];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `mia-run-e2e-topics-${backend.name}-`));
      project = join(dir, 'project.yaml');
      dataDir = join(dir, 'data');
      await writeFile(
        project,
        `version: 1\nname: e2e-topics\nserver:\n  port: 0\nbus:\n  ${backend.bus(id)}\n  topics:\n    ${events}: { partitions: 3, key: id }\n    ${audit}: {}\n`,
      );
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('produce then consume round trip with keys from the declared key field', async () => {
      const input = ['{"id":"a","n":1}', '{"id":"b","n":2}', '', '{"id":"a","n":3}'].join('\n');
      const produced = await mia(['topics', 'produce', project, events, ...topics()], dir, input);
      assert.equal(produced.code, 0, produced.stderr);
      assert.equal(produced.stdout, `produced 3 message(s) to "${events}"\n`);

      const consumed = await mia(['topics', 'consume', project, events, '--from-beginning', '--max', '3', '--envelope', ...topics()], dir);
      assert.equal(consumed.code, 0, consumed.stderr);
      const got = lines(consumed.stdout).map((l) => JSON.parse(l) as { key: string; value: { n: number }; partition: number });
      assert.deepEqual(got.map((m) => m.value.n).sort(), [1, 2, 3]);
      assert.ok(got.every((m) => m.key === (m.value.n === 2 ? 'b' : 'a')));
      // One key, one partition, in order.
      const aMessages = got.filter((m) => m.key === 'a');
      assert.equal(new Set(aMessages.map((m) => m.partition)).size, 1);
      assert.deepEqual(aMessages.map((m) => m.value.n), [1, 3]);
      assert.match(consumed.stderr, /consumed 3 message\(s\)/);
    });

    test('envelopes carry keys, headers, timestamps and tombstones through', async () => {
      const input = [
        JSON.stringify({ key: 'k-1', value: { v: 1 }, headers: { 'x-trace': 't-1' }, timestamp: 1_700_000_000_000 }),
        JSON.stringify({ key: 'k-1', value: null }),
        JSON.stringify({ key: null, value: 'plain text' }),
      ].join('\n');
      const produced = await mia(['topics', 'produce', project, audit, '--envelope', ...topics()], dir, input);
      assert.equal(produced.code, 0, produced.stderr);
      const consumed = await mia(['topics', 'consume', project, audit, '--from-beginning', '--max', '3', '--envelope', ...topics()], dir);
      assert.equal(consumed.code, 0, consumed.stderr);
      const got = lines(consumed.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        got.map((m) => [m.offset, m.key, m.value]),
        [
          [0, 'k-1', { v: 1 }],
          [1, 'k-1', null],
          [2, null, 'plain text'],
        ],
      );
      assert.deepEqual(got[0]!.headers, { 'x-trace': 't-1' });
      assert.equal(got[0]!.timestamp, 1_700_000_000_000);
      // Plain output prints each value as one JSON line; a tombstone is null.
      const plain = await mia(['topics', 'consume', project, audit, '--from-beginning', '--max', '3', ...topics()], dir);
      assert.deepEqual(lines(plain.stdout), ['{"v":1}', 'null', '"plain text"']);
    });

    test('lag shows what a group committed and what is left', async () => {
      const group = `e2e-group-${id}`;
      const seed = await mia(['topics', 'produce', project, audit, '--envelope', ...topics()], dir, '{"key":"x","value":1}\n');
      assert.equal(seed.code, 0, seed.stderr);
      const listed = await mia(['topics', 'list', project, '--format', 'json', ...topics()], dir);
      const total = (JSON.parse(listed.stdout) as { name: string; messages: number }[]).find((t) => t.name === audit)!.messages;
      const consumed = await mia(['topics', 'consume', project, audit, '--from-beginning', '--group', group, '--max', String(total), ...topics()], dir);
      assert.equal(consumed.code, 0, consumed.stderr);
      const more = await mia(['topics', 'produce', project, audit, ...topics()], dir, '{"n":1}\n{"n":2}\n');
      assert.equal(more.code, 0, more.stderr);

      const lag = await mia(['topics', 'lag', project, '--group', group, ...topics()], dir);
      assert.equal(lag.code, 0, lag.stderr);
      assert.deepEqual(lines(lag.stdout)[0]!.split(/\s+/), ['GROUP', 'TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG']);
      assert.deepEqual(lines(lag.stdout)[1]!.split(/\s+/), [group, audit, '0', String(total), String(total + 2), '2']);
      const json = await mia(['topics', 'lag', project, '--group', group, '--format', 'json', ...topics()], dir);
      assert.deepEqual((JSON.parse(json.stdout) as { topic: string; lag: number }[]).map((r) => [r.topic, r.lag]), [[audit, 2]]);
      // Without --group every group that committed on the bus is listed, this one among them.
      const all = await mia(['topics', 'lag', project, '--format', 'json', ...topics()], dir);
      assert.equal(all.code, 0, all.stderr);
      const rows = JSON.parse(all.stdout) as { group: string; topic: string; lag: number }[];
      assert.deepEqual(rows.filter((r) => r.group === group).map((r) => [r.topic, r.lag]), [[audit, 2]]);
    });

    test('list shows the declared topics with partitions and message counts', async () => {
      const listed = await mia(['topics', 'list', project, ...topics()], dir);
      assert.equal(listed.code, 0, listed.stderr);
      const rows = lines(listed.stdout).map((l) => l.split(/\s+/));
      assert.deepEqual(rows[0], ['TOPIC', 'PARTITIONS', 'MESSAGES', 'KEY', 'RETENTION']);
      assert.deepEqual(rows.find((r) => r[0] === events), [events, '3', '3', 'id', 'forever']);
      assert.deepEqual(rows.find((r) => r[0] === audit)?.slice(0, 2), [audit, '1']);
    });

    test('a bad input line fails with its line number, exit 1, and publishes nothing', async () => {
      const before = await mia(['topics', 'list', project, '--format', 'json', ...topics()], dir);
      const result = await mia(['topics', 'produce', project, events, ...topics()], dir, '{"id":"c"}\n{"id": oops}\n');
      assert.equal(result.code, 1);
      assert.match(result.stderr, /MR_BUS_INVALID_MESSAGE: stdin line 2: not valid JSON/);
      const missingKey = await mia(['topics', 'produce', project, events, '--key-field', 'customer.id', ...topics()], dir, '{"id":"c"}\n');
      assert.equal(missingKey.code, 1);
      assert.match(missingKey.stderr, /stdin line 1: the value has no string or number field "customer\.id"/);
      const badEnvelope = await mia(['topics', 'produce', project, audit, '--envelope', ...topics()], dir, '{"key":"k","value":1}\n{"key":"k","valu":2}\n');
      assert.equal(badEnvelope.code, 1);
      assert.match(badEnvelope.stderr, /stdin line 2: unknown envelope field "valu"/);
      const afterList = await mia(['topics', 'list', project, '--format', 'json', ...topics()], dir);
      assert.equal(afterList.stdout, before.stdout);
    });

    test('an unknown topic fails with a suggestion and exit 1', async () => {
      const result = await mia(['topics', 'produce', project, events.slice(0, -1), ...topics()], dir, '{"id":"x"}\n');
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`MR_BUS_UNKNOWN_TOPIC: Topic "${events.slice(0, -1)}" is not declared in bus.topics of project.yaml; did you mean "${events}"\\?`));
      const consume = await mia(['topics', 'consume', project, 'nope', '--max', '1', ...topics()], dir);
      assert.equal(consume.code, 1);
      assert.match(consume.stderr, /MR_BUS_UNKNOWN_TOPIC/);
    });

    test('works while a server runs on the same project and data directory', async () => {
      const server = await serve([project, '--port', '0', '--data-dir', dataDir], dir);
      try {
        const produced = await mia(['topics', 'produce', project, audit, ...topics()], dir, '{"while":"serving"}\n');
        assert.equal(produced.code, 0, produced.stderr);
        const consumed = await mia(['topics', 'consume', project, audit, '--from-beginning', '--idle', '3s', ...topics()], dir);
        assert.equal(consumed.code, 0, consumed.stderr);
        assert.equal(lines(consumed.stdout).at(-1), '{"while":"serving"}');
      } finally {
        server.kill('SIGTERM');
        await new Promise((resolve) => server.once('exit', resolve));
      }
    });
  });
}
