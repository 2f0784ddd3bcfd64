/**
 * A separate process on an embedded store directory, driven by `store-embedded-*.test.ts`. Modes:
 * - `write <dir> <writers>`: `<writers>` concurrent loops insert `{ _id: 'w<loop>-<n>', email }` into `orders`
 *   (unique index on email) and print `ack <_id>` once each insert resolves; runs until killed.
 * - `upsert <dir> <keys>`: upserts `{ key }` for keys 0..<keys>-1 (unique index on key) with `$inc: { hits: 1 }`,
 *   prints `done <n>` and exits.
 * - `probe <dir>`: prints one JSON line with what it sees (collections, count, indexes) and whether inserting
 *   a duplicate email fails with MR_STORE_DUPLICATE_KEY, then inserts `{ _id: 'from-child' }` and exits.
 */
import { EmbeddedDocumentStore } from '../../src/adapters/store-embedded/index.js';
import { isMiaRunError } from '../../src/errors.js';
import { systemClock } from '../../src/ports/clock.js';

const [mode, dir, arg] = process.argv.slice(2);
const store = new EmbeddedDocumentStore('db', { path: dir!, clock: systemClock });
await store.start();

if (mode === 'write') {
  const orders = store.collection('orders');
  await orders.ensureIndexes([{ name: 'email_1', key: { email: 1 }, unique: true }]);
  await Promise.all(
    Array.from({ length: Number(arg) }, async (_, w) => {
      for (let n = 0; ; n++) {
        const _id = `w${w}-${n}`;
        await orders.insertOne({ _id, email: `${_id}@example.com`, at: new Date(), payload: 'x'.repeat(64) });
        process.stdout.write(`ack ${_id}\n`);
      }
    }),
  );
} else if (mode === 'upsert') {
  const counters = store.collection('counters');
  await counters.ensureIndexes([{ name: 'key_1', key: { key: 1 }, unique: true }]);
  const keys = Number(arg);
  await Promise.all(Array.from({ length: keys }, (_, key) => counters.updateOne({ key }, { $inc: { hits: 1 } }, { upsert: true })));
  process.stdout.write(`done ${keys}\n`);
  await store.close();
} else if (mode === 'probe') {
  const users = store.collection('users');
  let duplicate = 'no error';
  try {
    await users.insertOne({ email: 'ada@example.com' });
  } catch (error) {
    duplicate = isMiaRunError(error) ? error.code : String(error);
  }
  const seen = {
    collections: await store.listCollections(),
    count: await users.count(),
    indexes: (await users.listIndexes()).map((i) => i.name),
    duplicate,
  };
  await users.insertOne({ _id: 'from-child', email: 'child@example.com' });
  process.stdout.write(`${JSON.stringify(seen)}\n`);
  await store.close();
}
