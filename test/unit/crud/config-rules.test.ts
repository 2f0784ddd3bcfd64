import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectionRules } from '../../../src/config/rules/collections.js';
import { HEADER, lines, load } from '../config/files.js';

const only = { rules: collectionRules };
const BOOKS = `  - name: books
    endpointBasePath: /books
    fields:
      - { name: title, type: string, required: true }
      - { name: published, type: Date }
      - { name: where, type: GeoPoint }
`;

test('a valid collections section passes every rule', async () => {
  const result = await load({ 'project.yaml': `${HEADER}bus:\n  topics: { book-events: {} }\ncollections:\n${BOOKS}    indexes:\n      - { name: t, type: normal, unique: true, fields: [{ name: title, order: 1 }] }\n      - { name: g, type: geo, field: where }\n      - { name: ttl, type: normal, expireAfterSeconds: 60, fields: [{ name: published, order: 1 }] }\n    events: { topic: book-events }\n  - { name: recent, type: view, source: books, pipeline: [{ $match: { title: x } }] }\n` }, only);
  assert.deepEqual(lines(result), []);
  assert.ok(result.config);
});

test('duplicate names and base paths', async () => {
  const result = await load({ 'project.yaml': `${HEADER}collections:\n${BOOKS}${BOOKS}` }, only);
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.path, d.message]), [
    ['MR_CONFIG_DUPLICATE', 'collections[1].name', 'collection "books" is already declared at collections[0]'],
    ['MR_CONFIG_DUPLICATE', 'collections[1].endpointBasePath', 'endpointBasePath "/books" is also used by collections[0]'],
  ]);
});

test('unknown database and topic suggest the closest name', async () => {
  const result = await load({ 'project.yaml': `${HEADER}databases:\n  orders: { kind: embedded }\nbus:\n  topics: { order-events: {} }\ncollections:\n  - name: o\n    database: ordrs\n    fields: [{ name: a, type: string }]\n    events: { topic: order-event }\n` }, only);
  assert.deepEqual(lines(result), [
    'project.yaml:9:15 error MR_CONFIG_UNKNOWN_REF collections[0].database: "ordrs" is not a declared database; did you mean "orders"?; declared databases: orders, default',
    'project.yaml:11:22 error MR_CONFIG_UNKNOWN_REF collections[0].events.topic: "order-event" is not a declared topic; did you mean "order-events"?; declared topics: order-events',
  ]);
});

test('index fields must be declared, geo on GeoPoint, TTL on one Date field; metadata fields are implicit', async () => {
  const result = await load({ 'project.yaml': `${HEADER}collections:\n${BOOKS}      - { name: createdAt, type: string }\n      - { name: updatedAt, type: Date }\n    defaultSorting: { titel: 1, updatedAt: -1 }\n    indexes:\n      - { name: a, type: normal, fields: [{ name: titl, order: 1 }, { name: __STATE__, order: 1 }] }\n      - { name: b, type: geo, field: title }\n      - { name: c, type: normal, expireAfterSeconds: 5, fields: [{ name: title, order: 1 }] }\n` }, only);
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.path, d.message]), [
    ['MR_CONFIG_INVALID_VALUE', 'collections[0].fields[3].name', '"createdAt" is a metadata field of type Date; it is implicit and cannot be declared as string'],
    ['MR_CONFIG_UNKNOWN_REF', 'collections[0].defaultSorting.titel', '"titel" is not a field of collection "books"; did you mean "title"?'],
    ['MR_CONFIG_UNKNOWN_REF', 'collections[0].indexes[0].fields[0].name', '"titl" is not a field of collection "books"; did you mean "title"?'],
    ['MR_CONFIG_INVALID_VALUE', 'collections[0].indexes[1].field', 'geo index "b" needs a GeoPoint field; "title" is string'],
    ['MR_CONFIG_INVALID_VALUE', 'collections[0].indexes[2].expireAfterSeconds', 'TTL index "c" needs exactly one Date field'],
  ]);
});

test('a collection needs fields or schema; a view needs a declared source and a read-only pipeline', async () => {
  const result = await load({ 'project.yaml': `${HEADER}collections:\n  - { name: empty }\n${BOOKS}  - { name: v, type: view, source: bookz, pipeline: [{ $out: x }] }\n` }, only);
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.path, d.message]), [
    ['MR_CONFIG_MISSING_KEY', 'collections[0]', 'collection "empty" needs fields (Mia\'s field list) or schema (a JSON Schema)'],
    ['MR_CONFIG_UNKNOWN_REF', 'collections[2].source', '"bookz" is not a declared collection; did you mean "books"?'],
    ['MR_CONFIG_INVALID_VALUE', 'collections[2].pipeline[0]', 'views are read-only: $out is not allowed'],
  ]);
});

test('the schema rejects unknown field types and index shapes with precise paths', async () => {
  const result = await load({ 'project.yaml': `${HEADER}collections:\n  - name: x\n    fields: [{ name: a, type: strin }]\n    indexes: [{ name: i, type: geo, fields: [{ name: a, order: 1 }] }]\n` }, only);
  const paths = result.diagnostics.map((d) => d.path);
  assert.ok(paths.includes('collections[0].fields[0].type'), paths.join(' '));
  assert.ok(paths.some((p) => p.startsWith('collections[0].indexes[0]')), paths.join(' '));
  assert.equal(result.config, undefined);
});
