/**
 * Black-box HTTP tests of the core CRUD routes (crud-api.md §2-§4), run against every store by
 * `test/e2e/crud-*.test.ts`.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { DocumentStore } from '../../src/ports/document-store.js';
import { crudApp, type CrudApp } from './crud-app.js';
import { book, booksFor } from './crud-books.js';

export interface StoreFactory {
  readonly name: string;
  create(): Promise<DocumentStore>;
  destroy(store: DocumentStore): Promise<void>;
  readonly skip?: string;
}

const json = (body: string): unknown => JSON.parse(body) as unknown;

export function coreSuite(factory: StoreFactory): void {
  describe(`CRUD core routes (${factory.name})`, { skip: factory.skip ?? false }, () => {
    let store: DocumentStore;
    let t: CrudApp;
    before(async () => {
      store = await factory.create();
      t = await crudApp(store, [booksFor(store.features)]);
    });
    after(async () => {
      await t?.close();
      if (store !== undefined) await factory.destroy(store);
    });
    beforeEach(async () => {
      await store.collection('books').deleteMany({});
    });
    const inject = (opts: InjectOptions): Promise<LightMyRequestResponse> => t.app.inject(opts);
    const insert = async (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> => {
      const res = await inject({ method: 'POST', url: '/books/', payload: body, headers });
      assert.equal(res.statusCode, 200, res.body);
      return (json(res.body) as { _id: string })._id;
    };

    it('POST / answers 200 with the new _id and stores metadata; the document is DRAFT (defaultState) so GET /:id is 404 without _st', async () => {
      const res = await inject({ method: 'POST', url: '/books', payload: book(1), headers: { miauserid: 'alice' } });
      assert.equal(res.statusCode, 200);
      const { _id } = json(res.body) as { _id: string };
      assert.match(_id, /^[0-9a-f]{24}$/);
      const hidden = await inject({ url: `/books/${_id}` });
      assert.equal(hidden.statusCode, 404);
      assert.deepEqual(json(hidden.body), { error: 'not found', code: 'MR_CRUD_NOT_FOUND' });
      const got = await inject({ url: `/books/${_id}?_st=DRAFT` });
      assert.equal(got.statusCode, 200);
      const doc = json(got.body) as Record<string, unknown>;
      assert.equal(doc.name, 'Book 1');
      assert.equal(doc.creatorId, 'alice');
      assert.equal(doc.updaterId, 'alice');
      assert.equal(doc.__STATE__, 'DRAFT');
      assert.equal(doc.createdAt, new Date(Date.UTC(2024, 0, 1)).toISOString());
      assert.equal(doc.publishDate, '2020-01-01T00:00:00.000Z');
      assert.deepEqual(doc.position, [9.01, 45.01]);
      assert.deepEqual(doc.additionalInfo, { footnote: 'note 1', nested: { level: 1 } });
    });

    it('an absent, empty, "null" or "undefined" user id is "public"', async () => {
      for (const headers of [{}, { miauserid: '' }, { miauserid: 'null' }, { miauserid: 'undefined' }] as Record<string, string>[]) {
        const id = await insert(book(900 + Object.keys(headers).length + Math.floor(Math.random() * 1000), { __STATE__: 'PUBLIC' }), headers);
        const doc = json((await inject({ url: `/books/${id}` })).body) as Record<string, unknown>;
        assert.equal(doc.creatorId, 'public');
        await inject({ method: 'DELETE', url: `/books/${id}` });
      }
    });

    it('list: default PUBLIC, _st, _l, _sk, _s, _p, field params and _q', async () => {
      for (let n = 10; n < 16; n++) await insert(book(n, { __STATE__: n === 15 ? 'TRASH' : 'PUBLIC' }));
      const all = json((await inject({ url: '/books/?_s=price' })).body) as Record<string, unknown>[];
      assert.deepEqual(all.map((d) => d.price), [100, 110, 120, 130, 140]);
      const withTrash = json((await inject({ url: '/books?_st=PUBLIC,TRASH&_s=-price&_l=2&_sk=1' })).body) as Record<string, unknown>[];
      assert.deepEqual(withTrash.map((d) => d.price), [140, 130]);
      const projected = json((await inject({ url: '/books?_p=name,price&_s=price&_l=1' })).body) as Record<string, unknown>[];
      assert.deepEqual(Object.keys(projected[0] ?? {}).sort(), ['_id', 'name', 'price']);
      const byField = json((await inject({ url: '/books?isPromoted=true&price=120' })).body) as Record<string, unknown>[];
      assert.deepEqual(byField.map((d) => d.name), ['Book 12']);
      const q = encodeURIComponent(JSON.stringify({ price: { $gte: 120 }, author: { $regex: '^alice', $options: 'i' } }));
      const byQ = json((await inject({ url: `/books?_q=${q}&_s=price` })).body) as Record<string, unknown>[];
      assert.deepEqual(byQ.map((d) => d.name), ['Book 12', 'Book 14']);
      const date = encodeURIComponent(JSON.stringify({ publishDate: { $gt: '2020-01-13T00:00:00.000Z' } }));
      const byDate = json((await inject({ url: `/books?_q=${date}&_s=price` })).body) as Record<string, unknown>[];
      assert.deepEqual(byDate.map((d) => d.name), ['Book 14']);
    });

    it('count answers a bare integer, with _q, _st and field params', async () => {
      const res = await inject({ url: '/books/count' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, '0');
      for (let n = 10; n < 16; n++) await insert(book(n, { __STATE__: n === 15 ? 'TRASH' : 'PUBLIC' }));
      assert.equal((await inject({ url: '/books/count' })).body, '5');
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal((await inject({ url: '/books/count?_st=TRASH' })).body, '1');
      assert.equal((await inject({ url: `/books/count?_q=${encodeURIComponent('{"price":{"$lt":120}}')}` })).body, '2');
      assert.equal((await inject({ url: '/books/count?author=Bob%20Dylan' })).body, '2');
      const estimate = Number((await inject({ url: '/books/count?_useEstimate=true' })).body);
      assert.equal(estimate, 6);
    });

    it('PATCH /:id applies operators, bumps updaterId/updatedAt and answers the document after', async () => {
      const id = await insert(book(20, { __STATE__: 'PUBLIC' }));
      t.clock.advance(60_000);
      const res = await inject({
        method: 'PATCH', url: `/books/${id}`, headers: { miauserid: 'bob' },
        payload: { $set: { name: 'Renamed', 'additionalInfo.nested.level': 7, 'signature': { name: 'x', when: '2021-05-05T10:00:00Z' } }, $inc: { price: 5 }, $push: { tags: 'pushed' }, $unset: { author: true }, $currentDate: { publishDate: true } },
      });
      assert.equal(res.statusCode, 200, res.body);
      const doc = json(res.body) as Record<string, unknown>;
      assert.equal(doc.name, 'Renamed');
      assert.equal(doc.price, 205);
      assert.deepEqual(doc.tags, ['tag20', 'common', 'pushed']);
      assert.equal(doc.author, undefined);
      assert.deepEqual(doc.additionalInfo, { footnote: 'note 20', nested: { level: 7 } });
      assert.deepEqual(doc.signature, { name: 'x', when: '2021-05-05T10:00:00.000Z' });
      assert.equal(doc.updaterId, 'bob');
      assert.equal(doc.creatorId, 'public');
      assert.notEqual(doc.updatedAt, doc.createdAt);
      const draft = await insert(book(21));
      assert.equal((await inject({ method: 'PATCH', url: `/books/${draft}`, payload: { $set: { price: 1 } } })).statusCode, 404);
      assert.equal((await inject({ method: 'PATCH', url: `/books/${draft}?_st=DRAFT`, payload: { $set: { price: 1 } } })).statusCode, 200);
      assert.equal((await inject({ method: 'PATCH', url: '/books/000000000000000000000000', payload: { $set: { price: 1 } } })).statusCode, 404);
      assert.equal((await inject({ method: 'PATCH', url: '/books/not-an-id', payload: { $set: { price: 1 } } })).statusCode, 404);
    });

    it('PATCH / updates many and answers the count; DELETE / deletes many and answers the count', async () => {
      for (let n = 30; n < 34; n++) await insert(book(n, { __STATE__: 'PUBLIC', author: 'Many' }));
      const patched = await inject({ method: 'PATCH', url: '/books/?author=Many', payload: { $set: { price: 1 } } });
      assert.equal(patched.statusCode, 200);
      assert.equal(patched.body, '4');
      assert.equal((await inject({ url: '/books/count?author=Many&price=1' })).body, '4');
      const deleted = await inject({ method: 'DELETE', url: `/books/?_q=${encodeURIComponent('{"author":"Many"}')}` });
      assert.equal(deleted.statusCode, 200);
      assert.equal(deleted.body, '4');
      assert.equal((await inject({ method: 'DELETE', url: '/books/?author=Nobody' })).body, '0');
    });

    it('PATCH /bulk answers the number of modified documents; an empty array is 400', async () => {
      const a = await insert(book(40, { __STATE__: 'PUBLIC' }));
      const b = await insert(book(41));
      const res = await inject({
        method: 'PATCH', url: '/books/bulk',
        payload: [
          { filter: { _id: a }, update: { $set: { price: 4 } } },
          { filter: { _id: b, _st: 'DRAFT', _q: JSON.stringify({ price: { $gt: 0 } }) }, update: { $set: { price: 5 } } },
          { filter: { _id: b }, update: { $set: { price: 6 } } },
        ],
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.body, '2');
      const doc = json((await inject({ url: `/books/${b}?_st=DRAFT` })).body) as Record<string, unknown>;
      assert.equal(doc.price, 5);
      assert.equal((await inject({ method: 'PATCH', url: '/books/bulk', payload: [] })).statusCode, 400);
    });

    it('DELETE /:id answers 204, then 404', async () => {
      const id = await insert(book(50, { __STATE__: 'PUBLIC' }));
      const res = await inject({ method: 'DELETE', url: `/books/${id}` });
      assert.equal(res.statusCode, 204);
      assert.equal(res.body, '');
      assert.equal((await inject({ method: 'DELETE', url: `/books/${id}` })).statusCode, 404);
      const draft = await insert(book(51));
      assert.equal((await inject({ method: 'DELETE', url: `/books/${draft}` })).statusCode, 404);
      assert.equal((await inject({ method: 'DELETE', url: `/books/${draft}?_st=DRAFT` })).statusCode, 204);
    });

    it('bodiless GETs and DELETEs with content-type: application/json work (Mia JS client)', async () => {
      const id = await insert(book(55, { __STATE__: 'PUBLIC' }));
      const headers = { 'content-type': 'application/json' };
      assert.equal((await inject({ url: '/books/count', headers })).body, '1');
      assert.equal((await inject({ url: `/books/${id}`, headers })).statusCode, 200);
      assert.equal((await inject({ method: 'DELETE', url: `/books/${id}`, headers })).statusCode, 204);
      assert.equal((await inject({ method: 'DELETE', url: '/books/', headers })).body, '0');
      assert.equal((await inject({ method: 'POST', url: '/books/', headers })).statusCode, 400);
    });

    it('state transitions follow the table; bulk skips illegal ones', async () => {
      const id = await insert(book(60));
      const to = (stateTo: string) => inject({ method: 'POST', url: `/books/${id}/state`, payload: { stateTo }, headers: { miauserid: 'carol' } });
      assert.equal((await to('PUBLIC')).statusCode, 204);
      const illegal = await to('DELETED');
      assert.equal(illegal.statusCode, 400);
      assert.deepEqual(json(illegal.body), { statusCode: 400, code: 'MR_CRUD_ILLEGAL_TRANSITION', error: 'Bad Request', message: 'transition from PUBLIC to DELETED not allowed.' });
      assert.equal((await to('TRASH')).statusCode, 204);
      assert.equal((await to('DELETED')).statusCode, 204);
      const doc = json((await inject({ url: `/books/${id}?_st=DELETED` })).body) as Record<string, unknown>;
      assert.equal(doc.__STATE__, 'DELETED');
      assert.equal(doc.updaterId, 'carol');
      assert.equal((await inject({ method: 'POST', url: '/books/000000000000000000000000/state', payload: { stateTo: 'PUBLIC' } })).statusCode, 404);
      assert.equal((await inject({ method: 'POST', url: `/books/${id}/state`, payload: { stateTo: 'NOPE' } })).statusCode, 400);
      const a = await insert(book(61));
      const b = await insert(book(62, { __STATE__: 'TRASH' }));
      const bulk = await inject({ method: 'POST', url: '/books/state', payload: [{ filter: { _id: a }, stateTo: 'PUBLIC' }, { filter: { _id: b }, stateTo: 'PUBLIC' }] });
      assert.equal(bulk.statusCode, 200, bulk.body);
      assert.equal(bulk.body, '1');
    });

    it('POST /bulk answers ids in input order; a duplicate is 409 naming the field and earlier documents stay', async () => {
      const res = await inject({ method: 'POST', url: '/books/bulk', payload: [book(70), book(71)] });
      assert.equal(res.statusCode, 200, res.body);
      const ids = json(res.body) as { _id: string }[];
      assert.equal(ids.length, 2);
      const first = json((await inject({ url: `/books/${ids[0]?._id}?_st=DRAFT` })).body) as Record<string, unknown>;
      assert.equal(first.name, 'Book 70');
      const dup = await inject({ method: 'POST', url: '/books/bulk', payload: [book(72), book(70), book(73)] });
      assert.equal(dup.statusCode, 409);
      const body = json(dup.body) as Record<string, unknown>;
      assert.equal(body.code, 'MR_CRUD_DUPLICATE_KEY');
      assert.equal(body.error, 'Conflict');
      assert.match(String(body.message), /"isbn"/);
      assert.equal((await inject({ url: '/books/count?isbn=isbn-72&_st=DRAFT' })).body, '1');
      assert.equal((await inject({ url: '/books/count?isbn=isbn-73&_st=DRAFT' })).body, '0');
    });

    it('POST / with a duplicate unique key is 409 naming the field, not the store text', async () => {
      await insert(book(80));
      const res = await inject({ method: 'POST', url: '/books', payload: book(80) });
      assert.equal(res.statusCode, 409);
      assert.deepEqual(json(res.body), { statusCode: 409, code: 'MR_CRUD_DUPLICATE_KEY', error: 'Conflict', message: 'A document with the same value of "isbn" already exists' });
      const other = await insert(book(81, { __STATE__: 'PUBLIC' }));
      const patch = await inject({ method: 'PATCH', url: `/books/${other}`, payload: { $set: { isbn: 'isbn-80' } } });
      assert.equal(patch.statusCode, 409);
    });

    it('POST /upsert-one inserts once then updates; the document after is returned', async () => {
      const url = `/books/upsert-one?_q=${encodeURIComponent('{"isbn":"up-1"}')}`;
      const first = await inject({ method: 'POST', url, payload: { $set: { price: 1 }, $setOnInsert: { name: 'Upserted' } }, headers: { miauserid: 'u1' } });
      assert.equal(first.statusCode, 200, first.body);
      const a = json(first.body) as Record<string, unknown>;
      assert.equal(a.isbn, 'up-1');
      assert.equal(a.name, 'Upserted');
      assert.equal(a.__STATE__, 'PUBLIC');
      assert.equal(a.creatorId, 'u1');
      const second = await inject({ method: 'POST', url, payload: { $set: { price: 2 }, $setOnInsert: { name: 'Ignored' } }, headers: { miauserid: 'u2' } });
      const b = json(second.body) as Record<string, unknown>;
      assert.equal(b._id, a._id);
      assert.equal(b.price, 2);
      assert.equal(b.name, 'Upserted');
      assert.equal(b.creatorId, 'u1');
      assert.equal(b.updaterId, 'u2');
      assert.equal((await inject({ url: '/books/count?isbn=up-1' })).body, '1');
    });

    it('POST /validate answers {"result":"ok"} and writes nothing', async () => {
      const before = (await inject({ url: '/books/count?_st=PUBLIC,DRAFT,TRASH,DELETED' })).body;
      const res = await inject({ method: 'POST', url: '/books/validate', payload: book(90) });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(json(res.body), { result: 'ok' });
      assert.equal((await inject({ url: '/books/count?_st=PUBLIC,DRAFT,TRASH,DELETED' })).body, before);
      assert.equal((await inject({ method: 'POST', url: '/books/validate', payload: { name: 'no isbn' } })).statusCode, 400);
    });

    it('GET /schema and GET /-/schemas describe the collection', async () => {
      const res = await inject({ url: '/books/schema' });
      assert.equal(res.statusCode, 200);
      const schema = json(res.body) as { type: string; properties: Record<string, unknown>; required: string[] };
      assert.equal(schema.type, 'object');
      assert.ok('isbn' in schema.properties && '__STATE__' in schema.properties);
      const all = await inject({ url: '/-/schemas' });
      assert.deepEqual((json(all.body) as { name: string }[]).map((s) => s.name), ['books']);
      const nd = await inject({ url: '/-/schemas', headers: { accept: 'application/x-ndjson' } });
      assert.match(String(nd.headers['content-type']), /^application\/x-ndjson/);
      assert.equal(nd.body.trim().split('\n').length, 1);
      assert.equal((await inject({ url: '/-/schemas', headers: { accept: 'text/html' } })).statusCode, 406);
    });
  });
}
