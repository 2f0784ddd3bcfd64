/**
 * The REST API of one saga (flow-manager.md §4), as an encapsulated Fastify plugin the gateway mounts under
 * an endpoint `target: { saga: <name> }`: `POST /saga`, `POST /event` (Mia's shapes), and mia-run's reads
 * `GET /saga`, `GET /saga/:sagaId`, `GET /saga/:sagaId/history`.
 */
import { Ajv } from 'ajv';
import type { FastifyPluginAsync } from 'fastify';
import { MiaRunError } from '../errors.js';
import { publicView, type SagaDocument } from './document.js';
import type { SagaEngine } from './engine.js';

/** Request headers that carry an event's de-duplication id over HTTP (the first present wins). */
export const MESSAGE_ID_HEADERS = ['idempotency-key', 'mia-run-message-id'] as const;

const createBody = {
  type: 'object',
  required: ['associatedEntityId', 'metadata'],
  additionalProperties: false,
  properties: { associatedEntityId: { type: 'string' }, metadata: { type: 'object' } },
} as const;

const eventBody = {
  type: 'object',
  required: ['key', 'value'],
  additionalProperties: false,
  properties: {
    key: { type: 'string', minLength: 1 },
    value: {
      type: 'object',
      required: ['messageLabel', 'messagePayload'],
      additionalProperties: false,
      properties: { messageLabel: { type: 'string', minLength: 1 }, messagePayload: {} },
    },
  },
} as const;

const listQuery = {
  type: 'object',
  properties: {
    currentState: { type: 'string' },
    businessStateId: { type: 'integer' },
    associatedEntityId: { type: 'string' },
    isFinal: { type: 'boolean' },
    _l: { type: 'integer', minimum: 1, maximum: 500, default: 25 },
    _sk: { type: 'integer', minimum: 0, default: 0 },
  },
} as const;

interface ListQuery {
  currentState?: string;
  businessStateId?: number;
  associatedEntityId?: string;
  isFinal?: boolean;
  _l: number;
  _sk: number;
}

function notFound(sagaId: string): MiaRunError {
  return new MiaRunError('MR_SAGA_NOT_FOUND', `No saga with id "${sagaId}"`, { details: { sagaId } });
}

/** The plugin for one saga engine. */
export function sagaRoutes(engine: SagaEngine): FastifyPluginAsync {
  const throwOnUnexpected = engine.saga.config.settings?.throwOnUnexpectedEvents !== false;
  // Mia's bodies allow nothing else (flow-manager.md §4): extra properties are rejected, not stripped.
  const ajv = new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: false, strict: false });
  return async (app) => {
    app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
    app.post<{ Body: { associatedEntityId: string; metadata: Record<string, unknown> } }>('/saga', { schema: { body: createBody } }, async (request) => {
      const doc = await engine.create(request.body);
      return { sagaId: doc.sagaId };
    });

    app.post<{ Body: { key: string; value: { messageLabel: string; messagePayload: unknown } } }>('/event', { schema: { body: eventBody } }, async (request) => {
      const { key, value } = request.body;
      const header = MESSAGE_ID_HEADERS.map((h) => request.headers[h]).find((v) => typeof v === 'string' && v !== '');
      const result = await engine.send({ sagaId: key, label: value.messageLabel, payload: value.messagePayload, ...(typeof header === 'string' ? { messageId: `http:${header}` } : {}) });
      if (result.status === 'applied') return { sagaId: key, currentState: result.doc.currentState, isFinal: result.doc.isFinal };
      if (result.status === 'duplicate') return { sagaId: key, duplicate: true };
      if (result.code === 'MR_SAGA_INVALID_EVENT' || throwOnUnexpected) {
        throw new MiaRunError(result.code, result.reason, { details: { sagaId: key, event: value.messageLabel } });
      }
      return { sagaId: key, ignored: true, reason: result.reason };
    });

    app.get<{ Querystring: ListQuery }>('/saga', { schema: { querystring: listQuery } }, async (request) => {
      const { _l, _sk, ...filters } = request.query;
      const filter: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(filters)) if (v !== undefined) filter[k] = v;
      const docs = await engine.repository.collection.find(filter, { sort: { createdAt: -1, _id: 1 }, skip: _sk, limit: _l }).toArray();
      return docs.map((d) => publicView(d as unknown as SagaDocument, false));
    });

    app.get<{ Params: { sagaId: string } }>('/saga/:sagaId', async (request) => {
      const doc = await engine.repository.get(request.params.sagaId);
      if (doc === null) throw notFound(request.params.sagaId);
      return publicView(doc);
    });

    app.get<{ Params: { sagaId: string } }>('/saga/:sagaId/history', async (request) => {
      const doc = await engine.repository.get(request.params.sagaId);
      if (doc === null) throw notFound(request.params.sagaId);
      return { sagaId: doc.sagaId, currentState: doc.currentState, isFinal: doc.isFinal, history: doc.history };
    });
  };
}

/** `GET /-/sagas`: how many sagas of each definition are in each state. */
export function sagaSummaryRoutes(engines: readonly SagaEngine[]): FastifyPluginAsync {
  return async (app) => {
    app.get('/-/sagas', async () => {
      const sagas: Record<string, unknown> = {};
      for (const engine of engines) {
        const rows = await engine.repository.collection.aggregate([{ $group: { _id: '$currentState', count: { $sum: 1 } } }]).toArray();
        const states: Record<string, number> = {};
        for (const state of engine.saga.states.keys()) states[state] = 0;
        let total = 0;
        for (const row of rows) {
          const count = Number(row.count);
          states[String(row._id)] = count;
          total += count;
        }
        const final = [...engine.saga.states.values()].filter((s) => s.isFinal === true).reduce((n, s) => n + (states[s.id] ?? 0), 0);
        sagas[engine.saga.name] = { total, active: total - final, final, states };
      }
      return { sagas };
    });
  };
}
