#!/usr/bin/env node
// Startup benchmark: time from process start to the first 200 on /-/ready, for the shop example and for a
// generated descriptor with 200 collections and 200 endpoints; plus `mia-run validate` time for the large one.
// Median of N runs (`--runs N`, default 5). Targets: shop < 1 s, large < 2 s (ARCHITECTURE/issue 3).
// Needs the built CLI (`npm run build`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { largeDescriptor, tinyShop } from './startup-descriptor.mjs';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'bin/mia-run.js');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function getStatus(url) {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** One start: spawn `run --port 0`, wait for the listening line, poll /-/ready until 200, then SIGTERM. */
async function timeStartup(file, dataDir) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, 'run', file, '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    exited.then((code) => reject(new Error(`mia-run exited (${code}) before listening:\n${out}${err}`)));
  });
  const listening = performance.now() - t0;
  let status = 0;
  for (let i = 0; i < 2000 && status !== 200; i++) status = await getStatus(`${url}/-/ready`);
  const ready = performance.now() - t0;
  if (status !== 200) throw new Error(`/-/ready never answered 200 (last ${status})\n${out}${err}`);
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`mia-run exited ${code} after SIGTERM\n${err}`);
  return { listening, ready };
}

async function timeValidate(file) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, 'validate', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  return { ms: performance.now() - t0, code, output };
}

async function main() {
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('build first: npm run build');
  const dir = await mkdtemp(join(tmpdir(), 'mia-run-bench-'));
  try {
    let shop = join(root, 'examples/shop/project.yaml');
    if (!existsSync(shop)) {
      shop = join(dir, 'shop.yaml');
      await writeFile(shop, tinyShop);
      console.log('(examples/shop/project.yaml missing: using a generated tiny shop)');
    }
    const large = join(dir, 'large.yaml');
    await writeFile(large, largeDescriptor());

    const cases = [
      { name: 'shop example', file: shop, target: 1000 },
      { name: 'large (200 collections, 200 endpoints)', file: large, target: 2000 },
    ];
    const rows = [];
    for (const c of cases) {
      const samples = [];
      try {
        for (let i = 0; i < runs; i++) samples.push(await timeStartup(c.file, join(dir, `data-${rows.length}-${i}`)));
      } catch (err) {
        // A start that fails (for example a backend adapter not built yet) must not hide the other figures.
        rows.push({ what: `start → /-/ready: ${c.name}`, median: NaN, extra: `failed: ${String(err.message).split('\n').find((l) => l.includes('error')) ?? err.message}`, target: c.target });
        continue;
      }
      const ready = median(samples.map((s) => s.ready));
      rows.push({ what: `start → /-/ready: ${c.name}`, median: ready, extra: `listening ${median(samples.map((s) => s.listening)).toFixed(0)} ms`, target: c.target });
    }
    for (const c of cases) {
      const validations = [];
      for (let i = 0; i < runs; i++) validations.push(await timeValidate(c.file));
      const last = validations.at(-1);
      if (last.code !== 0) console.log(`note: validate exited ${last.code} on ${c.name}:\n${last.output.split('\n').slice(0, 10).join('\n')}`);
      rows.push({ what: `validate: ${c.name}`, median: median(validations.map((v) => v.ms)), extra: `exit ${last.code}`, target: 1000 });
    }

    console.log(`\nmia-run startup bench (node ${process.version}, median of ${runs} runs)`);
    console.log(`${'case'.padEnd(62)} ${'median'.padStart(9)} ${'target'.padStart(8)}  result  notes`);
    for (const r of rows) {
      const result = Number.isNaN(r.median) ? 'n/a   ' : r.median < r.target ? 'ok    ' : 'SLOW  ';
      console.log(`${r.what.padEnd(62)} ${`${Number.isNaN(r.median) ? '-' : r.median.toFixed(0)} ms`.padStart(9)} ${`${r.target} ms`.padStart(8)}  ${result}  ${r.extra}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
