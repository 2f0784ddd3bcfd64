/** Read routes (crud-api.md §2): `GET /`, `GET /count`, `GET /schema`, `GET /:id`. */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../errors.js';
import { documentSchema } from '../model/wire-schema.js';
import { querySchema } from '../model/query-schema.js';
import { buildFilter, castId, type QueryString } from '../query/read-plan.js';
import { requestContext } from '../request-context.js';
import { readOne, startRead } from './reader.js';
import { createSerializer, type CollectionServices } from './services.js';

interface IdParams {
  readonly id: string;
}

export function registerReadRoutes(app: FastifyInstance, services: CollectionServices): void {
  const { model, limits } = services;
  const serialize = createSerializer(model);
  const schema = documentSchema(model);

  app.get('/', {
    schema: { querystring: querySchema(model, ['_q', '_p', '_rawp', '_s', '_l', '_sk', '_st', '_id'], { maxLimit: limits.maxLimit }) },
    config: { operation: 'fetch' },
  }, async (request) => {
    const query = request.query as QueryString;
    const ctx = requestContext(request.headers, services.userIdHeader);
    const read = startRead(services, query, ctx, {
      limit: typeof query._l === 'number' ? query._l : limits.defaultLimit,
      ...(typeof query._sk === 'number' ? { skip: query._sk } : {}),
    });
    const docs = await read.cursor.toArray();
    return docs.map((doc) => serialize(doc, read.extraKeys));
  });

  app.get('/count', {
    schema: { querystring: querySchema(model, ['_q', '_st', '_id', '_useEstimate']) },
    config: { operation: 'fetch' },
  }, async (request) => {
    const query = request.query as QueryString;
    const ctx = requestContext(request.headers, services.userIdHeader);
    const plan = buildFilter(model, query, ctx);
    const onlyState = Object.keys(query).every((k) => k === '_st' || k === '_useEstimate');
    // Row ACL applies to estimates too: with `acl_rows` the count is exact (Mia ignores the ACL, §10).
    if (query._useEstimate === true && ctx.aclRows === undefined && onlyState && !model.isView) return services.collection().estimatedCount();
    if (model.isView) {
      const read = startRead(services, query, ctx, {});
      let n = 0;
      for await (const _doc of read.cursor) n += 1;
      return n;
    }
    return services.collection().count(plan.filter);
  });

  app.get('/schema', { config: { operation: 'fetch' } }, async () => schema);

  app.get<{ Params: IdParams }>('/:id', {
    schema: { querystring: querySchema(model, ['_q', '_p', '_rawp', '_st']) },
    config: { operation: 'fetch' },
  }, async (request) => {
    const id = castId(model, request.params.id);
    if (id === undefined) throw notFound();
    const ctx = requestContext(request.headers, services.userIdHeader);
    const { doc, extraKeys } = await readOne(services, request.query as QueryString, ctx, { _id: id });
    if (doc === undefined) throw notFound();
    return serialize(doc, extraKeys);
  });
}
