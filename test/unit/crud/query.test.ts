import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId } from 'bson';
import { compileCollection } from '../../../src/crud/model/collection-model.js';
import { parseFilter } from '../../../src/crud/query/filter.js';
import { projectionPlan } from '../../../src/crud/query/projection.js';
import { and, buildFilter } from '../../../src/crud/query/read-plan.js';
import { requestContext } from '../../../src/crud/request-context.js';
import { parseUpdate } from '../../../src/crud/update.js';
import { canTransition } from '../../../src/crud/states.js';
import { booksCollection } from '../../helpers/crud-books.js';

const model = compileCollection(booksCollection);
const hex = '0123456789abcdef01234567';

describe('filter parsing', () => {
  it('casts ObjectIds, Dates (ISO and epoch ms) and nested dates by the schema', () => {
    const { filter } = parseFilter(model, {
      _id: { $in: [hex] },
      authorAddressId: hex,
      publishDate: { $gte: 0, $lt: '2020-01-01T00:00:00Z' },
      $or: [{ 'signature.when': '2021-01-01T00:00:00Z' }, { editionsDates: { $all: ['2020-02-02T00:00:00Z'] } }],
    }, '_q');
    assert.ok(((filter._id as { $in: unknown[] }).$in[0]) instanceof ObjectId);
    assert.ok(filter.authorAddressId instanceof ObjectId);
    const range = filter.publishDate as { $gte: Date; $lt: Date };
    assert.equal(range.$gte.getTime(), 0);
    assert.equal(range.$lt.toISOString(), '2020-01-01T00:00:00.000Z');
    const or = filter.$or as Record<string, unknown>[];
    assert.ok(or[0]?.['signature.when'] instanceof Date);
    assert.ok(((or[1]?.editionsDates as { $all: unknown[] }).$all[0]) instanceof Date);
  });

  it('keeps free-form raw objects open and checks $elemMatch with the same allow-list', () => {
    assert.deepEqual(parseFilter(model, { 'additionalInfo.any.path': 1 }, '_q').filter, { 'additionalInfo.any.path': 1 });
    const { filter } = parseFilter(model, { attachments: { $elemMatch: { name: 'a', size: { $gt: 1 } } } }, '_q');
    assert.deepEqual(filter, { attachments: { $elemMatch: { name: 'a', size: { $gt: 1 } } } });
    assert.throws(() => parseFilter(model, { tags: { $elemMatch: { nope: 1 } } }, '_q'), /Unknown field: tags.nope/);
    assert.throws(() => parseFilter(model, { attachments: { $elemMatch: { size: { $where: 1 } } } }, '_q'), /Unsupported operator: \$where/);
  });

  it('turns $nearSphere into the GeoJSON form and refuses bad coordinates', () => {
    const { filter, near } = parseFilter(model, { position: { $nearSphere: { from: [9, 45], maxDistance: 10 } } }, '_q');
    assert.equal(near, true);
    assert.deepEqual(filter, { position: { $nearSphere: { $geometry: { type: 'Point', coordinates: [9, 45] }, $maxDistance: 10 } } });
    assert.throws(() => parseFilter(model, { position: { $nearSphere: { from: [200, 45] } } }, '_q'), /longitude, latitude/);
  });

  it('ANDs _q, field parameters, acl_rows and the state; an array acl_rows is $and', () => {
    const plan = buildFilter(model, { _q: JSON.stringify({ price: { $gt: 1 } }), author: 'x', _st: 'PUBLIC,DRAFT' }, requestContext({ acl_rows: '[{"isPromoted":true}]' }, 'miauserid'));
    assert.deepEqual(plan.filter, { price: { $gt: 1 }, author: 'x', $and: [{ isPromoted: true }], __STATE__: { $in: ['PUBLIC', 'DRAFT'] } });
    assert.deepEqual(and([{ a: 1 }, { a: 2 }]), { $and: [{ a: 1 }, { a: 2 }] });
  });
});

describe('projections and updates', () => {
  it('_p is bounded by acl_read_columns; _id always stays', () => {
    assert.deepEqual(projectionPlan(model, 'name,price,nope', undefined, new Set(['name'])).fields, { name: 1 });
    assert.deepEqual(projectionPlan(model, undefined, { name: 0 }, new Set(['name', 'price'])).fields, { _id: 1, price: 1 });
  });

  it('casts update values, stamps updaterId/updatedAt and maps positional merge', () => {
    const now = new Date(0);
    const { update } = parseUpdate(model, { $set: { authorAddressId: hex, 'attachments.$.merge': { size: 2, addedAt: '2020-01-01T00:00:00Z' } }, $push: { editionsDates: { $each: ['2020-01-01T00:00:00Z'] } } }, requestContext({ miauserid: 'u' }, 'miauserid'), now);
    const set = update.$set as Record<string, unknown>;
    assert.ok(set.authorAddressId instanceof ObjectId);
    assert.equal(set['attachments.$.size'], 2);
    assert.ok(set['attachments.$.addedAt'] instanceof Date);
    assert.equal(set.updaterId, 'u');
    assert.equal(set.updatedAt, now);
    assert.ok(((update.$push as Record<string, { $each: unknown[] }>).editionsDates?.$each[0]) instanceof Date);
  });
});

describe('state transitions', () => {
  it('follows the table of crud-api.md §4', () => {
    assert.equal(canTransition('PUBLIC', 'TRASH'), true);
    assert.equal(canTransition('PUBLIC', 'DELETED'), false);
    assert.equal(canTransition('TRASH', 'PUBLIC'), false);
    assert.equal(canTransition('DELETED', 'TRASH'), true);
  });
});
