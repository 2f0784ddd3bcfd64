// kill -9 under load: sagas are created and driven by a Mia-style executor while the process running them is
// killed with SIGKILL, then restarted on the same embedded data. Every saga that was acknowledged (an id was
// returned) must finish, with each event applied exactly once and nothing left pending.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createEmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';
import { waitFor } from '../helpers/saga-harness.js';
import { spawnListening, type ListeningProcess } from '../helpers/spawn-listening.js';

const root = new URL('../..', import.meta.url).pathname;

function startChild(dataDir: string): Promise<ListeningProcess> {
  return spawnListening(['--import', 'tsx', join(root, 'test/helpers/saga-crash-child.ts'), dataDir], 'child');
}

describe('sagas survive kill -9', () => {
  const children: ChildProcess[] = [];
  let dataDir = '';
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('finishes every acknowledged saga once after a SIGKILL mid-flight', { timeout: 120_000 }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mia-run-saga-crash-'));
    const first = await startChild(dataDir);
    children.push(first.child);
    const bus = createEmbeddedEventBus('bus', { kind: 'embedded', topics: {} }, { dataDir, clock: systemClock, logger: silentLogger }, { pollMs: 5 });
    await bus.start();
    const replies: Record<string, string> = { executePayment: 'paymentExecuted', shipOrder: 'orderShipped' };
    const executor = await bus.subscribe({
      group: 'executor',
      topics: ['order-commands'],
      fromBeginning: true,
      handler: async (batch) => {
        const out = batch.messages.flatMap((m) => {
          const reply = replies[m.json<{ messageLabel: string }>().messageLabel];
          return reply === undefined ? [] : [{ key: m.key, value: { messageLabel: reply, messagePayload: {} } }];
        });
        if (out.length > 0) await bus.publish('order-events', out);
      },
    });

    const ids: string[] = [];
    const create = async (url: string, i: number): Promise<void> => {
      try {
        const res = await fetch(`${url}/orders-saga/saga`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ associatedEntityId: `o-${i}`, metadata: { i } }) });
        if (res.status === 200) ids.push(((await res.json()) as { sagaId: string }).sagaId);
      } catch {
        // The process was killed under this request: no id, no promise made.
      }
    };
    // Sagas keep being created (4 at a time) until the process dies under them.
    let dead = false;
    const load = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = w; !dead && i < 400; i += 4) await create(first.url, i);
      }),
    );
    const stateOf = async (id: string): Promise<string> => ((await (await fetch(`${first.url}/orders-saga/saga/${id}`)).json()) as { currentState: string }).currentState;
    await waitFor(async () => ids.length >= 30 && (await Promise.all(ids.slice(0, 10).map(stateOf))).every((s) => s === 'delivered'), 'sagas in flight and some delivered', 3000);
    first.child.kill('SIGKILL');
    dead = true;
    await load;
    await first.exited;

    const second = await startChild(dataDir);
    if (process.env.SAGA_CRASH_DEBUG) {
      const before = await Promise.all(ids.map(async (id) => ((await (await fetch(`${second.url}/orders-saga/saga/${id}`)).json()) as { currentState: string; pendingCommands: unknown[] })));
      console.log(ids.length, 'acknowledged;', before.filter((d) => d.currentState !== 'delivered').length, 'unfinished at restart;', before.filter((d) => d.pendingCommands.length > 0).length, 'with pending commands');
    }
    children.push(second.child);
    const states = async (): Promise<{ sagaId: string; currentState: string; history: { events: { event: string }[] }; pendingCommands: unknown[] }[]> =>
      Promise.all(ids.map(async (id) => (await (await fetch(`${second.url}/orders-saga/saga/${id}`)).json()) as never));
    const docs = await waitFor(async () => {
      const all = await states();
      return all.every((d) => d.currentState === 'delivered' && d.pendingCommands.length === 0) ? all : undefined;
    }, 'every acknowledged saga delivered', 3000);
    for (const d of docs) assert.deepEqual(d.history.events.map((e) => e.event), ['orderCreated', 'paymentExecuted', 'orderShipped'], d.sagaId);
    assert.ok(ids.length >= 20);

    await executor.stop();
    await bus.close();
    second.child.kill('SIGTERM');
  });
});
