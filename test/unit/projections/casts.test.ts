import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_CAST_NAMES } from '../../../src/config/sections/fast-data.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { CAST_FAILED, applyCast, builtinCast } from '../../../src/projections/casts.js';

const ctx = { fieldName: 'f', record: {}, logger: silentLogger };
const cast = (name: string, value: unknown): unknown => applyCast(builtinCast(name)!, value, ctx);

test('every built-in name and Mia alias the config accepts resolves to a cast', () => {
  for (const name of BUILTIN_CAST_NAMES) assert.ok(builtinCast(name), name);
  assert.equal(builtinCast('castToFloat'), builtinCast('toNumber'));
  assert.equal(builtinCast('defaultCastUnitTimestampToISOString'), builtinCast('unixTimestampToISOString'));
});

test('built-in casts convert, null stays null, invalid input fails', () => {
  assert.equal(cast('toInteger', '42.9'), 42);
  assert.equal(cast('toInteger', 'x'), CAST_FAILED);
  assert.equal(cast('toNumber', ''), 0);
  assert.equal(cast('toNumber', 'abc'), CAST_FAILED);
  assert.equal(cast('toBoolean', 'true'), true);
  assert.equal(cast('toBoolean', 'yes'), CAST_FAILED);
  assert.equal(cast('toString', { a: 1 }), '{"a":1}');
  assert.equal(cast('unixTimestampToISOString', 1695141357284), '2023-09-19T16:35:57.284Z');
  assert.deepEqual(cast('toDate', '1695141357284'), new Date(1695141357284));
  assert.equal(cast('toDate', 'nope'), CAST_FAILED);
  assert.deepEqual(cast('toObject', '{"a":1}'), { a: 1 });
  assert.equal(cast('toObject', '[1]'), CAST_FAILED);
  assert.deepEqual(cast('toArrayOfObject', '[{"a":1}]'), [{ a: 1 }]);
  assert.equal(cast('toNumber', null), null);
});

test('a custom cast that throws or returns undefined is a failure', () => {
  assert.equal(applyCast(() => { throw new Error('x'); }, 1, ctx), CAST_FAILED);
  assert.equal(applyCast(() => undefined, 1, ctx), CAST_FAILED);
  assert.equal(applyCast((v, c) => `${c.fieldName}:${String(v)}`, 1, ctx), 'f:1');
});
