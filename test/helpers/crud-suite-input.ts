/**
 * Bad input (issue "Bad input"): every case is a 4xx with a precise message, never a 500 and never a
 * partial write; plus ACL headers and state filters on every operation, and atomic upserts.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { DocumentStore } from '../../src/ports/document-store.js';
import { crudApp, type CrudApp } from './crud-app.js';
import { book, booksFor } from './crud-books.js';
import type { StoreFactory } from './crud-suite-core.js';

const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>;
const q = (value: unknown): string => encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value));

export function inputSuite(factory: StoreFactory): void {
  describe(`CRUD bad input, ACL and states (${factory.name})`, { skip: factory.skip ?? false }, () => {
    let store: DocumentStore;
    let t: CrudApp;
    let id: string;
    before(async () => {
      store = await factory.create();
      t = await crudApp(store, [booksFor(store.features)], { bodyLimit: 64 * 1024 });
    });
    after(async () => {
      await t?.close();
      if (store !== undefined) await factory.destroy(store);
    });
    beforeEach(async () => {
      await store.collection('books').deleteMany({});
      const res = await inject({ method: 'POST', url: '/books', payload: book(1, { __STATE__: 'PUBLIC' }) });
      id = json(res.body)._id as string;
    });
    const inject = (opts: InjectOptions): Promise<LightMyRequestResponse> => t.app.inject(opts);
    const total = async (): Promise<string> => (await inject({ url: '/books/count?_st=PUBLIC,DRAFT,TRASH,DELETED' })).body;

    async function expect400(opts: InjectOptions, message: string | RegExp, code = 'MR_CRUD_BAD_REQUEST', status = 400): Promise<void> {
      const res = await inject(opts);
      assert.equal(res.statusCode, status, `${JSON.stringify(opts)} -> ${res.body}`);
      const body = json(res.body);
      assert.equal(body.code, code, res.body);
      assert.equal(body.statusCode, status);
      if (typeof message === 'string') assert.equal(body.message, message);
      else assert.match(String(body.message), message);
    }

    it('malformed JSON in _q and _rawp is a 400 with the parse position', async () => {
      await expect400({ url: `/books?_q=${q('{"name":')}` }, /^_q is not valid JSON: .*position|^_q is not valid JSON/);
      await expect400({ url: `/books/${id}?_rawp=${q('{name:1}')}` }, /^_rawp is not valid JSON/);
      await expect400({ url: `/books?_q=${q('[1]')}` }, /_q/);
      await expect400({ url: '/books', headers: { acl_rows: '{oops' } }, /^acl_rows is not valid JSON/);
    });

    it('unknown fields and operators are named', async () => {
      await expect400({ url: `/books?_q=${q({ nope: 1 })}` }, 'Unknown field: nope');
      await expect400({ url: `/books?_q=${q({ 'additionalInfo.x': 1, 'signature.bad': 1 })}` }, 'Unknown field: signature.bad');
      await expect400({ url: `/books?_q=${q({ $where: 'sleep(1000)' })}` }, 'Unknown operator: $where');
      await expect400({ url: `/books/count?_q=${q({ $nor: [{ price: 1 }] })}` }, 'Unknown operator: $nor');
      await expect400({ url: `/books?_q=${q({ price: { $not: { $gt: 1 } } })}` }, 'Unsupported operator: $not');
      await expect400({ url: `/books?_q=${q({ $or: [{ price: { $type: 'string' } }] })}` }, 'Unsupported operator: $type');
      await expect400({ url: `/books?_q=${q({ price: { $elemMatch: { $gt: 1 } } })}` }, /\$elemMatch is only allowed on array fields/);
      await expect400({ url: `/books?_q=${q({ tags: { $elemMatch: { $where: 1 } } })}` }, /Unknown field: tags.\$where|Unknown operator: \$where/);
      await expect400({ url: `/books?_q=${q({ name: { $size: 1 } })}` }, /\$size is only allowed on array fields/);
      await expect400({ url: `/books?_q=${q({ name: { $nearSphere: { from: [0, 0] } } })}` }, /\$nearSphere is only allowed on GeoPoint fields/);
      await expect400({ url: `/books?_q=${q({ publishDate: 'not a date' })}` }, /publishDate must be a date/);
      await expect400({ url: '/books?_s=nope' }, 'Unknown field: nope');
    });

    it('unsafe regular expressions are refused', async () => {
      await expect400({ url: `/books?_q=${q({ name: { $regex: '(a+)+$' } })}` }, /could backtrack catastrophically/, 'MR_CRUD_UNSAFE_REGEX');
      await expect400({ url: `/books?_q=${q({ name: { $regex: 'a'.repeat(300) } })}` }, /longer than 256 characters/, 'MR_CRUD_UNSAFE_REGEX');
      await expect400({ url: `/books?_q=${q({ name: { $regex: '(' } })}` }, /invalid \$regex/);
      await expect400({ url: `/books?_q=${q({ name: { $regex: 'a', $options: 'g' } })}` }, /\$options may only contain/);
    });

    it('prototype-pollution keys and deep nesting are refused', async () => {
      await expect400({ url: `/books?_q=${q('{"__proto__":{"polluted":1}}')}` }, /key "__proto__" is not allowed/);
      await expect400({ url: `/books?_q=${q({ additionalInfo: { constructor: { prototype: 1 } } })}` }, /key "constructor" is not allowed/);
      let deep: Record<string, unknown> = { price: 1 };
      for (let i = 0; i < 20; i++) deep = { $and: [deep] };
      await expect400({ url: `/books?_q=${q(deep)}` }, /nested too deeply/);
      const body = await inject({ method: 'POST', url: '/books', headers: { 'content-type': 'application/json' }, payload: `{"name":"x","isbn":"p","__proto__":{"admin":true}}` });
      assert.equal(body.statusCode, 400);
      const raw = await inject({ method: 'POST', url: '/books', payload: { ...book(2), additionalInfo: { constructor: { prototype: { admin: true } } } } });
      assert.equal(raw.statusCode, 400, raw.body);
      assert.equal(({} as Record<string, unknown>).admin, undefined);
      assert.equal(await total(), '1');
    });

    it('query parameters are typed: _l bounds, _sk, _st, unknown parameters', async () => {
      await expect400({ url: '/books?_l=201' }, 'querystring/_l must be <= 200');
      await expect400({ url: '/books?_l=0' }, 'querystring/_l must be >= 1');
      await expect400({ url: '/books?_l=abc' }, 'querystring/_l must be integer');
      await expect400({ url: '/books?_sk=-1' }, 'querystring/_sk must be >= 0');
      await expect400({ url: '/books?_st=PUBLIC,FOO' }, /querystring\/_st must match pattern/);
      await expect400({ url: '/books?foo=1' }, 'querystring must NOT have additional properties. Property "foo" is not defined in validation schema');
      await expect400({ url: '/books?price=abc' }, 'querystring/price must be number');
      assert.equal((await inject({ url: '/books?_l=200' })).statusCode, 200);
    });

    it('projections: _p with _rawp, system variables, unknown operators', async () => {
      await expect400({ url: `/books?_p=name&_rawp=${q({ name: 1 })}` }, 'Use of both _rawp and _p parameter is not allowed');
      await expect400({ url: `/books?_rawp=${q({ x: '$$ROOT' })}` }, 'Operator $$ROOT is not allowed in raw projection');
      await expect400({ url: `/books?_rawp=${q({ x: { $function: {} } })}` }, 'Operator $function is not allowed in raw projection');
    });

    it('bodies: wrong types, unknown and metadata fields, missing required fields; nothing is written', async () => {
      await expect400({ method: 'POST', url: '/books', payload: { ...book(2), price: 'abc' } }, 'body/price must be number');
      await expect400({ method: 'POST', url: '/books', payload: { ...book(2), nope: 1 } }, 'body must NOT have additional properties. Property "nope" is not defined in validation schema');
      await expect400({ method: 'POST', url: '/books', payload: { ...book(2), creatorId: 'me' } }, 'body must NOT have additional properties. Property "creatorId" is not defined in validation schema');
      await expect400({ method: 'POST', url: '/books', payload: { name: 'x' } }, "body must have required property 'isbn'");
      await expect400({ method: 'POST', url: '/books', payload: { ...book(2), position: [200, 0] } }, /body\/position/);
      await expect400({ method: 'POST', url: '/books', payload: { ...book(2), signature: { name: 'x', extra: 1 } } }, /body\/signature must NOT have additional properties/);
      await expect400({ method: 'POST', url: '/books', payload: { ...book(2), editionsDates: ['yesterday'] } }, /body\/editionsDates\/0 must match format "date-time"/);
      await expect400({ method: 'POST', url: '/books/bulk', payload: [book(3), { ...book(4), price: 'x' }] }, 'body/1/price must be number');
      assert.equal(await total(), '1');
    });

    it('update bodies: unsupported operators, metadata, unknown fields, wrong types', async () => {
      const patch = (payload: unknown) => ({ method: 'PATCH' as const, url: `/books/${id}`, payload: payload as Record<string, unknown> });
      await expect400(patch({ $rename: { name: 'title' } }), 'body must NOT have additional properties. Property "$rename" is not defined in validation schema');
      await expect400(patch({ $set: { creatorId: 'me' } }), 'body/$set must NOT have additional properties. Property "creatorId" is not defined in validation schema');
      await expect400(patch({ $set: { nope: 1 } }), /Property "nope" is not defined/);
      await expect400(patch({ $set: { 'additionalInfo.__proto__.x': 1 } }), /key "__proto__" is not allowed/);
      await expect400(patch({ $inc: { name: 1 } }), /Property "name" is not defined/);
      await expect400(patch({ $set: { price: 'x' } }), 'body/$set/price must be number');
      await expect400(patch({ $set: { 'signature.when': 'x' } }), /must match format "date-time"/);
      await expect400(patch({ $unset: { isbn: true } }), /Property "isbn" is not defined/);
      await expect400(patch({}), /body must NOT have fewer than 1 properties/);
      await expect400(patch({ $set: { 'tags.$.replace': 'x' } }), 'The positional update of tags needs a _q condition on tags');
      const doc = json((await inject({ url: `/books/${id}` })).body);
      assert.equal(doc.name, 'Book 1');
    });

    it('a body over the limit is 413', async () => {
      const res = await inject({ method: 'POST', url: '/books', payload: { ...book(2), additionalInfo: { big: 'x'.repeat(70 * 1024) } } });
      assert.equal(res.statusCode, 413);
      assert.equal(await total(), '1');
    });

    it('two concurrent upsert-one on the same filter create one document', async () => {
      const url = `/books/upsert-one?_q=${q({ isbn: 'race' })}`;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => inject({ method: 'POST', url, payload: { $set: { price: i }, $setOnInsert: { name: 'race' } } })));
      for (const r of results) assert.equal(r.statusCode, 200, r.body);
      assert.equal(new Set(results.map((r) => json(r.body)._id)).size, 1);
      assert.equal((await inject({ url: '/books/count?isbn=race' })).body, '1');
    });

    it('acl_rows bounds every read, update, delete and state change, estimates included', async () => {
      await inject({ method: 'POST', url: '/books', payload: book(2, { __STATE__: 'PUBLIC', author: 'Other' }) });
      const acl = { acl_rows: JSON.stringify({ author: 'Other' }) };
      const list = JSON.parse((await inject({ url: '/books', headers: acl })).body) as Record<string, unknown>[];
      assert.deepEqual(list.map((d) => d.author), ['Other']);
      assert.equal((await inject({ url: '/books/count', headers: acl })).body, '1');
      assert.equal((await inject({ url: '/books/count?_useEstimate=true', headers: acl })).body, '1');
      assert.equal((await inject({ url: `/books/${id}`, headers: acl })).statusCode, 404);
      assert.equal((await inject({ method: 'PATCH', url: `/books/${id}`, headers: acl, payload: { $set: { price: 0 } } })).statusCode, 404);
      assert.equal((await inject({ method: 'PATCH', url: '/books', headers: acl, payload: { $set: { price: 0 } } })).body, '1');
      assert.equal((await inject({ method: 'POST', url: `/books/${id}/state`, headers: acl, payload: { stateTo: 'TRASH' } })).statusCode, 404);
      assert.equal((await inject({ method: 'DELETE', url: `/books/${id}`, headers: acl })).statusCode, 404);
      assert.equal((await inject({ method: 'DELETE', url: '/books', headers: acl })).body, '1');
      const mine = json((await inject({ url: `/books/${id}` })).body);
      assert.equal(mine.price, 10);
      const arrayForm = { acl_rows: JSON.stringify([{ price: { $gte: 10 } }, { author: 'Bob Dylan' }]) };
      assert.equal((await inject({ url: '/books/count', headers: arrayForm })).body, '1');
    });

    it('acl_read_columns limits what reads and update answers return; acl_write_columns what updates touch', async () => {
      const read = { acl_read_columns: 'name,price' };
      const doc = json((await inject({ url: `/books/${id}`, headers: read })).body);
      assert.deepEqual(Object.keys(doc).sort(), ['_id', 'name', 'price']);
      const projected = json((await inject({ url: `/books/${id}?_p=name,isbn`, headers: read })).body);
      assert.deepEqual(Object.keys(projected).sort(), ['_id', 'name']);
      const patched = json((await inject({ method: 'PATCH', url: `/books/${id}`, headers: read, payload: { $inc: { price: 1 } } })).body);
      assert.deepEqual(Object.keys(patched).sort(), ['_id', 'name', 'price']);
      const write = { acl_write_columns: 'price' };
      assert.equal((await inject({ method: 'PATCH', url: `/books/${id}`, headers: write, payload: { $set: { price: 3 } } })).statusCode, 200);
      await expect400({ method: 'PATCH', url: `/books/${id}`, headers: write, payload: { $set: { name: 'x' } } }, 'Field name is not writable (acl_write_columns)');
      await expect400({ method: 'PATCH', url: `/books/${id}`, headers: write, payload: { $unset: { author: true } } }, 'Field author is not writable (acl_write_columns)');
      await expect400({ method: 'PATCH', url: `/books/${id}`, headers: write, payload: { $currentDate: { publishDate: true } } }, 'Field publishDate is not writable (acl_write_columns)');
      const after = json((await inject({ url: `/books/${id}` })).body);
      assert.equal(after.name, 'Book 1');
      assert.equal(after.price, 3);
    });

    it('_st applies to get, patch, delete and count; each state is checked', async () => {
      await inject({ method: 'POST', url: `/books/${id}/state`, payload: { stateTo: 'TRASH' } });
      assert.equal((await inject({ url: `/books/${id}` })).statusCode, 404);
      assert.equal((await inject({ url: `/books/${id}?_st=TRASH` })).statusCode, 200);
      assert.equal((await inject({ url: '/books/count' })).body, '0');
      assert.equal((await inject({ url: '/books/count?_st=TRASH,PUBLIC' })).body, '1');
      assert.equal((await inject({ method: 'PATCH', url: `/books/${id}?_st=PUBLIC`, payload: { $set: { price: 1 } } })).statusCode, 404);
      assert.equal((await inject({ method: 'DELETE', url: `/books/${id}?_st=TRASH` })).statusCode, 204);
    });
  });
}
