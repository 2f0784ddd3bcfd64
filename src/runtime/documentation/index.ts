/**
 * `GET /documentation/json` (an OpenAPI 3.0 document of every route this process serves) and
 * `GET /documentation` (Swagger UI, served from the package's bundled files: no CDN, works offline), as
 * Mia's CRUD Service offers them (crud-api.md §2), unless `server.documentation: false`.
 *
 * The document is built by @fastify/swagger from the routes as they are registered (gateway endpoints with
 * the collections, sagas, aggregates and projections mounted in them, proxies, status routes), so it cannot
 * drift from what is served; collection schemas, tags and Mia response shapes are added on top, and every
 * schema is narrowed to what OpenAPI 3.0 can say. Nothing is computed until the document is first asked for.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { ProjectConfig } from '../../config/types.js';
import { addCollections, collectionDocs, openApiPath } from './collections.js';
import { toOpenApiSchema } from './openapi-schema.js';

export const DOCUMENTATION_PREFIX = '/documentation';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The methods an OpenAPI 3.0 path item may hold (Fastify's `all` also registers QUERY and others). */
const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * Makes what @fastify/swagger built from the routes valid OpenAPI 3.0 (in place): methods 3.0 has no
 * place for are dropped, and the schemas copied from the routes (draft-07) are narrowed.
 */
function narrowDocument(document: Json): void {
  const content = (holder: unknown): void => {
    if (!isRecord(holder) || !isRecord(holder.content)) return;
    for (const media of Object.values(holder.content)) if (isRecord(media) && 'schema' in media) media.schema = toOpenApiSchema(media.schema);
  };
  const paths = isRecord(document.paths) ? document.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isRecord(item)) continue;
    for (const method of Object.keys(item)) if (!METHODS.has(method) && method !== 'parameters') delete item[method];
    if (Object.keys(item).length === 0) delete paths[path];
    for (const operation of Object.values(item)) {
      if (!isRecord(operation)) continue;
      if (Array.isArray(operation.parameters)) for (const p of operation.parameters) if (isRecord(p) && 'schema' in p) p.schema = toOpenApiSchema(p.schema);
      content(operation.requestBody);
      if (isRecord(operation.responses)) for (const response of Object.values(operation.responses)) content(response);
    }
  }
  const components = isRecord(document.components) ? document.components : undefined;
  if (components !== undefined && isRecord(components.schemas)) {
    components.schemas = Object.fromEntries(Object.entries(components.schemas).map(([k, v]) => [k, toOpenApiSchema(v)]));
  }
}

/** Adds the routes the document lacks, with a plain 200 response (in place). */
function addMissing(document: Json, routes: readonly { path: string; methods: string[] }[]): void {
  const paths = (isRecord(document.paths) ? document.paths : (document.paths = {})) as Record<string, Json>;
  const has = (path: string, method: string): boolean => [path, `${path}/`].some((p) => paths[p]?.[method] !== undefined);
  for (const { path, methods } of routes) {
    for (const method of methods) {
      if (has(path, method)) continue;
      (paths[path] ??= {})[method] = { responses: { 200: { description: 'Default Response' } } };
    }
  }
}

/**
 * Registers the documentation routes on the root server. Call it before any other route is added: the
 * document lists the routes registered after it.
 */
export function installDocumentation(app: FastifyInstance, config: ProjectConfig, version: string): void {
  if (config.server.documentation === false) return;
  // Routes added straight on the root before @fastify/swagger loads (status routes) escape its onRoute
  // hook; this one sees every route, and those the document lacks are added without details.
  const registered: { path: string; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    if ((route.schema as { hide?: boolean } | undefined)?.hide === true) return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => m.toLowerCase()).filter((m) => METHODS.has(m) && m !== 'head');
    registered.push({ path: openApiPath(route.url), methods });
  });
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: config.name, version, description: `The HTTP API of the ${config.name} project, served by mia-run.` },
    },
    transformObject: (documentObject) => {
      // Only the OpenAPI form is configured above, so the object is always `openapiObject`.
      const document = ('openapiObject' in documentObject ? documentObject.openapiObject : {}) as Json;
      addMissing(document, registered);
      narrowDocument(document);
      addCollections(document, collectionDocs(config));
      return document;
    },
  });
  void app.register(swaggerUi, { routePrefix: DOCUMENTATION_PREFIX, staticCSP: false });
}
