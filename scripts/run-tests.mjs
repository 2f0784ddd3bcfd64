#!/usr/bin/env node
// Runs every test file under test/ with node:test (TypeScript through tsx), after a guard that fails on
// focused tests (.only), and prints one visible line for each integration suite that is skipped.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

let files = walk(join(root, 'test')).sort();
if (args.length > 0) files = files.filter((f) => args.some((a) => relative(root, f).includes(a)));

const focused = files.filter((f) => /\b(?:it|test|describe|suite)\.only\s*\(|\bonly\s*:\s*true\b/.test(readFileSync(f, 'utf8')));
if (focused.length > 0) {
  console.error(`Focused tests found (remove .only / only: true before committing):\n  ${focused.map((f) => relative(root, f)).join('\n  ')}`);
  process.exit(1);
}
if (files.length === 0) {
  console.error('No test files found.');
  process.exit(1);
}

const services = [
  ['MONGODB_URL', 'MongoDB-protocol integration and contract suites', 'scripts/services/mongodb start'],
  ['KAFKA_BROKERS', 'Apache Kafka integration and contract suites', 'scripts/services/kafka start'],
];
for (const [name, what, how] of services) {
  if (process.env[name]) console.log(`run: ${what} against ${name}=${process.env[name]}`);
  else console.log(`skip: ${what} (set ${name} to run them; \`${how}\` provisions a local server)`);
}

const result = spawnSync(process.execPath, [
  '--import', 'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-reporter=spec',
  ...files.map((f) => relative(root, f)),
], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
