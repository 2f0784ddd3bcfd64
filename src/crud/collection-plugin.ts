/**
 * One collection as an encapsulated Fastify plugin (STYLE §10): its own validator (JSON Schemas built once,
 * Mia's coercion rules), its error bodies (crud-api.md §7), its routes, and a metric per operation.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifySchemaValidationError } from 'fastify';
import type { FastifyValidationResult } from 'fastify/types/schema.js';
import type { Ajv, ValidateFunction } from 'ajv';
import diagnosticsChannel from 'node:diagnostics_channel';
import { createMetricEmitter, metricChannel } from '../ports/telemetry.js';
import { installCrudErrors } from './errors.js';
import { registerReadRoutes } from './routes/read-routes.js';
import { registerStateRoutes } from './routes/state-routes.js';
import type { CollectionServices } from './routes/services.js';
import { registerUpdateRoutes } from './routes/update-routes.js';
import { registerWriteRoutes } from './routes/write-routes.js';
import { registerExportRoute } from './routes/export-route.js';
import { registerImportRoutes } from './routes/import-route.js';
import { named } from '../http/plugin-name.js';

export interface Validators {
  /** Query strings: types coerced, scalars accepted where arrays are expected. */
  readonly query: Ajv;
  /** Bodies: numbers and booleans sent as strings are coerced. */
  readonly body: Ajv;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The CRUD metric operation type of a route (`fetch`, `insert_or_update`, `delete`, `change_state`, `import`). */
    operation?: string;
  }
}

const metrics = createMetricEmitter('crud');
// Checked first so that requests pay nothing for labels when nobody collects metrics.
const metricsChannel = diagnosticsChannel.channel(metricChannel('crud'));
const DEFAULT_IMPORT_BYTES = 16 * 1024 * 1024;

/** Fastify's message, plus Mia's suffix naming an unexpected property (crud-api.md §7). */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const text = errors
    .map((e) => {
      const base = `${dataVar}${e.instancePath} ${e.message ?? 'is invalid'}`;
      const extra = (e.params as { additionalProperty?: unknown }).additionalProperty;
      return typeof extra === 'string' ? `${base}. Property "${extra}" is not defined in validation schema` : base;
    })
    .join(', ');
  return new Error(text);
}

/**
 * A validator compiled on its first request instead of at start-up: a project with hundreds of collections
 * mounts thousands of routes, and compiling every one of their schemas up front made start-up take tens of
 * seconds. Fastify reads `errors` off the function it was given, so the wrapper mirrors them.
 */
function lazyValidator(ajv: Ajv, schema: unknown): FastifyValidationResult {
  let compiled: ValidateFunction | undefined;
  const validate: FastifyValidationResult = (data: unknown): boolean => {
    compiled ??= ajv.compile(schema as object);
    const ok = compiled(data);
    validate.errors = compiled.errors as FastifySchemaValidationError[] | null | undefined;
    return ok;
  };
  return validate;
}

/** The plugin the gateway mounts under a collection's base path. */
export function collectionPlugin(services: CollectionServices, validators: Validators): FastifyPluginAsync {
  const { model } = services;
  return named(`crud:${model.name}`, async (app: FastifyInstance) => {
    app.setValidatorCompiler(({ schema, httpPart }) => lazyValidator(httpPart === 'body' ? validators.body : validators.query, schema));
    app.setSchemaErrorFormatter(formatSchemaErrors);
    installCrudErrors(app, (index) => model.uniqueFields.get(index));
    // Mia's JS client sends `content-type: application/json` on bodiless GETs and DELETEs (crud-api.md §9):
    // without a body the header means nothing, and Fastify would refuse the empty JSON body.
    app.addHook('onRequest', (request, _reply, done) => {
      const { headers } = request;
      if (headers['content-type'] !== undefined && headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0')) {
        delete headers['content-type'];
      }
      done();
    });
    app.addHook('onResponse', (_request, reply, done) => {
      // `routeOptions` builds an object on every read: only read it when someone collects the metrics.
      const operation = metricsChannel.hasSubscribers ? reply.routeOptions.config.operation : undefined;
      if (operation !== undefined) {
        metrics.count('requests', 'CRUD requests by collection, operation and status', { collection: model.name, operation, status: String(reply.statusCode) });
        metrics.observe('request_seconds', 'CRUD request duration by collection and operation', reply.elapsedTime / 1000, { collection: model.name, operation });
      }
      done();
    });
    registerReadRoutes(app, services);
    registerExportRoute(app, services);
    if (!model.isView) {
      registerWriteRoutes(app, services);
      registerUpdateRoutes(app, services);
      registerStateRoutes(app, services);
      registerImportRoutes(app, services, validators, services.limits.maxImportBytes ?? DEFAULT_IMPORT_BYTES);
    }
  });
}
