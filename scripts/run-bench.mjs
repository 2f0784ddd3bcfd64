#!/usr/bin/env node
// Runs the benchmarks in bench/ one after another (`node scripts/run-bench.mjs [substring...] [-- args]`):
// `.mjs` files with node, `.ts` files through tsx. Helpers (files not named like a bench entry) are skipped:
// an entry is `bench/<name>.mjs|ts` whose name has no `-descriptor`/`-helpers`/`.lib` part.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const filters = sep < 0 ? argv : argv.slice(0, sep);
const passThrough = sep < 0 ? [] : argv.slice(sep + 1);

const isEntry = (name) => /\.(mjs|ts)$/.test(name) && !/(-descriptor|-helpers|\.lib)\.(mjs|ts)$/.test(name) && !name.endsWith('.d.ts');
let entries = readdirSync(join(root, 'bench')).filter(isEntry).sort();
if (filters.length > 0) entries = entries.filter((e) => filters.some((f) => e.includes(f)));
if (entries.length === 0) {
  console.error('No benchmark matched.');
  process.exit(1);
}

let failed = 0;
for (const entry of entries) {
  console.log(`\n=== bench/${entry}`);
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', join('bench', entry)] : [join('bench', entry)];
  const result = spawnSync(process.execPath, [...args, ...passThrough], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
