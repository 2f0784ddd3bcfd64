// `mia-run run` as a user runs it: the built CLI in a child process, a descriptor in a temp dir, port 0.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'bin/mia-run.js');

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the output contains `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString('utf8');
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = pattern.exec(out);
        if (m) {
          waiters.delete(check);
          resolve(m);
        }
      };
      waiters.add(check);
      check();
      void exited.then(({ code }) => {
        if (waiters.has(check)) reject(new Error(`mia-run exited (${code}) before printing ${pattern}:\n${out}`));
      });
    });
  return waitFor(/listening on (http:\/\/\S+)/).then((m) => ({ child, url: m[1] ?? '', output: () => out, exited, waitFor }));
}

/** Opens a connection and sends an incomplete request, so the server has a request in progress. */
function halfRequest(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write('GET /-/ready HTTP/1.1\r\nHost: test\r\n');
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

describe('mia-run run (built CLI)', { skip: existsSync(join(root, 'dist/cli/main.js')) ? false : 'run `npm run build` first' }, () => {
  let dir = '';
  let project = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-e2e-run-'));
    project = join(dir, 'project.yaml');
    await writeFile(project, 'version: 1\nname: e2e-shop\nserver:\n  port: ${PORT:-8080}\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('starts, is ready, and exits 0 with a "stopped" line on SIGTERM', async () => {
    const run = await start(['run', project, '--port', '0', '--data-dir', join(dir, 'data-1')], dir);
    assert.match(run.output(), /mia-run: e2e-shop listening on http:\/\/127\.0\.0\.1:\d+ \(backends: default store\.embedded, bus bus\.embedded; capabilities: /);
    const ready = await fetch(`${run.url}/-/ready`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { name: string; status: string };
    assert.equal(body.name, 'e2e-shop');
    assert.equal(body.status, 'OK');
    run.child.kill('SIGTERM');
    assert.deepEqual(await run.exited, { code: 0, signal: null });
    assert.match(run.output(), /"msg":"stopped"/);
  });

  test('PORT is honoured through ${PORT:-8080} in the descriptor', async () => {
    // Port 0 through the environment: the descriptor, not a flag, picks it.
    const run = await start(['run', project, '--data-dir', join(dir, 'data-2')], dir, { PORT: '0' });
    assert.notEqual(new URL(run.url).port, '8080');
    run.child.kill('SIGINT');
    assert.equal((await run.exited).code, 0);
  });

  test('a second signal while draining exits at once', async () => {
    const run = await start(['run', project, '--port', '0', '--data-dir', join(dir, 'data-3')], dir);
    const socket = await halfRequest(run.url);
    run.child.kill('SIGTERM');
    await run.waitFor(/signal received: draining/);
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    socket.destroy();
    assert.equal(code, 143);
    assert.match(run.output(), /second signal: exiting now/);
    assert.doesNotMatch(run.output(), /"msg":"stopped"/);
  });

  test('an unknown --role is a diagnostic and exit 1', async () => {
    const child = spawn(process.execPath, [cli, 'run', project, '--role', 'gatway'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(err, /MR_CONFIG_UNKNOWN_ROLE --role: "gatway" is not a role; did you mean "gateway"\?/);
  });
});
