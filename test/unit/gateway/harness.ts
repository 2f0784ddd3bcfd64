/** Shared set-up of gateway tests: real upstreams on port 0 and a runtime with the gateway capability. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';
import { SignJWT } from 'jose';
import { createGateway } from '../../../src/gateway/index.js';
import type { CapabilityFactory } from '../../../src/ports/capability-context.js';
import type { Clock } from '../../../src/ports/clock.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { createRuntime, type Runtime } from '../../../src/runtime/create-runtime.js';
import { fakeBackends } from '../../helpers/fake-backends.js';
import { projectConfig, type ProjectConfigOverrides } from '../../helpers/project-config.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A real upstream on port 0 that records every request and answers as `respond` says. */
export async function upstream(respond: Handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')) {
  const seen: Seen[] = [];
  let current = respond;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      current(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    respond: (h: Handler) => (current = h),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A capability of another role publishing in-process targets (as crud, sagas, ... do). */
export function targetCapability(name: string, role: 'crud' | 'sagas' | 'projections' | 'aggregates', targets: Record<string, FastifyPluginAsync>): CapabilityFactory {
  return {
    name,
    role,
    create: () => ({
      name,
      routes: new Map(Object.entries(targets)),
      start: async () => undefined,
      stop: async () => undefined,
      health: async () => ({ name, status: 'OK' }),
    }),
  };
}

/** An in-process target that answers with what it received: path, params and the Mia headers. */
export const echoTarget: FastifyPluginAsync = async (app) => {
  const echo = async (request: import('fastify').FastifyRequest) => ({
    url: request.url,
    params: request.params,
    body: request.body ?? null,
    headers: Object.fromEntries(
      Object.entries(request.headers).filter(([k]) => /^(miauser|client-type|isbackoffice|acl_)/.test(k)),
    ),
  });
  app.get('/', echo);
  app.get('/:id', echo);
  app.post('/', echo);
};

export async function startGateway(overrides: ProjectConfigOverrides, options: { clock?: Clock; capabilities?: CapabilityFactory[] } = {}): Promise<{ runtime: Runtime; url: string; backofficeUrl?: string }> {
  const runtime = createRuntime(projectConfig(overrides), {
    port: 0,
    logger: silentLogger,
    backends: fakeBackends().factories,
    capabilities: [{ name: 'gateway', role: 'gateway', create: createGateway }, ...(options.capabilities ?? [])],
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { url, backofficeUrl } = await runtime.start();
  return backofficeUrl === undefined ? { runtime, url } : { runtime, url, backofficeUrl };
}

export const SECRET = 'a-test-secret-long-enough-for-hs256!';

/** An HS256 token signed with `SECRET`, issued at the given clock time. */
export function token(claims: Record<string, unknown>, now = Date.now()): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(Math.floor(now / 1000)).setExpirationTime(Math.floor(now / 1000) + 3600).sign(new TextEncoder().encode(SECRET));
}

/** Polls a condition with a bound instead of sleeping. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

export const emptyPolicies = { timeouts: {}, retries: {}, circuitBreakers: {}, rateLimits: {}, bulkheads: {} };
