/**
 * HTTP surface of one aggregate, mounted by the gateway under an endpoint `target: { aggregate: name }`:
 * - `GET /:id` → `{ id, version, state }` with `ETag: "<version>"` (404 `MR_ES_NOT_FOUND`);
 * - `GET /:id/events?fromVersion=1&limit=100` → `{ aggregateId, events, nextFromVersion }` (history, paged);
 * - `POST /:id/events` `{ type, payload, expectedVersion? }` (or `If-Match: "<n>"`) → 201 for the first
 *   event, else 200, `{ aggregateId, version, events: [{ type, version, data }] }` with `ETag`; 400
 *   `MR_ES_INVALID_COMMAND`, 409 `MR_ES_VERSION_CONFLICT` (the current version in the message and `ETag`).
 * - `POST /:id/<command>` for each declared command (body: the command input; `If-Match: "<n>"`): same
 *   answer; 400 `MR_ES_INVALID_COMMAND`, 404 `MR_ES_NOT_FOUND` (not created yet), 409, 422 `MR_ES_REJECTED`.
 * - `GET /-/read-models/:name` (first `limit` documents by id) and `GET /-/read-models/:name/:id` (one
 *   document; 404 `MR_ES_NOT_FOUND`): the aggregate's read models, for inspection.
 * `Idempotency-Key` is stored as `metadata.commandId`, `x-request-id` as `metadata.correlationId`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { isMiaRunError, MiaRunError } from '../errors.js';
import type { Aggregate } from './aggregate.js';
import type { Command } from './commands.js';
import type { EventStore } from './event-store.js';
import type { ReadModel } from './read-model.js';

interface IdParams {
  readonly id: string;
}

interface AppendBody {
  readonly type?: unknown;
  readonly payload?: unknown;
  readonly expectedVersion?: unknown;
}

const MAX_PAGE = 1000;

function nonNegativeInteger(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new MiaRunError('MR_ES_INVALID_COMMAND', `${what} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  return n;
}

function ifMatch(header: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined) return undefined;
  return nonNegativeInteger(raw.replace(/^W\//, '').replaceAll('"', '').trim(), 'If-Match');
}

const headerText = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** The declared command names (known when routes are registered) and the started commands by name. */
export interface CommandRoutes {
  readonly names: readonly string[];
  get(name: string): Command;
}

/** One plugin per aggregate; `resolve` gives the started aggregate (code hooks load in `start()`). */
export function aggregateRoutes(resolve: () => Aggregate, events: () => EventStore, readModels: () => readonly ReadModel[] = () => [], commands: CommandRoutes = { names: [], get: () => { throw new MiaRunError('MR_ES_NOT_FOUND', 'no such command'); } }): FastifyPluginAsync {
  return async (app) => {
    const withConflictTag = (reply: { header(name: string, value: string): unknown }, err: unknown): unknown => {
      if (isMiaRunError(err) && err.code === 'MR_ES_VERSION_CONFLICT') void reply.header('etag', `"${String(err.details?.currentVersion ?? '')}"`);
      return err;
    };
    for (const name of commands.names) {
      app.post<{ Params: IdParams }>(`/:id/${name}`, async (request, reply) => {
        const commandId = headerText(request.headers['idempotency-key']);
        const correlationId = headerText(request.headers['x-request-id']);
        try {
          const result = await commands.get(name).run(request.params.id, request.body ?? {}, ifMatch(request.headers['if-match']), {
            ...(commandId === undefined ? {} : { commandId }),
            ...(correlationId === undefined ? {} : { correlationId }),
          });
          void reply.code(result.created ? 201 : 200).header('etag', `"${result.version}"`);
          return { aggregateId: request.params.id, version: result.version, events: result.events.map((e) => ({ type: e.type, version: e.version, data: e.data })) };
        } catch (err) {
          throw withConflictTag(reply, err);
        }
      });
    }
    const readModel = (name: string): ReadModel => {
      const found = readModels().find((m) => m.name === name);
      if (found === undefined) throw new MiaRunError('MR_ES_NOT_FOUND', `"${name}" is not a read model of ${resolve().name}`);
      return found;
    };
    app.get<{ Params: { name: string }; Querystring: Record<string, string | undefined> }>('/-/read-models/:name', async (request) => {
      const limit = Math.min(nonNegativeInteger(request.query.limit, 'limit') ?? 100, MAX_PAGE) || 100;
      return readModel(request.params.name).collection.find({}, { sort: { _id: 1 }, limit }).toArray();
    });
    app.get<{ Params: { name: string; id: string } }>('/-/read-models/:name/:id', async (request) => {
      const doc = await readModel(request.params.name).collection.findOne({ _id: request.params.id });
      if (doc === null) throw new MiaRunError('MR_ES_NOT_FOUND', `no document "${request.params.id}" in read model ${request.params.name}`);
      return doc;
    });

    app.get<{ Params: IdParams }>('/:id', async (request, reply) => {
      const current = await resolve().load(request.params.id);
      if (current === null) throw new MiaRunError('MR_ES_NOT_FOUND', `no ${resolve().name} with id "${request.params.id}"`);
      void reply.header('etag', `"${current.version}"`);
      return current;
    });

    app.get<{ Params: IdParams; Querystring: Record<string, string | undefined> }>('/:id/events', async (request) => {
      const from = nonNegativeInteger(request.query.fromVersion, 'fromVersion') ?? 1;
      const limit = Math.min(nonNegativeInteger(request.query.limit, 'limit') ?? 100, MAX_PAGE) || 100;
      const page = [];
      for await (const event of events().read(request.params.id, Math.max(from, 1), undefined, limit + 1)) page.push(event);
      if (page.length === 0 && (await events().version(request.params.id)) === 0) throw new MiaRunError('MR_ES_NOT_FOUND', `no ${resolve().name} with id "${request.params.id}"`);
      const more = page.length > limit;
      const shown = page.slice(0, limit);
      return { aggregateId: request.params.id, events: shown, nextFromVersion: more ? (shown[shown.length - 1]?.version ?? 0) + 1 : null };
    });

    app.post<{ Params: IdParams; Body: AppendBody }>('/:id/events', async (request, reply) => {
      const body = (request.body ?? {}) as AppendBody;
      if (typeof body !== 'object' || Array.isArray(body)) throw new MiaRunError('MR_ES_INVALID_COMMAND', 'the body must be { type, payload, expectedVersion? }');
      if (typeof body.type !== 'string' || body.type === '') throw new MiaRunError('MR_ES_INVALID_COMMAND', 'the body needs "type", an event type name');
      const expected = nonNegativeInteger(body.expectedVersion, 'expectedVersion') ?? ifMatch(request.headers['if-match']);
      const commandId = headerText(request.headers['idempotency-key']);
      const correlationId = headerText(request.headers['x-request-id']);
      try {
        const stored = await resolve().append(request.params.id, [{ type: body.type, data: body.payload ?? {} }], expected, {
          ...(commandId === undefined ? {} : { commandId }),
          ...(correlationId === undefined ? {} : { correlationId }),
        });
        const version = stored[stored.length - 1]?.version ?? 0;
        void reply.code(stored[0]?.version === 1 ? 201 : 200).header('etag', `"${version}"`);
        return { aggregateId: request.params.id, version, events: stored.map((e) => ({ type: e.type, version: e.version, data: e.data })) };
      } catch (err) {
        throw withConflictTag(reply, err);
      }
    });
  };
}
