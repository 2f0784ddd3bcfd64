// Adapter behaviour that depends on the real server (features read at start, duplicate-key details
// reconstructed when the server does not send them). Needs a MongoDB-protocol server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'bson';
import { MongoDocumentStore } from '../../../../src/adapters/store-mongodb/index.js';
import { MiaRunError } from '../../../../src/errors.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { silentLogger } from '../../../../src/ports/logger.js';

const url = process.env.MONGODB_URL;
const skip = url === undefined || url === '' ? 'set MONGODB_URL to run (scripts/services/mongodb start)' : false;

describe('MongoDocumentStore against a server', { skip }, () => {
  let store: MongoDocumentStore;
  const database = `mr_adapter_${randomBytes(4).toString('hex')}`;

  before(async () => {
    store = new MongoDocumentStore({ name: 'adapter', config: { kind: 'mongodb', url: url as string, database, connectTimeout: 5000 }, clock: systemClock, logger: silentLogger });
    await store.start();
  });

  after(async () => {
    await store.collection('people').drop().catch(() => undefined);
    await store.close();
  });

  it('reports the server in health and narrows features to what it offers', async () => {
    const health = await store.health();
    assert.equal(health.status, 'OK');
    const info = store.serverInfo;
    assert.ok(info !== undefined);
    assert.match(health.message ?? '', info.ferretdbVersion === undefined ? /^MongoDB / : /^FerretDB v1\./);
    if (info.ferretdbVersion !== undefined) assert.deepEqual([...store.features], []);
    else assert.ok(['text', 'geo', 'ttl'].every((f) => store.features.has(f as never)));
    assert.equal(store.features.has('transactions'), info.replicaSet !== undefined || info.sharded);
  });

  it('returns ObjectIds of the port\'s bson class, nested ones included', async () => {
    const people = store.collection('people');
    const ref = new ObjectId();
    const { insertedId } = await people.insertOne({ name: 'ada', refs: [ref], nested: { ref } });
    assert.ok(insertedId instanceof ObjectId);
    const doc = await people.findOne({ _id: insertedId });
    assert.ok(doc?._id instanceof ObjectId && doc._id.equals(insertedId as ObjectId));
    assert.ok((doc?.refs as unknown[])[0] instanceof ObjectId);
    assert.ok((doc?.nested as { ref: unknown }).ref instanceof ObjectId);
  });

  it('names the index and key of a duplicate caused by an update (reconstructed when the server does not say)', async () => {
    const people = store.collection('people');
    await people.ensureIndexes([{ name: 'by_email', key: { email: 1 }, unique: true }]);
    await people.insertMany([{ email: 'a@example.com' }, { email: 'b@example.com' }]);
    await assert.rejects(people.updateOne({ email: 'b@example.com' }, { $set: { email: 'a@example.com' } }), (error: unknown) => {
      assert.ok(error instanceof MiaRunError);
      assert.equal(error.code, 'MR_STORE_DUPLICATE_KEY');
      assert.equal(error.retriable, false);
      assert.deepEqual(error.details, { collection: 'people', index: 'by_email', key: { email: 'a@example.com' } });
      assert.match(error.message, /index: by_email dup key: \{ email: "a@example\.com" \}/);
      return true;
    });
    assert.equal(await people.count({ email: 'a@example.com' }), 1);
  });

  it('reports a duplicate caused by a bulk update, and names the index of a later document of insertMany', async () => {
    const people = store.collection('people');
    await people.insertOne({ email: 'c@example.com' });
    await assert.rejects(people.bulkWrite([{ updateOne: { filter: { email: 'c@example.com' }, update: { $set: { email: 'a@example.com' } } } }]), (error: unknown) => {
      assert.ok(error instanceof MiaRunError && error.code === 'MR_STORE_DUPLICATE_KEY');
      // FerretDB v1 reports this one as InternalError without the failing operation, so only MongoDB names the index.
      if (store.serverInfo?.ferretdbVersion === undefined) assert.equal(error.details?.index, 'by_email');
      assert.equal(error.details?.collection, 'people');
      return true;
    });
    await assert.rejects(people.insertMany([{ email: 'd@example.com' }, { email: 'd@example.com' }]), (error: unknown) => {
      assert.ok(error instanceof MiaRunError && error.code === 'MR_STORE_DUPLICATE_KEY');
      assert.deepEqual([error.details?.index, error.details?.key], ['by_email', { email: 'd@example.com' }]);
      return true;
    });
    assert.equal(await people.count({ email: 'd@example.com' }), 1, 'ordered: the first document stays');
  });

  it('refuses $-prefixed field names and invalid collection names like the embedded store', async () => {
    await assert.rejects(store.collection('people').insertOne({ $where: 1 }), (error: unknown) => error instanceof MiaRunError && error.code === 'MR_STORE_INVALID_DOCUMENT');
    assert.throws(() => store.collection('system.users'), (error: unknown) => error instanceof MiaRunError && error.code === 'MR_STORE_INVALID_QUERY');
  });
});
