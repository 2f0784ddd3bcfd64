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

  // Hooks are callback style (no promise per request) and allocate nothing beyond the access-log object.
  const isClosing = options.isClosing;
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (isClosing?.()) {
      reply.header('connection', 'close');
      return done(new MiaRunError('MR_RUNTIME_SHUTTING_DOWN', 'The server is shutting down'));
    }
    done();
  });

  // While draining, answers close their connection so kept-alive sockets do not hold the shutdown open.
  if (isClosing) {
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (isClosing()) reply.header('connection', 'close');
      done(null, payload);
    });
  }

  app.addHook('onResponse', (request, reply, done) => {
    const entry = {
      method: request.method,
      url: request.url,
      route: request.routeOptions.url ?? null,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
    };
    // Orchestrators poll the status routes every few seconds: keep them out of the default (info) log.
    if (request.url.startsWith('/-/')) request.log.debug(entry, 'request completed');
    else request.log.info(entry, 'request completed');
    done();
  });

  installErrorMapper(app);
  return app;
}
