import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MongoBulkWriteError, MongoInvalidArgumentError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { isDuplicateKeyError, isFerretDbUniqueViolation, mapMongoError } from '../../../../src/adapters/store-mongodb/map-error.js';
import { MiaRunError } from '../../../../src/errors.js';

const server = (code: number, errmsg = 'refused', labels: string[] = []): MongoServerError =>
  new MongoServerError({ ok: 0, code, codeName: `Code${code}`, errmsg, errorLabels: labels });

describe('mapMongoError', () => {
  it('maps network and server-selection failures to retriable MR_STORE_UNAVAILABLE', () => {
    for (const error of [new MongoNetworkError('connection reset'), new MongoServerSelectionError('no server', { type: 'Unknown' } as never)]) {
      const mapped = mapMongoError(error, 'read', 'database "db"');
      assert.equal(mapped.code, 'MR_STORE_UNAVAILABLE');
      assert.equal(mapped.retriable, true);
      assert.equal(mapped.statusCode, 503);
      assert.equal(mapped.cause, error);
    }
  });

  it('maps stepdowns and shutdowns (by code or RetryableWriteError label) to retriable MR_STORE_UNAVAILABLE', () => {
    for (const error of [server(10107), server(91), server(189), server(999, 'x', ['RetryableWriteError'])]) {
      const mapped = mapMongoError(error, 'update', 'c');
      assert.equal(mapped.code, 'MR_STORE_UNAVAILABLE');
      assert.equal(mapped.retriable, true);
    }
  });

  it('maps write conflicts and transient transaction errors to retriable MR_STORE_WRITE_CONFLICT', () => {
    for (const error of [server(112), server(251, 'no such transaction'), server(5, 'x', ['TransientTransactionError'])]) {
      const mapped = mapMongoError(error, 'update', 'c');
      assert.equal(mapped.code, 'MR_STORE_WRITE_CONFLICT');
      assert.equal(mapped.retriable, true);
    }
  });

  it('maps bad credentials to a non-retriable MR_STORE_UNAVAILABLE with a hint', () => {
    const mapped = mapMongoError(server(18, 'Authentication failed.'), 'read', 'c');
    assert.equal(mapped.code, 'MR_STORE_UNAVAILABLE');
    assert.equal(mapped.retriable, false);
    assert.match(mapped.hint ?? '', /user, password/);
  });

  it('tells a refused document from a refused query', () => {
    assert.equal(mapMongoError(server(66, "would modify the immutable field '_id'"), 'update', 'c').code, 'MR_STORE_INVALID_DOCUMENT');
    assert.equal(mapMongoError(server(10334, 'too large'), 'update', 'c').code, 'MR_STORE_INVALID_DOCUMENT');
    assert.equal(mapMongoError(server(2, 'bad'), 'insert', 'c').code, 'MR_STORE_INVALID_DOCUMENT');
    assert.equal(mapMongoError(server(2, 'unknown operator: $foo'), 'read', 'c').code, 'MR_STORE_INVALID_QUERY');
    assert.equal(mapMongoError(new MongoInvalidArgumentError('Update document requires atomic operators'), 'update', 'c').code, 'MR_STORE_INVALID_QUERY');
  });

  it('maps "not implemented" answers to MR_STORE_UNSUPPORTED', () => {
    assert.equal(mapMongoError(server(238, 'Index option "partialFilterExpression" is not implemented yet'), 'index', 'c').code, 'MR_STORE_UNSUPPORTED');
    assert.equal(mapMongoError(server(20, 'Transaction numbers are only allowed on a replica set member or mongos'), 'update', 'c').code, 'MR_STORE_UNSUPPORTED');
  });

  it('keeps server code and name in details, the context in the message, and passes MiaRunErrors through', () => {
    const mapped = mapMongoError(server(2, 'bad'), 'read', 'database "orders", collection "o"');
    assert.deepEqual(mapped.details, { context: 'database "orders", collection "o"', serverCode: 2, codeName: 'Code2' });
    assert.match(mapped.message, /^database "orders", collection "o": /);
    const own = new MiaRunError('MR_STORE_CLOSED', 'closed');
    assert.equal(mapMongoError(own, 'read', 'c'), own);
  });

  it('does not treat unknown non-driver errors as retriable', () => {
    const mapped = mapMongoError(new TypeError('boom'), 'read', 'c');
    assert.equal(mapped.code, 'MR_STORE_UNAVAILABLE');
    assert.equal(mapped.retriable, false);
  });
});

describe('duplicate key detection', () => {
  it('recognises E11000 by code, from single writes and bulk writes', () => {
    assert.equal(isDuplicateKeyError(server(11000, 'E11000 duplicate key error')), true);
    const bulk = new MongoBulkWriteError({ message: 'E11000', code: 11000, writeErrors: [] } as never, { insertedCount: 0 } as never);
    assert.equal(isDuplicateKeyError(bulk), true);
    assert.equal(isDuplicateKeyError(server(2, 'E11000 duplicate key error')), false, 'message text alone does not count');
  });

  it("recognises FerretDB's SQLite unique violation only as code 1 InternalError", () => {
    assert.equal(isFerretDbUniqueViolation(server(1, "constraint failed: UNIQUE constraint failed: index 'people_963335ee_by_email' (2067)")), true);
    assert.equal(isFerretDbUniqueViolation(server(2, 'UNIQUE constraint failed')), false);
    assert.equal(isFerretDbUniqueViolation(server(1, 'disk I/O error')), false);
  });
});
