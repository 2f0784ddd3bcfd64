/**
 * `GET /-/schemas` (crud-api.md §2): every collection's JSON Schema, as a JSON array or NDJSON
 * (`Accept: application/x-ndjson`); other media types are a 406.
 */
import type { FastifyPluginAsync } from 'fastify';
import { MiaRunError } from '../../errors.js';
import type { CollectionModel } from '../model/collection-model.js';
import { documentSchema } from '../model/wire-schema.js';

export function schemasPlugin(models: readonly CollectionModel[]): FastifyPluginAsync {
  const schemas = models.map((model) => ({ name: model.name, schema: documentSchema(model) }));
  return async (app) => {
    app.get('/', async (request, reply) => {
      const accept = request.headers.accept?.split(',').map((p) => (p.split(';')[0] ?? '').trim().toLowerCase()) ?? [];
      if (accept.length === 0 || accept.some((m) => m === 'application/json' || m === '*/*' || m === 'application/*' || m === '')) return schemas;
      if (accept.includes('application/x-ndjson')) return reply.type('application/x-ndjson').send(schemas.map((s) => `${JSON.stringify(s)}\n`).join(''));
      throw new MiaRunError('MR_CRUD_NOT_ACCEPTABLE', `unsupported file type ${request.headers.accept ?? ''}`);
    });
  };
}
