/**
 * The Fastify factory every listener of the runtime uses: body limit from the descriptor, request ids
 * (`x-request-id` in and out), one access-log line per request, Mia error bodies from the error mapper.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { MiaRunError } from '../errors.js';
import type { Logger } from '../ports/logger.js';
import { installErrorMapper, sendError } from './error-mapper.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';

/** Called once per answered request (the runtime's request-duration histogram). */
export type RequestObserver = (route: string | undefined, method: string, statusCode: number, elapsedMs: number) => void;

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
  /** Runs first for every request, inside the server's one `onRequest` hook (the listener marker). */
  readonly onRequest?: (request: FastifyRequest) => void;
  /** Told about every answered request, from the server's one `onResponse` hook (metrics). */
  readonly observe?: RequestObserver;
}

/**
 * Creates the Fastify instance. It does not listen: the runtime owns the listeners.
 *
 * Every request pays for one `onRequest` and one `onResponse` hook (plus an `onSend` one when `isClosing` is
 * given), all callback style (no promise per request); the route is read once for both the access line and
 * the observer; the per-request child logger is only built when something logs through `request.log`.
 *
 * @example
 * const app = createHttpServer({ bodyLimit: 1 << 20, logger: silentLogger });
 * const res = await app.inject({ url: '/nope' }); // 404 { code: 'MR_HTTP_NOT_FOUND', ... }
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const logger = options.logger;
  const app = Fastify({
    // The Logger port is pino's method subset, which is what Fastify needs (it only calls these methods).
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // A logger whose children are itself (the silent one of tests and benchmarks) needs no lazy wrapper.
    ...(logger.child({}) === logger ? {} : { childLoggerFactory: lazyChildLogger }),
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

  const { isClosing, onRequest, observe } = options;
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    onRequest?.(request);
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
    const route = request.routeOptions.url;
    const method = request.method;
    const url = request.url;
    const statusCode = reply.statusCode;
    const elapsedMs = reply.elapsedTime;
    observe?.(route, method, statusCode, elapsedMs);
    // One line through the root logger with the id as a field: no per-request child logger is built for it.
    // Orchestrators poll the status routes every few seconds: keep them out of the default (info) log.
    const entry = { requestId: request.id, method, url, route: route ?? null, statusCode, durationMs: Math.round(elapsedMs * 100) / 100 };
    if (url.startsWith('/-/')) logger.debug(entry, 'request completed');
    else logger.info(entry, 'request completed');
    done();
  });

  installErrorMapper(app);
  return app;
}
