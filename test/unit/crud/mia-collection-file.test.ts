/**
 * A Mia collection file as is (crud-api.md §1): the metadata fields it declares and the `_id` index it lists
 * are the implicit ones, not extra fields or a second `_id` index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CollectionDefinition } from '../../../src/config/sections/collections.js';
import { compileCollection } from '../../../src/crud/model/collection-model.js';
import { insertBodySchema } from '../../../src/crud/model/wire-schema.js';

const file = new URL('../../e2e/validate/collection-ref-valid/collections/books.json', import.meta.url);
const books = JSON.parse(readFileSync(file, 'utf8')) as CollectionDefinition;

test('declared metadata fields stay metadata; the listed _id index is not created again', () => {
  const model = compileCollection(books);
  assert.deepEqual(model.indexes.map((i) => i.name), ['title_unique', 'position_geo']);
  assert.equal(model.fields.get('createdAt')?.metadata, true);
  assert.equal(model.fields.get('__STATE__')?.metadata, true);
  assert.deepEqual(model.required, ['title']);
  const body = insertBodySchema(model) as { properties: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.properties).sort(), ['__STATE__', 'position', 'tags', 'title']);
});
