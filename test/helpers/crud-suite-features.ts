/**
 * Export formats (parsed back), `$text` with score, `$nearSphere`, raw projections, base64 query encoding,
 * positional updates and views, on every store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { DocumentStore, StoreFeature } from '../../src/ports/document-store.js';
import { crudApp, type CrudApp } from './crud-app.js';
import { book, booksFor } from './crud-books.js';
import type { StoreFactory } from './crud-suite-core.js';

type Doc = Record<string, unknown>;
const q = (value: unknown): string => encodeURIComponent(JSON.stringify(value));

/** A minimal RFC 4180 reader for the tests (quotes, doubled quotes, embedded delimiters and newlines). */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  if (cell !== '' || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

export function featuresSuite(factory: StoreFactory): void {
  describe(`CRUD export, search, geo, projections, views (${factory.name})`, { skip: factory.skip ?? false }, () => {
    let store: DocumentStore;
    let t: CrudApp;
    before(async () => {
      store = await factory.create();
      t = await crudApp(store, [
        booksFor(store.features),
        { name: 'cheap_books', type: 'view', source: 'books', endpointBasePath: '/cheap-books', pipeline: [{ $match: { price: { $lt: 35 } } }, { $project: { name: 1, price: 1, __STATE__: 1 } }] },
      ]);
      for (let n = 1; n <= 6; n++) {
        const res = await inject({ method: 'POST', url: '/books', payload: book(n, { __STATE__: 'PUBLIC', name: n === 3 ? 'The "quoted", book' : `Book ${n}`, attachments: [{ name: 'a', size: n, addedAt: '2021-01-01T00:00:00Z' }] }) });
        assert.equal(res.statusCode, 200, res.body);
      }
    });
    after(async () => {
      await t?.close();
      if (store !== undefined) await factory.destroy(store);
    });
    const inject = (opts: InjectOptions): Promise<LightMyRequestResponse> => t.app.inject(opts);

    it('export without Accept streams NDJSON of every matching document (no page limit)', async () => {
      const res = await inject({ url: '/books/export?_s=price' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
      const docs = res.body.trim().split('\n').map((l) => JSON.parse(l) as Doc);
      assert.deepEqual(docs.map((d) => d.price), [10, 20, 30, 40, 50, 60]);
      assert.deepEqual(docs[0]?.position, [9.01, 45.01]);
      assert.equal((docs[0]?.attachments as Doc[])[0]?.addedAt, '2021-01-01T00:00:00.000Z');
    });

    it('export as a JSON array, as CSV (header first, _id first column, custom delimiter); other types are 406', async () => {
      const arr = JSON.parse((await inject({ url: `/books/export?_q=${q({ price: { $gt: 40 } })}`, headers: { accept: 'application/json' } })).body) as Doc[];
      assert.equal(arr.length, 2);
      const csv = await inject({ url: '/books/export?_p=name,price&_s=price', headers: { accept: 'text/csv' } });
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      const rows = parseCsv(csv.body);
      assert.deepEqual(rows[0], ['_id', 'name', 'price']);
      assert.equal(rows.length, 7);
      assert.deepEqual(rows[3]?.slice(1), ['The "quoted", book', '30']);
      const semi = parseCsv((await inject({ url: `/books/export?_p=price&_l=1&_exportOpts=${q({ delimiter: ';' })}`, headers: { accept: 'text/csv' } })).body, ';');
      assert.deepEqual(semi[0], ['_id', 'price']);
      assert.equal(semi.length, 2);
      const bad = await inject({ url: '/books/export', headers: { accept: 'text/html' } });
      assert.equal(bad.statusCode, 406);
      assert.deepEqual(JSON.parse(bad.body), { statusCode: 406, code: 'MR_CRUD_NOT_ACCEPTABLE', error: 'Not Acceptable', message: 'unsupported file type text/html' });
    });

    const unless = (feature: StoreFeature) => async (t: { skip(reason: string): void }) => {
      if (!store.features.has(feature)) t.skip(`the ${factory.name} store has no ${feature} indexes`);
    };
    it('$text adds a numeric score and sorts by it', async (ctx) => {
      await unless('text')(ctx);
      if (!store.features.has('text')) return;
      const res = await inject({ url: `/books?_q=${q({ $text: { $search: 'alice' } })}` });
      assert.equal(res.statusCode, 200, res.body);
      const docs = JSON.parse(res.body) as Doc[];
      assert.equal(docs.length, 3);
      for (const d of docs) {
        assert.equal(d.author, 'Alice Walker');
        assert.equal(typeof d.score, 'number');
      }
    });

    it('$nearSphere returns the nearest first, bounded by maxDistance', async (ctx) => {
      await unless('geo')(ctx);
      if (!store.features.has('geo')) return;
      const res = await inject({ url: `/books?_q=${q({ position: { $nearSphere: { from: [9.04, 45.04], maxDistance: 2000 } } })}` });
      assert.equal(res.statusCode, 200, res.body);
      const docs = JSON.parse(res.body) as Doc[];
      assert.equal(docs[0]?.price, 40);
      assert.ok(docs.length >= 2 && docs.length < 6, `got ${docs.length}`);
    });

    it('_rawp with expressions and base64-encoded _q', async (ctx) => {
      const encoded = Buffer.from(JSON.stringify({ price: 20 })).toString('base64');
      const b64 = await inject({ url: `/books?_q=${encodeURIComponent(encoded)}`, headers: { 'json-query-params-encoding': 'base64' } });
      assert.deepEqual((JSON.parse(b64.body) as Doc[]).map((d) => d.price), [20]);
      const raw = q({ name: 1, attachments: { $filter: { input: '$attachments', as: 'a', cond: { $lt: ['$$a.size', 2] } } } });
      const res = await inject({ url: `/books?_rawp=${raw}&_s=price&_l=2` });
      if (res.statusCode === 501 && factory.name === 'mongodb') return ctx.skip('this MongoDB-protocol server lacks $filter in projections (FerretDB)');
      assert.equal(res.statusCode, 200, res.body);
      const docs = JSON.parse(res.body) as Doc[];
      assert.deepEqual(docs.map((d) => Object.keys(d).sort()), [['_id', 'attachments', 'name'], ['_id', 'attachments', 'name']]);
      assert.deepEqual(docs.map((d) => (d.attachments as unknown[]).length), [1, 0]);
    });

    it('a view serves GET routes over its pipeline, and no write routes', async () => {
      const res = await inject({ url: '/cheap_books?_s=price' });
      assert.equal(res.statusCode, 200, res.body);
      const docs = JSON.parse(res.body) as Doc[];
      assert.deepEqual(docs.map((d) => d.price), [10, 20, 30]);
      assert.equal(docs[0]?.isbn, undefined);
      assert.equal((await inject({ url: '/cheap_books/count' })).body, '3');
      assert.equal((await inject({ url: `/cheap_books/${String(docs[0]?._id)}` })).statusCode, 200);
      assert.equal((await inject({ method: 'POST', url: '/cheap_books', payload: { name: 'x' } })).statusCode, 404);
    });
  });
}
