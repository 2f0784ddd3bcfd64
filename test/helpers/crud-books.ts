/**
 * A fixture like Mia's `books` collection: every field type, nullable and required fields, raw objects with
 * and without schema, arrays, and unique, geo and text indexes.
 */
import type { CollectionDefinition } from '../../src/config/sections/collections.js';

export const booksCollection: CollectionDefinition = {
  name: 'books',
  endpointBasePath: '/books',
  defaultState: 'DRAFT',
  fields: [
    { name: 'name', type: 'string', required: true, description: 'Title' },
    { name: 'isbn', type: 'string', required: true },
    { name: 'price', type: 'number' },
    { name: 'author', type: 'string' },
    { name: 'authorAddressId', type: 'ObjectId' },
    { name: 'isPromoted', type: 'boolean' },
    { name: 'publishDate', type: 'Date', nullable: true },
    { name: 'position', type: 'GeoPoint' },
    { name: 'tags', type: 'Array', items: { type: 'string' } },
    { name: 'tagIds', type: 'Array', items: { type: 'number' } },
    { name: 'additionalInfo', type: 'RawObject' },
    { name: 'signature', type: 'RawObject', nullable: true, schema: { properties: { name: { type: 'string' }, when: { type: 'string', format: 'date-time' } }, required: ['name'], additionalProperties: false } },
    { name: 'attachments', type: 'Array', items: { type: 'RawObject', schema: { properties: { name: { type: 'string' }, size: { type: 'number' }, addedAt: { type: 'string', format: 'date-time' } } } } },
    { name: 'editionsDates', type: 'Array', items: { type: 'Date' } },
  ],
  indexes: [
    { name: 'isbn_unique', type: 'normal', unique: true, fields: [{ name: 'isbn', order: 1 }] },
    { name: 'position_geo', type: 'geo', field: 'position' },
    { name: 'text_search', type: 'text', fields: [{ name: 'name' }, { name: 'author' }] },
  ],
};

/** A valid book body; `n` varies the unique and sortable fields. */
export function book(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `Book ${n}`,
    isbn: `isbn-${n}`,
    price: n * 10,
    author: n % 2 === 0 ? 'Alice Walker' : 'Bob Dylan',
    isPromoted: n % 2 === 0,
    publishDate: new Date(Date.UTC(2020, 0, n)).toISOString(),
    position: [9 + n / 100, 45 + n / 100],
    tags: ['tag' + n, 'common'],
    tagIds: [n, 100],
    additionalInfo: { footnote: `note ${n}`, nested: { level: n } },
    ...extra,
  };
}

/** The books fixture without the indexes a store cannot build (FerretDB has no geo or text indexes). */
export function booksFor(features: ReadonlySet<string>): CollectionDefinition {
  const indexes = (booksCollection.indexes ?? []).filter((i) => (i.type !== 'geo' || features.has('geo')) && (i.type !== 'text' || features.has('text')));
  return { ...booksCollection, indexes };
}
