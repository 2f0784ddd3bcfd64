/**
 * The outbox across a kill -9: every order committed in the store has its event on the bus after a restart,
 * and no event exists for an order that was not committed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { EmbeddedDocumentStore } from '../../src/adapters/store-embedded/index.js';
import { createOutbox } from '../../src/outbox/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';

const child = fileURLToPath(new URL('./bus-embedded-child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mia-run-outbox-crash-'));
let proc: ChildProcess | undefined;
after(() => {
  if (proc !== undefined && proc.exitCode === null) proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('outbox under kill -9', () => {
  it('publishes every committed write\'s event after a restart, and none for uncommitted writes', async () => {
    let written = 0;
    proc = spawn(process.execPath, ['--import', 'tsx', child, 'outbox', dir, 'orders', '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    proc.stdout!.on('data', (chunk: Buffer) => (written += chunk.toString('utf8').split('\n').filter((l) => l.startsWith('written')).length));
    await waitFor('some committed writes', () => written >= 100);
    const exited = new Promise((resolve) => proc!.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;

    const store = new EmbeddedDocumentStore('db', { path: join(dir, 'db'), clock: systemClock, logger: silentLogger });
    await store.start();
    const bus = new EmbeddedEventBus('bus', { kind: 'embedded', path: dir, topics: { orders: { partitions: 4 } } }, { dataDir: dir, clock: systemClock, logger: silentLogger });
    await bus.start();
    const outbox = createOutbox({ store, bus, clock: systemClock, logger: silentLogger });
    await outbox.start();

    const orders = new Set((await store.collection('orders').find({}).toArray()).map((d) => String(d._id)));
    assert.ok(orders.size >= written, 'every acknowledged write is stored');
    const events = new Set<string>();
    const sub = await bus.subscribe({
      group: 'check',
      topics: ['orders'],
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) events.add(m.json<{ id: string }>().id);
      },
    });
    await waitFor('an event for every stored order', () => [...orders].every((id) => events.has(id)));
    assert.deepEqual([...events].filter((id) => !orders.has(id)), [], 'no event without its write');
    await sub.stop();
    await outbox.stop();
    await bus.close();
    await store.close();
  });
});
