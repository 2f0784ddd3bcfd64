// Golden cases of `mia-run validate` run through the built CLI, as CI runs it. Each directory under
// test/e2e/validate/ holds a descriptor (and any included files), `expected.txt` (stdout), optionally
// `expected-stderr.txt`, and `exit-code`. Optional: `args` (the command line, default
// `validate project.yaml`), `env` (KEY=value lines; nothing else of the host environment is passed except
// PATH), `generate.json` (files generated in the copy: `{ "file": "project.yaml", "bytes": 52428800 }`).
// Each case runs in a temporary copy of its directory, with a relative path, so the output names files as
// a user sees them. `UPDATE_GOLDEN=1` rewrites the expected files from the actual output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { cp, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'bin/mia-run.js');
const casesDir = join(root, 'test/e2e/validate');
const update = process.env.UPDATE_GOLDEN === '1';

const cases = readdirSync(casesDir).filter((name) => statSync(join(casesDir, name)).isDirectory()).sort();

async function optional(file: string): Promise<string | undefined> {
  return existsSync(file) ? readFile(file, 'utf8') : undefined;
}

function splitArgs(line: string): string[] {
  return [...line.trim().matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

function parseEnv(text: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return env;
}

/** Writes `bytes` of valid but pointless YAML (comment lines), without holding it all in memory. */
async function generate(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w');
  const line = `# ${'x'.repeat(1021)}\n`;
  const chunk = line.repeat(1024);
  for (let written = 0; written < bytes; written += chunk.length) await handle.write(chunk);
  await handle.close();
}

function runCli(args: string[], cwd: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ stdout, stderr, code }));
  });
}

describe('mia-run validate golden cases (built CLI)', { skip: existsSync(join(root, 'dist/cli/main.js')) ? false : 'run `npm run build` first', concurrency: 4 }, () => {
  test('there are at least 25 cases', () => {
    assert.ok(cases.length >= 25, `only ${cases.length} golden cases`);
  });

  for (const name of cases) {
    test(name, async () => {
      const source = join(casesDir, name);
      const dir = await mkdtemp(join(tmpdir(), `mia-run-golden-${name}-`));
      try {
        await cp(source, dir, { recursive: true });
        const spec = await optional(join(source, 'generate.json'));
        if (spec !== undefined) {
          const { file, bytes } = JSON.parse(spec) as { file: string; bytes: number };
          await generate(join(dir, file), bytes);
        }
        const args = splitArgs((await optional(join(source, 'args'))) ?? 'validate project.yaml');
        const env = parseEnv(await optional(join(source, 'env')));
        const actual = await runCli(args, dir, env);
        if (update) {
          await writeFile(join(source, 'expected.txt'), actual.stdout);
          await writeFile(join(source, 'exit-code'), `${actual.code}\n`);
          if (actual.stderr !== '') await writeFile(join(source, 'expected-stderr.txt'), actual.stderr);
          else await rm(join(source, 'expected-stderr.txt'), { force: true });
          return;
        }
        assert.equal(actual.stdout, await readFile(join(source, 'expected.txt'), 'utf8'), 'stdout');
        assert.equal(actual.stderr, (await optional(join(source, 'expected-stderr.txt'))) ?? '', 'stderr');
        assert.equal(actual.code, Number((await readFile(join(source, 'exit-code'), 'utf8')).trim()), 'exit code');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
