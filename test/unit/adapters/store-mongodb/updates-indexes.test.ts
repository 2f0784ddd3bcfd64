import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkIndexFeatures, sameDefinition, toIndexInfo } from '../../../../src/adapters/store-mongodb/indexes.js';
import { ttlIndexesOf, withoutExpired } from '../../../../src/adapters/store-mongodb/ttl-filter.js';
import { resolveCurrentDate } from '../../../../src/adapters/store-mongodb/updates.js';
import { MiaRunError } from '../../../../src/errors.js';

describe('resolveCurrentDate', () => {
  it("turns $currentDate into a $set of the store clock's time, merged with an existing $set", () => {
    const now = Date.UTC(2030, 0, 2, 3, 4, 5);
    const update = resolveCurrentDate({ $set: { a: 1 }, $currentDate: { updatedAt: true, 'meta.seen': { $type: 'date' } }, $inc: { n: 1 } }, now);
    assert.deepEqual(update, { $set: { a: 1, updatedAt: new Date(now), 'meta.seen': new Date(now) }, $inc: { n: 1 } });
  });

  it('keeps timestamp requests for the server and leaves other updates untouched', () => {
    assert.deepEqual(resolveCurrentDate({ $currentDate: { ts: { $type: 'timestamp' } } }, 0), { $currentDate: { ts: { $type: 'timestamp' } } });
    const plain = { $inc: { n: 1 } };
    assert.equal(resolveCurrentDate(plain, 0), plain);
  });
});

describe('index definitions', () => {
  it('reads a MongoDB text index back in the port shape', () => {
    const info = toIndexInfo({ v: 2, name: 'search', key: { _fts: 'text', _ftsx: 1 }, weights: { title: 10, body: 1 }, default_language: 'italian', textIndexVersion: 3 });
    assert.deepEqual(info, { name: 'search', key: { title: 'text', body: 'text' }, weights: { title: 10, body: 1 }, defaultLanguage: 'italian' });
  });

  it('reads unique, TTL and partial options', () => {
    assert.deepEqual(toIndexInfo({ name: 'u', key: { a: 1, b: -1 }, unique: true, partialFilterExpression: { a: { $exists: true } } }), {
      name: 'u', key: { a: 1, b: -1 }, unique: true, partialFilterExpression: { a: { $exists: true } },
    });
    assert.deepEqual(toIndexInfo({ name: 'ttl', key: { at: 1 }, expireAfterSeconds: 60 }), { name: 'ttl', key: { at: 1 }, expireAfterSeconds: 60 });
  });

  it('compares definitions by key order and options, so a changed index is rebuilt', () => {
    const base = { name: 'i', key: { a: 1, b: 1 } } as const;
    assert.equal(sameDefinition(base, { name: 'i', key: { a: 1, b: 1 } }), true);
    assert.equal(sameDefinition(base, { name: 'i', key: { b: 1, a: 1 } }), false);
    assert.equal(sameDefinition(base, { name: 'i', key: { a: 1, b: 1 }, unique: true }), false);
    assert.equal(sameDefinition({ name: 't', key: { at: 1 }, expireAfterSeconds: 60 }, { name: 't', key: { at: 1 }, expireAfterSeconds: 30 }), false);
    assert.equal(sameDefinition({ name: 's', key: { title: 'text' }, weights: { title: 1 }, defaultLanguage: 'english' }, { name: 's', key: { title: 'text' } }), true);
  });

  it('refuses an index kind the server lacks with MR_STORE_UNSUPPORTED naming the feature', () => {
    const features = new Set(['ttl'] as const);
    assert.throws(
      () => checkIndexFeatures([{ name: 'near', key: { location: '2dsphere' } }], features, 'database "d"'),
      (error: unknown) => error instanceof MiaRunError && error.code === 'MR_STORE_UNSUPPORTED' && error.details?.feature === 'geo' && /index "near"/.test(error.message),
    );
    assert.doesNotThrow(() => checkIndexFeatures([{ name: 'exp', key: { at: 1 }, expireAfterSeconds: 5 }], features, 'd'));
  });
});

describe('TTL read filter', () => {
  const now = Date.UTC(2030, 0, 1);

  it('excludes documents whose TTL date plus expireAfterSeconds is at or before now', () => {
    const ttl = ttlIndexesOf([{ name: '_id_', key: { _id: 1 } }, { name: 'exp', key: { at: 1 }, expireAfterSeconds: 60 }, { name: 'c', key: { a: 1, b: 1 }, expireAfterSeconds: 5 }]);
    assert.deepEqual(ttl, [{ field: 'at', expireAfterSeconds: 60 }]);
    assert.deepEqual(withoutExpired({ kind: 'x' }, ttl, now), { kind: 'x', $nor: [{ at: { $lte: new Date(now - 60_000) } }] });
  });

  it('respects partial TTL indexes and keeps a user $nor intact', () => {
    const ttl = ttlIndexesOf([{ name: 'exp', key: { at: 1 }, expireAfterSeconds: 0, partialFilterExpression: { temp: true } }]);
    assert.deepEqual(withoutExpired({ $nor: [{ a: 1 }] }, ttl, now), {
      $and: [{ $nor: [{ a: 1 }] }, { $nor: [{ $and: [{ temp: true }, { at: { $lte: new Date(now) } }] }] }],
    });
  });

  it('leaves filters alone when there is no TTL index', () => {
    const filter = { a: 1 };
    assert.equal(withoutExpired(filter, [], now), filter);
  });
});
