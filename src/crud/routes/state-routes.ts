/**
 * State transitions (crud-api.md §4): `POST /:id/state` (204; 404; 400 when the table forbids it) and
 * `POST /state` (count of documents changed; illegal transitions skipped). The transition is one atomic
 * conditional update: the filter requires a state the target may be reached from.
 */
import type { FastifyInstance } from 'fastify';
import type { DocumentState } from '../../config/sections/collections.js';
import type { BulkWriteOperation, Filter } from '../../ports/document-store.js';
import { runUpdates } from '../changes.js';
import { badRequest, notFound } from '../errors.js';
import { querySchema } from '../model/query-schema.js';
import { stateBodySchema, stateSchema } from '../model/wire-schema.js';
import { and, buildFilter, castId, type QueryString } from '../query/read-plan.js';
import { requestContext } from '../request-context.js';
import { sourcesOf } from '../states.js';
import type { CollectionServices } from './services.js';
import { idsOf } from './update-routes.js';

interface IdParams {
  readonly id: string;
}

export function registerStateRoutes(app: FastifyInstance, services: CollectionServices): void {
  const { model } = services;
  const filterSchema = querySchema(model, ['_id']);

  app.post<{ Params: IdParams }>('/:id/state', {
    schema: { querystring: querySchema(model, ['_q']), body: stateBodySchema },
    config: { operation: 'change_state' },
  }, async (request, reply) => {
    const id = castId(model, request.params.id);
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, request.query as QueryString, ctx, { extra: { _id: id ?? null }, states: false });
    if (id === undefined) throw notFound();
    const stateTo = (request.body as { stateTo: DocumentState }).stateTo;
    const now = new Date(services.clock.now());
    const update = { $set: { __STATE__: stateTo, updaterId: ctx.userId, updatedAt: now } };
    const doc = await services.writer.run(async (c) => {
      const after = await c.findOneAndUpdate(and([plan.filter, { __STATE__: { $in: sourcesOf(stateTo) } }]), update, { returnDocument: 'after' });
      return { result: after, changes: after === null ? [] : [{ operation: 'state', documents: [after] }] };
    });
    if (doc === null) {
      const current = await services.collection().findOne(plan.filter, { projection: { __STATE__: 1 } });
      if (current === null) throw notFound();
      throw badRequest(`transition from ${String(current.__STATE__)} to ${stateTo} not allowed.`, 'MR_CRUD_ILLEGAL_TRANSITION');
    }
    return reply.code(204).send();
  });

  app.post('/state', {
    schema: {
      body: {
        type: 'array', minItems: 1,
        items: { type: 'object', required: ['filter', 'stateTo'], additionalProperties: false, properties: { filter: filterSchema, stateTo: stateSchema } },
      },
    },
    config: { operation: 'change_state' },
  }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    const now = new Date(services.clock.now());
    const items = request.body as { filter: QueryString; stateTo: DocumentState }[];
    const filters: Filter[] = items.map((item) =>
      and([buildFilter(model, item.filter, ctx, { states: false }).filter, { __STATE__: { $in: sourcesOf(item.stateTo) } }]),
    );
    const operations: BulkWriteOperation[] = items.map((item, i) => ({
      updateMany: { filter: filters[i] as Filter, update: { $set: { __STATE__: item.stateTo, updaterId: ctx.userId, updatedAt: now } } },
    }));
    return services.writer.run(async (c) => {
      const ids = services.writer.events ? await idsOf(c, filters) : [];
      const result = await runUpdates(c, operations);
      const documents = ids.length === 0 ? [] : await c.find({ _id: { $in: ids } }).toArray();
      return { result, changes: [{ operation: 'state', documents }] };
    });
  });
}
