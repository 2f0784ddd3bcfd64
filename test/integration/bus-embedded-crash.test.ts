/**
 * The embedded bus across real processes killed with SIGKILL: no acknowledged message is lost, committed
 * messages are not redelivered beyond one batch, and a dead member's partitions are taken over.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';

const child = fileURLToPath(new URL('./bus-embedded-child.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'mia-run-bus-crash-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Running {
  readonly proc: ChildProcess;
  readonly lines: string[];
}

function start(args: string[]): Running {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const lines: string[] = [];
  let buffer = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  return { proc, lines };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function kill9(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.proc.once('exit', resolve));
  running.proc.kill('SIGKILL');
  await exited;
}

function openBus(dir: string, topic: string): EmbeddedEventBus {
  return new EmbeddedEventBus('bus', { kind: 'embedded', path: dir, topics: { [topic]: { partitions: 4 } } }, { dataDir: dir, clock: systemClock, logger: silentLogger });
}

function effects(file: string): { partition: number; offset: number; seq: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [partition, offset, seq] = l.split(' ').map(Number);
      return { partition: partition!, offset: offset!, seq: seq! };
    });
}

describe('embedded bus under kill -9', () => {
  it('keeps every acknowledged message of a producer killed mid-stream', async () => {
    const dir = join(root, 'produce');
    const producer = start(['produce', dir, 'orders', '100000']);
    await waitFor('some acknowledged batches', () => producer.lines.filter((l) => l.startsWith('acked')).length >= 30);
    await kill9(producer);
    const acked = Math.max(...producer.lines.filter((l) => l.startsWith('acked')).map((l) => Number(l.split(' ')[1])));

    const bus = openBus(dir, 'orders');
    await bus.start();
    const seen = new Set<number>();
    const sub = await bus.subscribe({
      group: 'audit',
      topics: ['orders'],
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) seen.add(m.json<{ seq: number }>().seq);
      },
    });
    await waitFor('every acknowledged message', () => [...Array(acked + 1).keys()].every((s) => seen.has(s)));
    await sub.stop();
    await bus.close();
  });

  it('redelivers at most the in-flight batches to a consumer restarted after kill -9', async () => {
    const dir = join(root, 'consume');
    const file = join(root, 'consume-effects.txt');
    const bus = openBus(dir, 'orders');
    await bus.start();
    await bus.publish('orders', Array.from({ length: 3000 }, (_, seq) => ({ key: `k${seq % 13}`, value: { seq } })));

    const first = start(['consume', dir, 'orders', 'billing', file]);
    await waitFor('some effects', () => effects(file).length >= 500);
    await kill9(first);
    const beforeRestart = effects(file).length;
    assert.ok(beforeRestart < 3000, 'killed before the end');

    const second = start(['consume', dir, 'orders', 'billing', file]);
    await waitFor('every message handled', () => new Set(effects(file).map((e) => e.seq)).size === 3000);
    await waitFor('zero lag', async () => (await bus.lag('billing', ['orders'])).every((l) => l.lag === 0));
    await kill9(second);
    const all = effects(file);
    const duplicates = all.length - new Set(all.map((e) => `${e.partition}/${e.offset}`)).size;
    // At-least-once window per partition (4): the batch being handled plus the previous one whose commit was
    // still being written (commits overlap the next batch), maxBatchSize 10 each.
    assert.ok(duplicates <= 80, `${duplicates} redeliveries`);
    await bus.close();
  });

  it('splits partitions between two processes and hands a killed member\'s partitions to the survivor', async () => {
    const dir = join(root, 'group');
    const fileA = join(root, 'group-a.txt');
    const fileB = join(root, 'group-b.txt');
    const bus = openBus(dir, 'orders');
    await bus.start();
    const a = start(['consume', dir, 'orders', 'shipping', fileA]);
    const b = start(['consume', dir, 'orders', 'shipping', fileB]);
    const assigned = (r: Running): string => [...r.lines].reverse().find((l) => l.startsWith('assigned')) ?? 'assigned ';
    await waitFor('two members with two partitions each', () => assigned(a).split(',').length === 2 && assigned(b).split(',').length === 2);
    const partsA = assigned(a).slice(9).split(',');
    const partsB = assigned(b).slice(9).split(',');
    assert.deepEqual([...partsA, ...partsB].sort(), ['0', '1', '2', '3']);

    await bus.publish('orders', Array.from({ length: 200 }, (_, seq) => ({ key: `k${seq}`, value: { seq } })));
    await waitFor('200 messages across both', () => new Set([...effects(fileA), ...effects(fileB)].map((e) => e.seq)).size === 200);
    assert.ok(effects(fileA).every((e) => partsA.includes(String(e.partition))));
    assert.ok(effects(fileB).every((e) => partsB.includes(String(e.partition))));

    await kill9(b);
    await waitFor('the survivor owning all partitions', () => assigned(a) === 'assigned 0,1,2,3');
    await bus.publish('orders', Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: { seq: 200 + i } })));
    await waitFor('the next 200 at the survivor', () => new Set(effects(fileA).map((e) => e.seq).filter((s) => s >= 200)).size === 200);
    await kill9(a);
    await bus.close();
  });
});
