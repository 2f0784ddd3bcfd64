/**
 * The runtime's listeners: the application port (Fastify's own server) and the optional backoffice port, a
 * second plain HTTP server feeding the same Fastify router. Requests arriving on the backoffice port carry
 * `isbackoffice: true`; on the application port that header is removed unless the deployment trusts identity
 * headers (gateway.md: a gateway never trusts incoming platform headers).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';

const BACKOFFICE = Symbol('mia-run.backoffice');
type MarkedRequest = IncomingMessage & { [BACKOFFICE]?: true };

/**
 * Sets or strips `isbackoffice` depending on the listener a request came from. Runs inside the HTTP
 * server's one `onRequest` hook (`createHttpServer({ onRequest })`), so it costs no hook of its own.
 */
export function backofficeMarker(trustIdentityHeaders: boolean): (request: FastifyRequest) => void {
  return (request) => {
    if ((request.raw as MarkedRequest)[BACKOFFICE]) request.headers.isbackoffice = 'true';
    else if (!trustIdentityHeaders && request.headers.isbackoffice !== undefined) delete request.headers.isbackoffice;
  };
}

/** `http://host:port` for an address; wildcard binds print as loopback, which is what a user can open. */
export function urlOf(address: AddressInfo | string | null): string {
  if (address === null || typeof address === 'string') return String(address);
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export interface OpenListeners {
  readonly url: string;
  readonly backofficeUrl?: string;
  /**
   * Stops accepting connections and waits for in-flight requests; after `graceMs` the remaining connections
   * are cut. Resolves with `forced: true` when the grace period ran out.
   */
  close(graceMs: number): Promise<{ forced: boolean }>;
}

export async function openListeners(
  app: FastifyInstance,
  options: { host: string; port: number; backofficePort?: number; clock: Clock; logger: Logger },
): Promise<OpenListeners> {
  await app.listen({ host: options.host, port: options.port });
  const url = urlOf(app.server.address());
  let backoffice: Server | undefined;
  let backofficeUrl: string | undefined;
  if (options.backofficePort !== undefined) {
    const server = createServer((req, res) => {
      (req as MarkedRequest)[BACKOFFICE] = true;
      app.routing(req, res);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: options.host, port: options.backofficePort }, () => resolve());
      });
    } catch (err) {
      await app.close();
      throw err;
    }
    backoffice = server;
    backofficeUrl = urlOf(server.address());
  }

  return {
    url,
    ...(backofficeUrl === undefined ? {} : { backofficeUrl }),
    async close(graceMs) {
      let forced = false;
      const timer = options.clock.setTimeout(() => {
        forced = true;
        options.logger.warn({ graceMs }, 'grace period over: closing remaining connections');
        app.server.closeAllConnections();
        backoffice?.closeAllConnections();
      }, graceMs);
      try {
        await Promise.all([
          app.close(),
          backoffice === undefined ? undefined : new Promise<void>((resolve) => backoffice?.close(() => resolve())),
        ]);
      } finally {
        options.clock.clearTimeout(timer);
      }
      return { forced };
    },
  };
}
