/**
 * `GET /export` as XLSX (crud-api.md §2): the file is parsed back with exceljs and its header row, rows and
 * cell types are checked, with the state filter, `_q`, `_p` and `acl_read_columns` applied.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import type { DocumentStore } from '../../src/ports/document-store.js';
import { crudApp, type CrudApp } from '../helpers/crud-app.js';
import { book, booksFor } from '../helpers/crud-books.js';
import { embeddedStore, mongoStore } from '../helpers/crud-stores.js';
import type { StoreFactory } from '../helpers/crud-suite-core.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const q = (value: unknown): string => encodeURIComponent(JSON.stringify(value));

/** The first worksheet's rows as arrays of cell values (exceljs rows are 1-based with an empty slot 0). */
async function readSheet(body: Buffer): Promise<{ name: string; rows: unknown[][] }> {
  const workbook = new ExcelJS.Workbook();
  // exceljs declares its own Buffer type; a Node Buffer is what it reads.
  await workbook.xlsx.load(body as unknown as ExcelJS.Buffer);
  const sheet = workbook.worksheets[0];
  assert.ok(sheet !== undefined, 'the file has a worksheet');
  const rows: unknown[][] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => rows.push((row.values as unknown[]).slice(1)));
  return { name: sheet.name, rows };
}

function xlsxSuite(factory: StoreFactory): void {
  describe(`CRUD export as XLSX (${factory.name})`, { skip: factory.skip ?? false }, () => {
    let store: DocumentStore;
    let t: CrudApp;
    const ids: string[] = [];
    before(async () => {
      store = await factory.create();
      t = await crudApp(store, [booksFor(store.features)]);
      for (let n = 1; n <= 5; n++) {
        const res = await t.app.inject({ method: 'POST', url: '/books', payload: book(n, { __STATE__: n === 5 ? 'DRAFT' : 'PUBLIC' }) });
        assert.equal(res.statusCode, 200, res.body);
        ids.push((JSON.parse(res.body) as { _id: string })._id);
      }
    });
    after(async () => {
      await t?.close();
      if (store !== undefined) await factory.destroy(store);
    });

    it('answers a spreadsheet with a header row (_id first) and typed cells for the PUBLIC documents', async () => {
      const res = await t.app.inject({ url: '/books/export?_p=name,price,isPromoted,publishDate,tags&_s=price', headers: { accept: XLSX } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], XLSX);
      assert.match(String(res.headers['content-disposition']), /books\.xlsx/);
      const { name, rows } = await readSheet(res.rawPayload);
      assert.equal(name, 'books');
      assert.deepEqual(rows[0], ['_id', 'name', 'price', 'isPromoted', 'publishDate', 'tags']);
      assert.equal(rows.length, 5, 'header + 4 PUBLIC books (the DRAFT one is filtered by the default _st)');
      assert.deepEqual(rows[1], [ids[0], 'Book 1', 10, false, new Date(Date.UTC(2020, 0, 1)), '["tag1","common"]']);
      assert.equal(typeof rows[4]?.[2], 'number');
      assert.equal(rows[2]?.[3], true);
      assert.ok(rows[3]?.[4] instanceof Date);
    });

    it('applies _st, _q and acl_read_columns (hidden columns are not in the file)', async () => {
      const res = await t.app.inject({
        url: `/books/export?_st=DRAFT&_q=${q({ price: { $gte: 40 } })}`,
        headers: { accept: `text/html;q=0.9, ${XLSX}`, acl_read_columns: 'name,price' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const { rows } = await readSheet(res.rawPayload);
      assert.deepEqual(rows, [['_id', 'name', 'price'], [ids[4], 'Book 5', 50]]);
    });

    it('an empty result is a valid file with only the header row; application/vnd.ms-excel is accepted too', async () => {
      const res = await t.app.inject({ url: `/books/export?_p=name&_q=${q({ price: { $gt: 1000 } })}`, headers: { accept: 'application/vnd.ms-excel' } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual((await readSheet(res.rawPayload)).rows, [['_id', 'name']]);
    });

    it('bad query parameters are still a 400 before anything is streamed', async () => {
      const res = await t.app.inject({ url: `/books/export?_q=${q({ nope: 1 })}`, headers: { accept: XLSX } });
      assert.equal(res.statusCode, 400);
      assert.match((JSON.parse(res.body) as { message: string }).message, /Unknown field: nope/);
    });
  });
}

xlsxSuite(embeddedStore);
xlsxSuite(mongoStore);
