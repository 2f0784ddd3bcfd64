import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ObjectId } from 'bson';
import { encodeKey, encodeValue, prefixEnd } from '../../../../src/adapters/store-embedded/key-encoding.js';

const order = (values: unknown[]): unknown[] =>
  values
    .map((v) => ({ v, k: encodeValue(v) }))
    .sort((a, b) => Buffer.compare(a.k, b.k))
    .map((e) => e.v);

test('values sort in MongoDB type order, and by value within a type', () => {
  const a = new ObjectId('000000000000000000000001');
  const b = new ObjectId('000000000000000000000002');
  const expected = [null, -1e9, -2.5, -1, 0, 0.5, 1, 2, 1e12, '', 'a', 'a\u0000', 'a\u0001', 'ab', 'b', 'é', { x: 1 }, [1], a, b, false, true, new Date(-1), new Date(0), new Date(5)];
  const shuffled = [...expected].reverse();
  shuffled.push(shuffled.shift()!);
  assert.deepEqual(order(shuffled), expected);
});

test('0 and -0 encode the same; undefined encodes as null', () => {
  assert.ok(encodeValue(0).equals(encodeValue(-0)));
  assert.ok(encodeValue(undefined).equals(encodeValue(null)));
});

test('compound keys compare field by field, shorter strings first', () => {
  const keys = [['b', 1], ['a', 2], ['a', 10], ['ab', 0]].map((t) => encodeKey(t));
  const sorted = [...keys].sort(Buffer.compare);
  assert.deepEqual(sorted, [keys[1], keys[2], keys[3], keys[0]]);
});

test('prefixEnd bounds every key with the prefix and nothing else', () => {
  const prefix = encodeKey(['a']);
  const end = prefixEnd(prefix);
  assert.ok(Buffer.compare(encodeKey(['a', 'zzz']), end) < 0);
  assert.ok(Buffer.compare(encodeKey(['a\u0001']), end) >= 0);
  assert.ok(Buffer.compare(encodeKey(['b']), end) >= 0);
  assert.deepEqual([...prefixEnd(Buffer.from([1, 0xff]))], [2]);
});
