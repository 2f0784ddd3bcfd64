/**
 * Update and delete routes (crud-api.md §2): `PATCH /:id`, `PATCH /`, `PATCH /bulk`, `DELETE /:id` (204),
 * `DELETE /`. Every filter carries `_st` (default PUBLIC) and `acl_rows`.
 */
import type { FastifyInstance } from 'fastify';
import type { BulkWriteOperation, Document, Filter } from '../../ports/document-store.js';
import { notFound } from '../errors.js';
import { querySchema } from '../model/query-schema.js';
import { updateBodySchema } from '../model/wire-schema.js';
import { projectionPlan } from '../query/projection.js';
import { buildFilter, castId, type QueryString } from '../query/read-plan.js';
import { requestContext, type RequestContext } from '../request-context.js';
import { parseUpdate } from '../update.js';
import { createSerializer, type CollectionServices } from './services.js';

type Body = Readonly<Record<string, unknown>>;

interface IdParams {
  readonly id: string;
}

/** Ids of the documents a filter matches, to publish their changes after a multi-document write. */
async function matchingIds(services: CollectionServices, filter: Filter): Promise<unknown[]> {
  const docs = await services.collection().find(filter, { projection: { _id: 1 } }).toArray();
  return docs.map((d) => d._id);
}

async function publishByIds(services: CollectionServices, ids: readonly unknown[]): Promise<void> {
  if (services.publish === undefined || ids.length === 0) return;
  const docs = await services.collection().find({ _id: { $in: [...ids] } }).toArray();
  await services.publish('update', docs);
}

function pick(out: Record<string, unknown>, ctx: RequestContext, services: CollectionServices): Record<string, unknown> {
  const fields = projectionPlan(services.model, undefined, undefined, ctx.readColumns).fields;
  if (fields === undefined) return out;
  return Object.fromEntries(Object.entries(out).filter(([k]) => k === '_id' || k in fields));
}

export function registerUpdateRoutes(app: FastifyInstance, services: CollectionServices): void {
  const { model } = services;
  const serialize = createSerializer(model);
  const updateSchema = updateBodySchema(model, false);
  const bulkFilterSchema = querySchema(model, ['_q', '_st', '_id']);

  app.patch<{ Params: IdParams }>('/:id', {
    schema: { querystring: querySchema(model, ['_q', '_st']), body: updateSchema },
    config: { operation: 'insert_or_update' },
  }, async (request) => {
    const id = castId(model, request.params.id);
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx, { extra: { _id: id ?? null } });
    const { update } = parseUpdate(model, request.body as Body, ctx, new Date(services.clock.now()));
    if (id === undefined) throw notFound();
    const doc = await services.collection().findOneAndUpdate(plan.filter, update, { returnDocument: 'after' });
    if (doc === null) throw notFound();
    await services.publish?.('update', [doc]);
    return pick(serialize(doc), ctx, services);
  });

  app.patch('/', {
    schema: { querystring: querySchema(model, ['_q', '_st', '_id']), body: updateSchema },
    config: { operation: 'insert_or_update' },
  }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx);
    const { update } = parseUpdate(model, request.body as Body, ctx, new Date(services.clock.now()));
    const ids = services.publish === undefined ? [] : await matchingIds(services, plan.filter);
    const result = await services.collection().updateMany(plan.filter, update);
    await publishByIds(services, ids);
    return result.modifiedCount;
  });

  app.patch('/bulk', {
    schema: {
      body: {
        type: 'array', minItems: 1,
        items: { type: 'object', required: ['filter', 'update'], additionalProperties: false, properties: { filter: bulkFilterSchema, update: updateSchema } },
      },
    },
    config: { operation: 'insert_or_update' },
  }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    const now = new Date(services.clock.now());
    const items = request.body as { filter: QueryString; update: Body }[];
    const operations: BulkWriteOperation[] = items.map((item) => ({
      updateOne: { filter: buildFilter(model, item.filter, ctx).filter, update: parseUpdate(model, item.update, ctx, now).update },
    }));
    const ids = services.publish === undefined ? [] : (await Promise.all(operations.map((op) => ('updateOne' in op ? matchingIds(services, op.updateOne.filter) : [])))).flat();
    const result = await services.collection().bulkWrite(operations);
    await publishByIds(services, ids);
    return result.modifiedCount;
  });

  app.delete<{ Params: IdParams }>('/:id', {
    schema: { querystring: querySchema(model, ['_q', '_st']) },
    config: { operation: 'delete' },
  }, async (request, reply) => {
    const id = castId(model, request.params.id);
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx, { extra: { _id: id ?? null } });
    if (id === undefined) throw notFound();
    const doc = await services.collection().findOneAndDelete(plan.filter);
    if (doc === null) throw notFound();
    await services.publish?.('delete', [doc]);
    return reply.code(204).send();
  });

  app.delete('/', {
    schema: { querystring: querySchema(model, ['_q', '_st', '_id']) },
    config: { operation: 'delete' },
  }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx);
    if (services.publish === undefined) return (await services.collection().deleteMany(plan.filter)).deletedCount;
    const docs: Document[] = await services.collection().find(plan.filter).toArray();
    const result = await services.collection().deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    await services.publish('delete', docs);
    return result.deletedCount;
  });
}

