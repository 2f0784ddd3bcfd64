// Every example project validates and starts (STYLE §14), through the built CLI as a user runs it:
// `mia-run validate` exits 0; `mia-run run --port 0` becomes ready (/-/ready answers 200) and exits 0 on SIGTERM.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'bin/mia-run.js');
const examples = readdirSync(join(root, 'examples')).filter((name) => existsSync(join(root, 'examples', name, 'project.yaml'))).sort();
// Only PATH from the host, so a PORT or service URL set on the machine cannot change what is tested.
const env = { PATH: process.env.PATH ?? '' };

// Starting needs the embedded adapters; until both are registered the start test says so instead of failing.
const builtDist = existsSync(join(root, 'dist/cli/main.js'));
const registered = builtDist ? Object.keys((await import(join(root, 'dist/runtime/registry.js')) as { builtinBackends: object }).builtinBackends) : [];
const missing = ['store.embedded', 'bus.embedded'].filter((kind) => !registered.includes(kind));
const startSkip = missing.length === 0 ? false : `no adapter registered for ${missing.join(', ')} yet`;

async function readyStatus(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/-/ready`);
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

describe('examples (built CLI)', { skip: builtDist ? false : 'run `npm run build` first' }, () => {
  test('there is at least one example', () => assert.ok(examples.length > 0));

  for (const name of examples) {
    const file = join('examples', name, 'project.yaml');

    test(`${name}: starts with the yaml-language-server schema comment`, async () => {
      const first = (await readFile(join(root, file), 'utf8')).split('\n')[0];
      assert.equal(first, '# yaml-language-server: $schema=../../schemas/project.schema.json');
    });

    test(`${name}: validates`, () => {
      const result = spawnSync(process.execPath, [cli, 'validate', file], { cwd: root, env, encoding: 'utf8' });
      assert.equal(result.stdout, `${file}: valid\n`, result.stderr);
      assert.equal(result.status, 0);
    });

    test(`${name}: starts, is ready, and exits 0 on SIGTERM`, { skip: startSkip }, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), `mia-run-example-${name}-`));
      const child = spawn(process.execPath, [cli, 'run', file, '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const check = (): void => {
            const m = /listening on (http:\/\/\S+)/.exec(output);
            if (m?.[1]) resolve(m[1]);
          };
          child.stdout.on('data', check);
          void exited.then((code) => reject(new Error(`exited (${code}) before listening:\n${output}`)));
        });
        let status = 0;
        // Bounded polling: readiness follows the listening line closely.
        for (let i = 0; i < 1000 && status !== 200; i++) {
          status = await readyStatus(url);
          if (status !== 200) await new Promise((r) => setImmediate(r));
        }
        assert.equal(status, 200, output);
        child.kill('SIGTERM');
        assert.equal(await exited, 0, output);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});
