/**
 * The `/-/fast-data/` admin routes of a running process (fast-data.md §7), the same actions as the
 * `mia-run fast-data` CLI: `GET status`, `POST pause/:name`, `POST resume/:name`, `POST refresh/:view`,
 * `POST load` and `POST replay` (`{ "projections": [...] }`), `POST redrive` (`{ "topic", "key"? }`).
 * Actions (POST) are accepted from the backoffice listener, or from loopback when no backoffice port is
 * configured; `status` is readable like the other `/-/` routes.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { MiaRunError } from '../../errors.js';
import type { FastDataOperations } from './index.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export interface AdminRoutesOptions {
  readonly operations: () => FastDataOperations;
  /** True when `server.backofficePort` is configured: actions then need the backoffice listener. */
  readonly backoffice: boolean;
}

const namesBody = {
  type: 'object',
  required: ['projections'],
  additionalProperties: false,
  properties: { projections: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } } },
} as const;

/** The admin plugin (mounted by the runtime at `/-/fast-data`). */
export function adminRoutes(options: AdminRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    const allowed = (request: FastifyRequest): void => {
      const ok = options.backoffice ? request.headers.isbackoffice === 'true' : LOOPBACK.has(request.ip);
      if (!ok) throw new MiaRunError('MR_GW_FORBIDDEN', `fast-data actions are accepted only from ${options.backoffice ? 'the backoffice port' : 'loopback'}`);
    };
    app.get('/status', async () => options.operations().status());
    app.post<{ Params: { name: string } }>('/pause/:name', async (request) => (allowed(request), options.operations().pause(request.params.name)));
    app.post<{ Params: { name: string } }>('/resume/:name', async (request) => (allowed(request), options.operations().resume(request.params.name)));
    app.post<{ Params: { view: string } }>('/refresh/:view', async (request) => (allowed(request), options.operations().refresh(request.params.view)));
    app.post<{ Body: { projections: string[] } }>('/load', { schema: { body: namesBody } }, async (request, reply) => {
      allowed(request);
      return reply.code(202).send(await options.operations().load(request.body.projections));
    });
    app.post<{ Body: { projections: string[] } }>('/replay', { schema: { body: namesBody } }, async (request, reply) => {
      allowed(request);
      return reply.code(202).send(await options.operations().replay(request.body.projections));
    });
    app.post<{ Body: { topic: string; key?: string } }>(
      '/redrive',
      { schema: { body: { type: 'object', required: ['topic'], additionalProperties: false, properties: { topic: { type: 'string', minLength: 1 }, key: { type: 'string' } } } } },
      async (request) => (allowed(request), options.operations().redrive(request.body.topic, request.body.key)),
    );
  };
}
