import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER, lines, load } from './files.js';

/** A Mia CRUD collection file as the Console exports it (ids, encryption keys and all). */
const BOOKS = JSON.stringify({
  id: 'books-id',
  name: 'books',
  endpointBasePath: '/books',
  defaultState: 'PUBLIC',
  description: 'Books of the shop',
  tags: ['catalog'],
  fields: [
    { name: '_id', type: 'ObjectId', required: true, nullable: false, description: '_id' },
    { name: 'title', type: 'string', required: true, nullable: false, encryptionEnabled: false, encryptionSearchable: false, sensitivityValue: 0 },
    { name: 'price', type: 'number', required: false, nullable: true },
    { name: 'published', type: 'Date', required: false, nullable: false },
  ],
  indexes: [{ name: 'title_unique', type: 'normal', unique: true, fields: [{ name: 'title', order: 1 }] }],
}, null, 2);

test('a $ref entry loads a Mia collection JSON file as is, relative to the file that contains it', async () => {
  const result = await load({
    'project.yaml': `${HEADER}include: [parts/crud.yaml]\ncollections:\n  - { name: notes, endpointBasePath: /notes, fields: [{ name: text, type: string }] }\n`,
    'parts/crud.yaml': 'collections:\n  - $ref: ../collections/books.json\n    defaultState: DRAFT\n',
    'collections/books.json': BOOKS,
  });
  assert.deepEqual(lines(result), []);
  const books = result.config?.collections.find((c) => c.name === 'books') as { endpointBasePath?: string; defaultState?: string; fields?: unknown[] } | undefined;
  assert.ok(books, 'the referenced collection is declared');
  assert.equal(books.endpointBasePath, '/books');
  assert.equal(books.defaultState, 'DRAFT', 'a key beside $ref overrides the file');
  assert.equal(books.fields?.length, 4);
  assert.ok(result.config?.files.some((f) => f.endsWith('books.json')), 'the file is one of the project files');
});

test('a missing file is an error at the $ref', async () => {
  const result = await load({ 'project.yaml': `${HEADER}collections:\n  - $ref: ./collections/nope.json\n` });
  assert.equal(result.config, undefined);
  assert.deepEqual(lines(result), ['project.yaml:4:11 error MR_CONFIG_READ collections[0].$ref: collections/nope.json does not exist; check the path (relative paths start from the current directory, or from the including file for include:)']);
});

test('malformed JSON is an error at its position in the JSON file', async () => {
  const result = await load({
    'project.yaml': `${HEADER}collections:\n  - $ref: books.json\n`,
    'books.json': '{\n  "name": "books",\n  "fields": [,]\n}\n',
  });
  assert.equal(result.config, undefined);
  const [first] = lines(result);
  assert.match(first ?? '', /^books\.json:3:\d+ error MR_CONFIG_YAML /);
});

test('invalid content is a schema error pointing into the JSON file; a key beside $ref is located in the YAML', async () => {
  const result = await load({
    'project.yaml': `${HEADER}collections:\n  - $ref: books.json\n    defaultState: SOMETIMES\n`,
    'books.json': '{\n  "name": "books",\n  "endpointBasePath": "/books",\n  "fields": [\n    { "name": "title", "type": "strin" }\n  ]\n}\n',
  });
  assert.equal(result.config, undefined);
  const out = lines(result).join('\n');
  assert.match(out, /^books\.json:5:32 error MR_CONFIG_SCHEMA collections\[0\]\.fields\[0\]\.type: "strin" is not one of .*did you mean "string"\?$/m);
  assert.match(out, /^project\.yaml:5:19 error MR_CONFIG_SCHEMA collections\[0\]\.defaultState: "SOMETIMES" is not one of/m);
});

test('a file that is not one object, and a $ref that is not a path, are MR_CONFIG_REF errors', async () => {
  const array = await load({ 'project.yaml': `${HEADER}collections:\n  - $ref: books.json\n`, 'books.json': '[1, 2]\n' });
  assert.match(lines(array)[0] ?? '', /^books\.json:1:1 error MR_CONFIG_REF collections\[0\]: books\.json must hold one collection definition/);
  const notPath = await load({ 'project.yaml': `${HEADER}collections:\n  - $ref: 42\n` });
  assert.match(lines(notPath)[0] ?? '', /^project\.yaml:4:11 error MR_CONFIG_REF collections\[0\]\.\$ref: \$ref must be the path of a collection file/);
});

test('the $ref path is interpolated like include paths', async () => {
  const result = await load(
    { 'project.yaml': `${HEADER}collections:\n  - $ref: \${DIR:-defs}/books.json\n`, 'defs/books.json': BOOKS },
    { env: {} },
  );
  assert.deepEqual(lines(result), []);
  assert.equal(result.config?.collections[0]?.name, 'books');
});

test('a Mia collection file in the JSON Schema format (metadata properties, __mia_configuration) loads as is', async () => {
  const schemaFormat = JSON.stringify({
    name: 'places',
    endpointBasePath: '/places',
    defaultState: 'PUBLIC',
    schema: {
      type: 'object',
      properties: {
        _id: { type: 'string', __mia_configuration: { type: 'ObjectId' } },
        creatorId: { type: 'string' },
        createdAt: { type: 'string', format: 'date-time' },
        updaterId: { type: 'string' },
        updatedAt: { type: 'string', format: 'date-time' },
        __STATE__: { type: 'string' },
        name: { type: 'string' },
        position: { type: 'array', items: { type: 'number' }, __mia_configuration: { type: 'GeoPoint' } },
      },
      required: ['_id', 'creatorId', 'createdAt', 'updaterId', 'updatedAt', '__STATE__', 'name'],
    },
    indexes: [
      { name: '_id', type: 'normal', unique: true, fields: [{ name: '_id', order: 1 }] },
      { name: 'position_geo', type: 'geo', field: 'position' },
    ],
  });
  const result = await load({ 'project.yaml': `${HEADER}collections:\n  - $ref: places.json\n`, 'places.json': schemaFormat });
  assert.deepEqual(lines(result), []);
  assert.equal(result.config?.collections[0]?.name, 'places');
});
