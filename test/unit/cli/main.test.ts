import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/command.js';
import { VERSION } from '../../../src/runtime/version.js';

const root = new URL('../../../', import.meta.url).pathname;

function capture(cwd = root, env: Record<string, string> = {}): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd, env }, out: () => out, err: () => err };
}

async function inTemp<T>(files: Record<string, string>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-cli-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('--version prints the package version and exits 0', async () => {
  const c = capture();
  assert.equal(await runCli(['--version'], c.io), 0);
  assert.equal(c.out(), `${VERSION}\n`);
});

test('--help lists the commands and exits 0', async () => {
  const c = capture();
  assert.equal(await runCli(['--help'], c.io), 0);
  for (const name of ['run', 'validate', 'schema']) assert.match(c.out(), new RegExp(`\\n  ${name} `));
});

test('validate --help shows the formats', async () => {
  const c = capture();
  assert.equal(await runCli(['validate', '--help'], c.io), 0);
  assert.match(c.out(), /choices: "text", "json", "github"/);
});

test('a mistyped command exits 2 and suggests the closest command', async () => {
  const c = capture();
  assert.equal(await runCli(['valdate', 'x.yaml'], c.io), 2);
  assert.match(c.err(), /unknown command 'valdate' \(Did you mean validate\?\)/);
});

test('a mistyped option exits 2 and suggests the closest option', async () => {
  const c = capture();
  assert.equal(await runCli(['validate', '--fromat', 'json', 'x.yaml'], c.io), 2);
  assert.match(c.err(), /unknown option '--fromat'\n\(Did you mean --format\?\)/);
});

test('an unknown --format value exits 2', async () => {
  const c = capture();
  assert.equal(await runCli(['validate', '--format', 'xml', 'x.yaml'], c.io), 2);
  assert.match(c.err(), /Allowed choices are text, json, github/);
});

test('validate: exit 0 for a valid file, 1 with every problem, in the chosen format', async () => {
  await inTemp({ 'ok.yaml': 'version: 1\nname: ok\n', 'bad.yaml': 'version: 1\nname: bad\nservr: {}\nupstreams: { a: {} }\n' }, async (dir) => {
    const ok = capture(dir);
    assert.equal(await runCli(['validate', 'ok.yaml'], ok.io), 0);
    assert.equal(ok.out(), 'ok.yaml: valid\n');

    const bad = capture(dir);
    assert.equal(await runCli(['validate', 'ok.yaml', 'bad.yaml'], bad.io), 1);
    assert.deepEqual(bad.out().split('\n').slice(0, 2).map((l) => l.split(' ').slice(0, 3).join(' ')), [
      'bad.yaml:3:1 error MR_CONFIG_UNKNOWN_KEY',
      'bad.yaml:4:14 error MR_CONFIG_MISSING_KEY',
    ]);
    assert.match(bad.out(), /\nok\.yaml: valid\nbad\.yaml: invalid, 2 errors, 0 warnings\n$/);

    const json = capture(dir);
    assert.equal(await runCli(['validate', '--format', 'json', 'bad.yaml'], json.io), 1);
    const parsed = JSON.parse(json.out()) as { valid: boolean; errors: number; files: { diagnostics: { code: string; line: number }[] }[] };
    assert.equal(parsed.valid, false);
    assert.equal(parsed.errors, 2);
    assert.deepEqual(parsed.files[0]?.diagnostics.map((d) => [d.code, d.line]), [['MR_CONFIG_UNKNOWN_KEY', 3], ['MR_CONFIG_MISSING_KEY', 4]]);

    const github = capture(dir);
    assert.equal(await runCli(['validate', '--format', 'github', 'bad.yaml'], github.io), 1);
    assert.match(github.out(), /^::error file=bad\.yaml,line=3,col=1,title=MR_CONFIG_UNKNOWN_KEY::servr: "servr" is not a known key; did you mean "server"\?/);
  });
});

test('validate reads ${VAR} from the environment it is given', async () => {
  await inTemp({ 'p.yaml': 'version: 1\nname: p\nupstreams: { a: { url: "${A_URL:?needed}" } }\n' }, async (dir) => {
    assert.equal(await runCli(['validate', 'p.yaml'], capture(dir).io), 1);
    assert.equal(await runCli(['validate', 'p.yaml'], capture(dir, { A_URL: 'http://a' }).io), 0);
  });
});

test('schema prints the published JSON Schema', async () => {
  const c = capture();
  assert.equal(await runCli(['schema'], c.io), 0);
  assert.equal(c.out(), await readFile(join(root, 'schemas/project.schema.json'), 'utf8'));
  assert.equal((JSON.parse(c.out()) as { title: string }).title, 'mia-run project descriptor');
});

test('run with an invalid descriptor exits 1 before starting anything, diagnostics on stderr', async () => {
  await inTemp({ 'p.yaml': 'version: 1\nname: p\nserver: { port: http }\n' }, async (dir) => {
    const c = capture(dir);
    assert.equal(await runCli(['p.yaml', '--port', '0', '--data-dir', join(dir, 'data')], c.io), 1, 'the default command is run');
    assert.equal(c.out(), '');
    assert.match(c.err(), /^p\.yaml:3:17 error MR_CONFIG_SCHEMA server\.port: expected a port/);
  });
});

test('run --port rejects a non-port with a usage error', async () => {
  const c = capture();
  assert.equal(await runCli(['run', 'p.yaml', '--port', 'abc'], c.io), 2);
  assert.match(c.err(), /^error: option '--port <port>' argument 'abc' is invalid. "abc" is not a port \(0-65535\)\n/);
  assert.doesNotMatch(c.err(), /internal error/);
});

test('an unexpected exception is reported as a bug with the version, exit 2', async () => {
  let calls = 0;
  const io: CliIo = {
    stdout: () => {
      calls++;
      throw new Error('stdout is gone');
    },
    stderr: (t) => (err += t),
    cwd: root,
    env: {},
  };
  let err = '';
  assert.equal(await runCli(['schema'], io), 2);
  assert.equal(calls, 1);
  assert.match(err, new RegExp(`internal error \\(MR_INTERNAL\\): this is a bug, please report it with the version \\(mia-run ${VERSION.replace(/\./g, '\\.')}`));
  assert.match(err, /stdout is gone/);
});

test('no arguments prints the help on stderr and exits 2', async () => {
  const c = capture();
  assert.equal(await runCli([], c.io), 2);
  assert.match(c.err(), /^Usage: mia-run \[options\] \[command\]/);
});

test('"help <command>" shows that command\'s help', async () => {
  const c = capture();
  assert.equal(await runCli(['help', 'validate'], c.io), 0);
  assert.match(c.out(), /^Usage: mia-run validate \[options\] <file\.\.\.>/);
});

test('validate exit codes: 0 valid or warnings only, 1 any error, 2 when the checker itself failed (MR_INTERNAL)', async () => {
  const { exitCodeFor } = await import('../../../src/cli/commands/validate-action.js');
  const d = (code: 'MR_CONFIG_SCHEMA' | 'MR_INTERNAL', severity: 'error' | 'warning' = 'error') => ({ code, severity, path: '', message: 'm' });
  assert.equal(exitCodeFor([{ file: 'a', diagnostics: [] }]), 0);
  assert.equal(exitCodeFor([{ file: 'a', diagnostics: [d('MR_CONFIG_SCHEMA', 'warning')] }]), 0);
  assert.equal(exitCodeFor([{ file: 'a', diagnostics: [] }, { file: 'b', diagnostics: [d('MR_CONFIG_SCHEMA')] }]), 1);
  assert.equal(exitCodeFor([{ file: 'a', diagnostics: [d('MR_CONFIG_SCHEMA')] }, { file: 'b', diagnostics: [d('MR_INTERNAL')] }]), 2);
});
