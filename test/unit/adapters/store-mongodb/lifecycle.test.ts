import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createMongoDocumentStore } from '../../../../src/adapters/store-mongodb/index.js';
import type { MongoDatabaseConfig } from '../../../../src/config/types.js';
import { MiaRunError } from '../../../../src/errors.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { silentLogger } from '../../../../src/ports/logger.js';

const ctx = { clock: systemClock, logger: silentLogger };

/** A TCP port on loopback where nothing listens any more. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function isStartError(error: unknown): error is MiaRunError {
  return error instanceof MiaRunError && error.code === 'MR_RUNTIME_START';
}

describe('MongoDocumentStore lifecycle without a server', () => {
  // A server that accepts connections and never answers: the handshake can only end by timeout.
  let silent: Server;
  const sockets: Socket[] = [];
  before(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('start() fails with MR_RUNTIME_START naming the database and the URL without credentials (connection refused)', async () => {
    const port = await closedPort();
    const config: MongoDatabaseConfig = { kind: 'mongodb', url: `mongodb://app:hunter2@127.0.0.1:${port}/shop`, connectTimeout: 300 };
    const store = createMongoDocumentStore('catalog', config, ctx);
    await assert.rejects(store.start(), (error: unknown) => {
      assert.ok(isStartError(error));
      assert.match(error.message, /Database "catalog": cannot connect to MongoDB at mongodb:\/\/\*\*\*@127\.0\.0\.1:\d+\/shop within 300 ms/);
      assert.ok(!JSON.stringify({ m: error.message, h: error.hint, d: error.details }).includes('hunter2'));
      assert.deepEqual(error.details, { database: 'catalog', url: `mongodb://***@127.0.0.1:${port}/shop` });
      return true;
    });
    assert.deepEqual(await store.health(), { name: 'catalog', status: 'KO', message: 'not started' });
    await store.close();
  });

  it('start() gives up after connectTimeout when the server accepts but never answers', async () => {
    const { port } = silent.address() as AddressInfo;
    const store = createMongoDocumentStore('orders', { kind: 'mongodb', url: `mongodb://127.0.0.1:${port}/`, connectTimeout: 300 }, ctx);
    await assert.rejects(store.start(), (error: unknown) => isStartError(error) && /within 300 ms/.test(error.message));
    await store.close();
  });

  it('operations before start() fail with retriable MR_STORE_UNAVAILABLE, after close() with MR_STORE_CLOSED', async () => {
    const store = createMongoDocumentStore('orders', { kind: 'mongodb', url: 'mongodb://127.0.0.1:1/', connectTimeout: 100 }, ctx);
    const orders = store.collection('orders');
    await assert.rejects(orders.insertOne({ a: 1 }), (error: unknown) => error instanceof MiaRunError && error.code === 'MR_STORE_UNAVAILABLE' && error.retriable);
    await assert.rejects(orders.find({}).toArray(), (error: unknown) => error instanceof MiaRunError && error.code === 'MR_STORE_UNAVAILABLE');
    await assert.rejects(store.withTransaction(async () => 1), (error: unknown) => error instanceof MiaRunError && error.code === 'MR_STORE_UNAVAILABLE');
    await store.close();
    await store.close();
    await assert.rejects(orders.findOne({}), (error: unknown) => error instanceof MiaRunError && error.code === 'MR_STORE_CLOSED');
    assert.equal((await store.health()).status, 'KO');
  });

  it('declares the static MongoDB features until a server says otherwise, and uses the database from the URL', () => {
    const store = createMongoDocumentStore('catalog', { kind: 'mongodb', url: 'mongodb://h/shopdb', connectTimeout: 100 }, ctx);
    assert.equal(store.kind, 'store.mongodb');
    assert.deepEqual([...store.features].sort(), ['changeStreams', 'geo', 'text', 'transactions', 'ttl']);
    assert.equal(store.serverDatabase, 'shopdb');
    assert.equal(createMongoDocumentStore('catalog', { kind: 'mongodb', url: 'mongodb://h/', connectTimeout: 100 }, ctx).serverDatabase, 'catalog');
    assert.equal(createMongoDocumentStore('catalog', { kind: 'mongodb', url: 'mongodb://h/x', database: 'y', connectTimeout: 100 }, ctx).serverDatabase, 'y');
  });
});
