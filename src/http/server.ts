/**
 * The Fastify factory every listener of the runtime uses: body limit from the descriptor, request ids
 * (`x-request-id` in and out), one access-log line per request, Mia error bodies from the error mapper.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { MiaRunError } from '../errors.js';
import type { Logger } from '../ports/logger.js';
import { installErrorMapper, sendError } from './error-mapper.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';

export interface HttpServerOptions {
  /** Largest accepted request body in bytes (`server.bodyLimit`). */
  readonly bodyLimit: number;
  /** A pino logger (or anything with the `Logger` port's shape); requests log through children of it. */
  readonly logger: Logger;
  /**
   * True once shutdown began: new requests (arriving on kept-alive connections) get a 503
   * `MR_RUNTIME_SHUTTING_DOWN` with `connection: close`, while in-flight ones finish.
   */
  readonly isClosing?: () => boolean;
}

/**
 * Creates the Fastify instance. It does not listen: the runtime owns the listeners.
 *
 * @example
 * const app = createHttpServer({ bodyLimit: 1 << 20, logger: silentLogger });
 * const res = await app.inject({ url: '/nope' }); // 404 { code: 'MR_HTTP_NOT_FOUND', ... }
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    // The Logger port is pino's method subset, which is what Fastify needs (it only calls these methods).
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
    genReqId: (req) => requestIdFrom(req.headers),
    // Fastify's own two lines per request are replaced by the single access line of the onResponse hook.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    // Closing answers come from our own hook below, so they carry the Mia error body.
    return503OnClosing: false,
    frameworkErrors: (error, request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      sendError(error, request, reply);
    },
  }) as unknown as FastifyInstance;

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (options.isClosing?.()) {
      reply.header('connection', 'close');
      throw new MiaRunError('MR_RUNTIME_SHUTTING_DOWN', 'The server is shutting down');
    }
  });

  // While draining, answers close their connection so kept-alive sockets do not hold the shutdown open.
  app.addHook('onSend', async (_request, reply) => {
    if (options.isClosing?.()) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    // Orchestrators poll the status routes every few seconds: keep them out of the default (info) log.
    const log = request.url.startsWith('/-/') ? request.log.debug.bind(request.log) : request.log.info.bind(request.log);
    log(
      {
        method: request.method,
        url: request.url,
        route: request.routeOptions.url ?? null,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request completed',
    );
  });

  installErrorMapper(app);
  return app;
}
