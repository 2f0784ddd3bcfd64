/**
 * Insert routes (crud-api.md §2): `POST /` (200 `{_id}`), `POST /validate`, `POST /bulk` (ordered: earlier
 * documents stay on a 409, also for collections with events, where each kept document comes with its
 * event) and `POST /upsert-one` (one atomic store operation, §10).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isMiaRunError } from '../../errors.js';
import { insertBodySchema, updateBodySchema } from '../model/wire-schema.js';
import { querySchema } from '../model/query-schema.js';
import { buildFilter, parseStates, type QueryString } from '../query/read-plan.js';
import { requestContext } from '../request-context.js';
import { checkPositional, parseUpdate } from '../update.js';
import { buildDocument, createSerializer, pickReadable, type CollectionServices } from './services.js';

type Body = Readonly<Record<string, unknown>>;

export function registerWriteRoutes(app: FastifyInstance, services: CollectionServices): void {
  const { model, writer } = services;
  const serialize = createSerializer(model);
  const insertSchema = insertBodySchema(model);

  app.post('/', { schema: { body: insertSchema }, config: { operation: 'insert_or_update' } }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    const doc = buildDocument(model, request.body as Body, ctx, new Date(services.clock.now()));
    await writer.run(async (c) => {
      await c.insertOne(doc);
      return { result: undefined, changes: [{ operation: 'insert', documents: [doc] }] };
    });
    return { _id: doc._id };
  });

  app.post('/validate', { schema: { body: insertSchema }, config: { operation: 'fetch' } }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    buildDocument(model, request.body as Body, ctx, new Date(services.clock.now()));
    return { result: 'ok' };
  });

  app.post('/bulk', {
    schema: { body: { type: 'array', minItems: 1, items: insertSchema } },
    config: { operation: 'insert_or_update' },
  }, async (request) => {
    const ctx = requestContext(request.headers, services.userIdHeader);
    const now = new Date(services.clock.now());
    const docs = (request.body as Body[]).map((body, i) => buildDocument(model, body, ctx, now, `body/${i}`));
    try {
      await writer.run(async (c) => {
        await c.insertMany(docs);
        return { result: undefined, changes: [{ operation: 'insert', documents: docs }] };
      });
    } catch (err) {
      // With events the batch was one transaction, so a duplicate undid it all. Ordered bulk semantics keep
      // the documents before the failing one: replay one document (with its event) per transaction; the
      // first that fails again is the answer.
      if (!writer.events || docs.length === 1 || !isMiaRunError(err) || err.code !== 'MR_STORE_DUPLICATE_KEY') throw err;
      for (const doc of docs) {
        await writer.run(async (c) => {
          await c.insertOne(doc);
          return { result: undefined, changes: [{ operation: 'insert', documents: [doc] }] };
        });
      }
    }
    return docs.map((d) => ({ _id: d._id }));
  });

  app.post('/upsert-one', {
    schema: { querystring: querySchema(model, ['_q', '_st']), body: updateBodySchema(model, true) },
    config: { operation: 'insert_or_update' },
  }, async (request) => {
    const query = request.query as QueryString;
    const ctx = requestContext(request.headers, services.userIdHeader);
    const now = new Date(services.clock.now());
    const plan = buildFilter(model, query, ctx);
    const { update, positional } = parseUpdate(model, request.body as Body, ctx, now);
    if (positional) checkPositional(update, plan.filter);
    // The inserted document gets a state the filter matches, so the next upsert finds it (Mia can duplicate, §10).
    const states = parseStates(query._st);
    const onInsert: Record<string, unknown> = { ...(update.$setOnInsert as object | undefined), creatorId: ctx.userId, createdAt: now };
    if (states.length > 1) onInsert.__STATE__ = states.includes(model.defaultState) ? model.defaultState : states[0];
    if (model.idKind === 'string') onInsert._id = randomUUID();
    const doc = await writer.run(async (c) => {
      const after = await c.findOneAndUpdate(plan.filter, { ...update, $setOnInsert: onInsert }, { upsert: true, returnDocument: 'after' });
      return { result: after, changes: after === null ? [] : [{ operation: 'update', documents: [after] }] };
    });
    return doc === null ? {} : pickReadable(model, serialize(doc), ctx);
  });
}
