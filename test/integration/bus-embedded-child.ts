/**
 * A separate process on an embedded bus directory, driven by `bus-embedded-*.test.ts` (which kill it with
 * SIGKILL). Modes:
 * - `produce <dir> <topic> <count>`: publishes `{ seq }` in batches of 10, printing `acked <lastSeq>` after each.
 * - `consume <dir> <topic> <group> <effects-file>`: appends `<partition> <offset> <seq>` per message to the
 *   effects file (synchronously: the effect is stored before the handler resolves), then commits; prints
 *   `assigned <partitions>` whenever its assignment changes.
 * - `outbox <dir> <topic> <count>`: inserts orders into the embedded store at `<dir>/db` with their `created`
 *   event through the outbox (relay running), printing `written <i>` after each commit.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { EmbeddedDocumentStore } from '../../src/adapters/store-embedded/index.js';
import { createOutbox } from '../../src/outbox/index.js';
import { systemClock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';

const [mode, dir, topic, arg1, arg2] = process.argv.slice(2);
const bus = new EmbeddedEventBus('bus', { kind: 'embedded', path: dir!, topics: { [topic!]: { partitions: 4 } } }, { dataDir: dir!, clock: systemClock, logger: silentLogger }, {
  heartbeatMs: 100,
  sessionTimeoutMs: 1000,
  pollMs: 10,
});
await bus.start();

if (mode === 'produce') {
  const count = Number(arg1);
  for (let seq = 0; seq < count; seq += 10) {
    const batch = Array.from({ length: Math.min(10, count - seq) }, (_, i) => ({ key: `k${(seq + i) % 13}`, value: { seq: seq + i } }));
    await bus.publish(topic!, batch);
    process.stdout.write(`acked ${seq + batch.length - 1}\n`);
  }
  await bus.close();
} else if (mode === 'consume') {
  const group = arg1!;
  const effects = arg2!;
  const sub = await bus.subscribe({
    group,
    topics: [topic!],
    fromBeginning: true,
    maxBatchSize: 10,
    handler: async (batch) => {
      for (const m of batch.messages) appendFileSync(effects, `${m.partition} ${m.offset} ${m.json<{ seq: number }>().seq}\n`);
    },
  });
  let last = '';
  const report = (): void => {
    const now = sub.assignment().map((tp) => tp.partition).sort().join(',');
    if (now !== last) process.stdout.write(`assigned ${now}\n`);
    last = now;
  };
  setInterval(report, 20);
  process.stdout.write('ready\n');
}

if (mode === 'outbox') {
  const store = new EmbeddedDocumentStore('db', { path: join(dir!, 'db'), clock: systemClock, logger: silentLogger });
  await store.start();
  const outbox = createOutbox({ store, bus, clock: systemClock, logger: silentLogger, pollMs: 20 });
  await outbox.start();
  for (let i = 0; i < Number(arg1); i++) {
    await outbox.write(async (tx) => {
      await tx.collection('orders').insertOne({ _id: `o-${i}` });
      return [{ topic: topic!, key: `o-${i}`, value: { id: `o-${i}` } }];
    });
    process.stdout.write(`written ${i}\n`);
  }
}
