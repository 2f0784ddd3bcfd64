/** `POST /import` and `PATCH /import` round trips (JSON, NDJSON, CSV) and their errors, on every store. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { DocumentStore } from '../../src/ports/document-store.js';
import { crudApp, type CrudApp } from './crud-app.js';
import { book, booksFor } from './crud-books.js';
import type { StoreFactory } from './crud-suite-core.js';
import { parseCsv } from './crud-suite-features.js';

/** A multipart/form-data body with text fields and one `file` part. */
export function multipart(file: { content: string | Buffer; type: string; name?: string } | undefined, fields: Record<string, string> = {}): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----crud-test-boundary';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file !== undefined) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${file.name ?? 'file'}"; filename="data"\r\ncontent-type: ${file.type}\r\n\r\n`));
    parts.push(Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content));
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export function importSuite(factory: StoreFactory): void {
  describe(`CRUD import (${factory.name})`, { skip: factory.skip ?? false }, () => {
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
    const upload = (method: 'POST' | 'PATCH', file: Parameters<typeof multipart>[0], fields?: Record<string, string>) => inject({ method, url: '/books/import', ...multipart(file, fields) });
    const all = async (): Promise<Record<string, unknown>[]> => JSON.parse((await inject({ url: '/books?_st=PUBLIC,DRAFT&_s=isbn' })).body) as Record<string, unknown>[];

    it('imports a JSON array (201) and NDJSON; values are cast by the schema', async () => {
      const res = await upload('POST', { content: JSON.stringify([book(1), book(2, { __STATE__: 'PUBLIC' })]), type: 'application/json' });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(JSON.parse(res.body), { message: 'File uploaded successfully' });
      const nd = await upload('POST', { content: `${JSON.stringify(book(3))}\n${JSON.stringify(book(4))}\n`, type: 'application/x-ndjson' });
      assert.equal(nd.statusCode, 201, nd.body);
      const docs = await all();
      assert.deepEqual(docs.map((d) => d.isbn), ['isbn-1', 'isbn-2', 'isbn-3', 'isbn-4']);
      assert.deepEqual(docs.map((d) => d.__STATE__), ['DRAFT', 'PUBLIC', 'DRAFT', 'DRAFT']);
      assert.deepEqual(docs[0]?.position, [9.01, 45.01]);
      assert.equal(docs[0]?.publishDate, '2020-01-01T00:00:00.000Z');
    });

    it('imports CSV with options, and an export read back imports again (round trip)', async () => {
      const csv = 'name;isbn;price;tags;isPromoted\n"Semi; colon";c-1;12.5;"[""a"",""b""]";true\nPlain;c-2;3;;false\n';
      const res = await upload('POST', { content: csv, type: 'text/csv' }, { delimiter: ';' });
      assert.equal(res.statusCode, 201, res.body);
      const docs = await all();
      assert.deepEqual(docs.map((d) => [d.name, d.price, d.tags, d.isPromoted]), [['Semi; colon', 12.5, ['a', 'b'], true], ['Plain', 3, undefined, false]]);
      const exported = await inject({ url: '/books/export?_st=DRAFT&_p=name,isbn,price', headers: { accept: 'text/csv' } });
      const rows = parseCsv(exported.body);
      assert.deepEqual(rows[0], ['_id', 'name', 'isbn', 'price']);
      await store.collection('books').deleteMany({});
      const again = await upload('POST', { content: exported.body, type: 'text/csv' });
      assert.equal(again.statusCode, 201, again.body);
      const back = await all();
      assert.deepEqual(back.map((d) => [d._id, d.name, d.price]), rows.slice(1).map((r) => [r[0], r[1], Number(r[3])]));
    });

    it('PATCH /import upserts by _id (200)', async () => {
      const first = await upload('POST', { content: JSON.stringify([book(1)]), type: 'application/json' });
      assert.equal(first.statusCode, 201);
      const [existing] = await all();
      const res = await upload('PATCH', { content: JSON.stringify([{ ...book(1), _id: existing?._id, price: 777 }, { ...book(2), _id: '0123456789abcdef01234567' }]), type: 'application/json' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(JSON.parse(res.body), { message: 'File uploaded successfully' });
      const docs = await all();
      assert.deepEqual(docs.map((d) => [d._id, d.price]), [[existing?._id, 777], ['0123456789abcdef01234567', 20]]);
    });

    it('errors: not multipart, no file, unsupported type, invalid record (nothing written), duplicate', async () => {
      const notMultipart = await inject({ method: 'POST', url: '/books/import', payload: [book(1)] });
      assert.equal(notMultipart.statusCode, 400);
      assert.equal(JSON.parse(notMultipart.body).message, 'Request is not multipart');
      const missing = await upload('POST', undefined, { delimiter: ';' });
      assert.equal(missing.statusCode, 400);
      assert.equal(JSON.parse(missing.body).message, 'Missing file');
      const unsupported = await upload('POST', { content: 'x', type: 'text/plain' });
      assert.equal(unsupported.statusCode, 415);
      assert.equal(JSON.parse(unsupported.body).message, 'Unsupported file type text/plain');
      const invalid = await upload('POST', { content: JSON.stringify([book(1), { ...book(2), price: 'x' }]), type: 'application/json' });
      assert.equal(invalid.statusCode, 400);
      assert.equal(JSON.parse(invalid.body).message, '(index: 1, /price) must be number');
      const unknown = await upload('POST', { content: JSON.stringify([{ ...book(3), nope: 1 }]), type: 'application/json' });
      assert.equal(JSON.parse(unknown.body).message, '(index: 0, ) must NOT have additional properties. Property "nope" is not defined in validation schema'.replace(', )', ', /)'));
      assert.equal((await upload('POST', { content: '{"not":"an array"}', type: 'application/json' })).statusCode, 400);
      assert.equal((await all()).length, 0);
      const dup = await upload('POST', { content: JSON.stringify([book(5), book(5)]), type: 'application/json' });
      assert.equal(dup.statusCode, 409);
    });
  });
}
