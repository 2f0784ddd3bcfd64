/**
 * Update and delete routes (crud-api.md §2): `PATCH /:id`, `PATCH /`, `PATCH /bulk`, `DELETE /:id` (204),
 * `DELETE /`. Every filter carries `_st` (default PUBLIC) and `acl_rows`.
 */
import type { FastifyInstance } from 'fastify';
import type { BulkWriteOperation, Filter } from '../../ports/document-store.js';
import { runUpdates, type WriteCollection } from '../changes.js';
import { notFound } from '../errors.js';
import { querySchema } from '../model/query-schema.js';
import { updateBodySchema } from '../model/wire-schema.js';
import { buildFilter, castId, type QueryString } from '../query/read-plan.js';
import { requestContext } from '../request-context.js';
import { checkPositional, parseUpdate } from '../update.js';
import { createSerializer, pickReadable, type CollectionServices } from './services.js';

type Body = Readonly<Record<string, unknown>>;

interface IdParams {
  readonly id: string;
}

/** Ids of the documents the filters match (before a multi-document write that publishes changes). */
export async function idsOf(c: WriteCollection, filters: readonly Filter[]): Promise<unknown[]> {
  const found = await Promise.all(filters.map((f) => c.find(f, { projection: { _id: 1 } }).toArray()));
  return found.flat().map((d) => d._id);
}

export function registerUpdateRoutes(app: FastifyInstance, services: CollectionServices): void {
  const { model, writer } = services;
  const serialize = createSerializer(model);
  const updateSchema = updateBodySchema(model, false);
  const bulkFilterSchema = querySchema(model, ['_q', '_st', '_id']);

  /** Runs `write` and, when events are on, publishes the documents matched beforehand, as they are after. */
  const updateAndPublish = (filters: readonly Filter[], write: (c: WriteCollection) => Promise<number>): Promise<number> =>
    writer.run(async (c) => {
      const ids = writer.events ? await idsOf(c, filters) : [];
      const result = await write(c);
      const documents = ids.length === 0 ? [] : await c.find({ _id: { $in: ids } }).toArray();
      return { result, changes: [{ operation: 'update', documents }] };
    });

  app.patch<{ Params: IdParams }>('/:id', {
    schema: { querystring: querySchema(model, ['_q', '_st']), body: updateSchema },
    config: { operation: 'insert_or_update' },
  }, async (request) => {
    const id = castId(model, request.params.id);
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx, { extra: { _id: id ?? null } });
    const { update, positional } = parseUpdate(model, request.body as Body, ctx, new Date(services.clock.now()));
    if (positional) checkPositional(update, plan.filter);
    if (id === undefined) throw notFound();
    const doc = await writer.run(async (c) => {
      const after = await c.findOneAndUpdate(plan.filter, update, { returnDocument: 'after' });
      return { result: after, changes: after === null ? [] : [{ operation: 'update', documents: [after] }] };
    });
    if (doc === null) throw notFound();
    return pickReadable(model, serialize(doc), ctx);
  });

  app.patch('/', {
    schema: { querystring: querySchema(model, ['_q', '_st', '_id']), body: updateSchema },
    config: { operation: 'insert_or_update' },
  }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx);
    const { update, positional } = parseUpdate(model, request.body as Body, ctx, new Date(services.clock.now()));
    if (positional) checkPositional(update, plan.filter);
    return updateAndPublish([plan.filter], async (c) => (await c.updateMany(plan.filter, update)).modifiedCount);
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
    const operations = items.map((item) => {
      const filter = buildFilter(model, item.filter, ctx).filter;
      const { update, positional } = parseUpdate(model, item.update, ctx, now);
      if (positional) checkPositional(update, filter);
      return { updateOne: { filter, update } };
    }) satisfies BulkWriteOperation[];
    return updateAndPublish(operations.map((op) => op.updateOne.filter), (c) => runUpdates(c, operations));
  });

  app.delete<{ Params: IdParams }>('/:id', {
    schema: { querystring: querySchema(model, ['_q', '_st']) },
    config: { operation: 'delete' },
  }, async (request, reply) => {
    const id = castId(model, request.params.id);
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx, { extra: { _id: id ?? null } });
    if (id === undefined) throw notFound();
    const doc = await writer.run(async (c) => {
      const removed = await c.findOneAndDelete(plan.filter);
      return { result: removed, changes: removed === null ? [] : [{ operation: 'delete', documents: [removed] }] };
    });
    if (doc === null) throw notFound();
    return reply.code(204).send();
  });

  app.delete('/', {
    schema: { querystring: querySchema(model, ['_q', '_st', '_id']) },
    config: { operation: 'delete' },
  }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx);
    return writer.run(async (c) => {
      if (!writer.events) return { result: (await c.deleteMany(plan.filter)).deletedCount };
      const docs = await c.find(plan.filter).toArray();
      const result = await c.deleteMany({ _id: { $in: docs.map((d) => d._id) } });
      return { result: result.deletedCount, changes: [{ operation: 'delete', documents: docs }] };
    });
  });
}
