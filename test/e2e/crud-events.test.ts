import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EmbeddedEventBus } from '../../src/adapters/bus-embedded/index.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DocumentStore } from '../../src/ports/document-store.js';
import type { ConsumedMessage } from '../../src/ports/event-bus.js';
import { silentLogger } from '../../src/ports/logger.js';
import { crudApp, type CrudApp } from '../helpers/crud-app.js';
import { book, booksCollection } from '../helpers/crud-books.js';
import { embeddedStore } from '../helpers/crud-stores.js';

describe('CRUD change events through the outbox (embedded store and bus)', () => {
  let dir: string;
  let store: DocumentStore;
  let bus: EmbeddedEventBus;
  let t: CrudApp;
  const got: ConsumedMessage[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-crud-events-'));
    store = await embeddedStore.create();
    bus = new EmbeddedEventBus('bus', { kind: 'embedded', topics: { 'book-events': { partitions: 1 } } }, { dataDir: dir, clock: systemClock, logger: silentLogger });
    await bus.start();
    t = await crudApp(store, [{ ...booksCollection, events: { topic: 'book-events' } }], { bus, topics: ['book-events'] });
    await bus.subscribe({ group: 'test-reader', topics: ['book-events'], fromBeginning: true, handler: async (batch) => void got.push(...batch.messages) });
  });
  after(async () => {
    await t?.close();
    await bus?.close();
    if (store !== undefined) await embeddedStore.destroy(store);
    await rm(dir, { recursive: true, force: true });
  });

  async function waitFor(count: number): Promise<{ key: string | null; operation: string; document: Record<string, unknown> }[]> {
    const deadline = Date.now() + 10_000;
    while (got.length < count && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(got.length, count, `expected ${count} events, got ${got.length}`);
    return got.map((m) => {
      const value = m.json<{ operation: string; document: Record<string, unknown> }>();
      return { key: m.key, operation: value.operation, document: value.document };
    });
  }

  it('publishes insert, update, state change and delete with key _id and the document after', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/books', payload: book(1) });
    const id = (JSON.parse(res.body) as { _id: string })._id;
    await t.app.inject({ method: 'PATCH', url: `/books/${id}?_st=DRAFT`, payload: { $set: { price: 99 } } });
    await t.app.inject({ method: 'POST', url: `/books/${id}/state`, payload: { stateTo: 'PUBLIC' } });
    await t.app.inject({ method: 'PATCH', url: '/books', payload: { $inc: { price: 1 } } });
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/books/${id}` })).statusCode, 204);
    const events = await waitFor(5);
    assert.deepEqual(events.map((e) => [e.key, e.operation]), [[id, 'insert'], [id, 'update'], [id, 'state'], [id, 'update'], [id, 'delete']]);
    assert.equal(events[1]?.document.price, 99);
    assert.equal(events[2]?.document.__STATE__, 'PUBLIC');
    assert.equal(events[3]?.document.price, 100);
    assert.deepEqual(events[0]?.document.position, [9.01, 45.01]);
    assert.equal(events[0]?.document._id, id);
  });

  it('an ordered bulk insert that hits a duplicate keeps the earlier documents, each with its event, and publishes nothing for the rest', async () => {
    const before = got.length;
    const dup = await t.app.inject({ method: 'POST', url: '/books/bulk', payload: [book(2), book(4), book(2), book(5)] });
    assert.equal(dup.statusCode, 409);
    assert.match((JSON.parse(dup.body) as { message: string }).message, /"isbn"/);
    const kept = (await t.app.inject({ url: '/books/?_st=DRAFT&_s=isbn&_p=isbn' })).json<{ isbn: string }[]>().map((d) => d.isbn);
    assert.deepEqual(kept, ['isbn-2', 'isbn-4'], 'the documents before the duplicate stay; the one after is not written');
    await t.app.inject({ method: 'POST', url: '/books', payload: book(3) });
    const events = await waitFor(before + 3);
    assert.deepEqual(events.slice(before).map((e) => [e.operation, e.document.isbn]), [['insert', 'isbn-2'], ['insert', 'isbn-4'], ['insert', 'isbn-3']]);
  });

  it('a failed single write publishes nothing', async () => {
    const before = got.length;
    const dup = await t.app.inject({ method: 'POST', url: '/books', payload: book(3) });
    assert.equal(dup.statusCode, 409);
    await t.app.inject({ method: 'POST', url: '/books', payload: book(6) });
    const events = await waitFor(before + 1);
    assert.equal(events.at(-1)?.document.isbn, 'isbn-6');
  });
});
