import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EndpointDefinition, InProcessKind, StranglerRouteDefinition } from '../../config/sections/gateway.js';
import { parsePercentage } from '../../config/units.js';
import { MiaRunError, isMiaRunError } from '../../errors.js';
import type { Logger } from '../../ports/logger.js';
import { createMetricEmitter } from '../../ports/telemetry.js';
import type { ComposeDeps } from '../compose/index.js';
import { findTarget, notServedError, targetOf } from '../dispatch/in-process.js';
import { createTargetHost, type TargetHost } from '../dispatch/target-host.js';
import { normalizeRoutePath, segmentCount, splitPath } from '../endpoint/access.js';
import { passThroughBodies, type DispatchMounter } from '../endpoint/build-endpoint.js';
import { bodyToSend, endpointDecorated } from '../decorators/index.js';
import { identityOf } from '../endpoint/guard.js';
import { upstreamRateKey } from '../dispatch/upstream.js';
import { clientResponseHeaders, forward, rewritePath, sendError } from '../proxy/index.js';
import type { UpstreamRoute } from '../upstreams.js';
import { bufferedUpstreamCall, readBody, type BufferedAnswer } from './buffered.js';
import { compareAnswers } from './diff.js';
import { chooseSide, type SideChoice } from './split.js';
import { RouteStats } from './stats.js';

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

interface CompiledRoute {
  readonly definition: StranglerRouteDefinition;
  readonly stats: RouteStats;
  /** The route path without its trailing `*`, relative to the endpoint. */
  readonly literal: string;
  readonly wildcard: boolean;
  readonly weight: number;
  upstream?: UpstreamRoute;
  host?: TargetHost;
  notServed?: MiaRunError;
}

export interface StranglerRuntime {
  readonly basePath: string;
  readonly legacy: string;
  readonly mount: DispatchMounter;
  report(): Record<string, unknown>;
  /** Waits for shadow comparisons in flight, then closes in-process hosts. */
  close(): Promise<void>;
}

export interface StranglerDeps extends ComposeDeps {
  readonly logger: Logger;
}

function matches(route: CompiledRoute, relative: string): boolean {
  const path = normalizeRoutePath(relative);
  if (!route.wildcard) return path === route.literal;
  return route.literal === '' || path === route.literal || path.startsWith(`${route.literal}/`);
}

/**
 * Strangler fig (gateway.md §6): routes are checked in order; `serve` sends to the new target, `split` sends
 * a sticky share of callers to it, `shadow` lets legacy answer and replays the request to the new target
 * afterwards, comparing both answers (ignoring volatile fields) and keeping counts and sample diffs.
 * Everything no route claims goes to the legacy upstream.
 */
export function createStrangler(definition: EndpointDefinition, deps: StranglerDeps): StranglerRuntime {
  const strangler = definition.strangler!;
  const baseSegments = segmentCount(definition.basePath);
  const prefix = definition.basePath === '/' ? '' : definition.basePath.replace(/\/+$/, '');
  const legacy = deps.upstreams.route(strangler.legacy, definition.policies ?? []);
  const legacyHandler = (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => proxyTo(legacy, request, reply);
  let legacyRequests = 0;
  const metrics = createMetricEmitter('gateway');
  const inFlight = new Set<Promise<void>>();
  const hosts: TargetHost[] = [];
  // Post and catch decorators read and may replace the answer: with decorators, every answer is buffered
  // and sent through the reply (so the hooks run) instead of streamed on the hijacked socket.
  const decorated = endpointDecorated(definition);

  const routes: CompiledRoute[] = strangler.routes.map((r) => {
    const wildcard = r.path.endsWith('*');
    const literal = normalizeRoutePath(wildcard ? r.path.slice(0, -1) : r.path).replace(/\/$/, '');
    const weight = r.mode === 'split' ? (parsePercentage(r.weight ?? 0) ?? 0) : r.mode === 'serve' ? 100 : 0;
    const compiled: CompiledRoute = { definition: r, literal, wildcard, weight, stats: new RouteStats(r.path, r.mode, r.mode === 'split' ? weight : undefined, strangler.sampleSize ?? 10) };
    const target = targetOf(r.to);
    if (target?.kind === 'upstream') compiled.upstream = deps.upstreams.route(target.name, definition.policies ?? []);
    return compiled;
  });

  function proxyTo(route: UpstreamRoute, request: FastifyRequest, reply: FastifyReply, from?: string, rewrite?: string): Promise<unknown> {
    reply.hijack();
    const url = request.raw.url ?? '/';
    return forward({
      req: request.raw,
      res: reply.raw,
      client: route.client,
      upstream: route.name,
      path: rewritePath(url, from ?? '', from === undefined ? undefined : rewrite, route.client.basePath),
      requestId: request.id,
      wrap: route.wrap,
      stripCredentials: !route.forwardCredentials,
      protocol: request.protocol,
      ...rateLimitKeyOf(route, request),
    });
  }

  /** The caller's bucket for a rate limit in the upstream's policies (none: every caller shares `''`). */
  function rateLimitKeyOf(route: UpstreamRoute, request: FastifyRequest): { rateLimitKey?: string } {
    const key = upstreamRateKey(route.rateLimitKey, identityOf(request), request.ip);
    return key === undefined ? {} : { rateLimitKey: key };
  }

  async function serveNew(route: CompiledRoute, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    route.stats.servedByNew++;
    if (route.notServed) throw route.notServed;
    if (route.upstream) {
      await proxyTo(route.upstream, request, reply, prefix + route.literal, route.definition.to.rewrite);
      return;
    }
    const app = await route.host!.ready();
    reply.hijack();
    app.routing(request.raw, reply.raw);
  }

  async function candidateAnswer(route: CompiledRoute, request: FastifyRequest, body: Buffer | null): Promise<BufferedAnswer> {
    if (route.notServed) throw route.notServed;
    const url = request.raw.url ?? '/';
    if (route.upstream) {
      const path = rewritePath(url, prefix + route.literal, route.definition.to.rewrite, route.upstream.client.basePath);
      return bufferedUpstreamCall(route.upstream, { req: request.raw, path, body, requestId: request.id, protocol: request.protocol })({
        method: request.method,
        ...rateLimitKeyOf(route.upstream, request),
      });
    }
    const app = await route.host!.ready();
    const headers = { ...request.raw.headers };
    delete headers['content-length'];
    const response = await app.inject({ method: request.method as 'GET', url, headers, ...(body ? { payload: body } : {}) });
    return { statusCode: response.statusCode, headers: response.headers as BufferedAnswer['headers'], body: response.rawPayload };
  }

  /** Replays the request to the new target and compares its answer with legacy's, off the caller's path. */
  function compareLater(route: CompiledRoute, request: FastifyRequest, body: Buffer | null, answer: BufferedAnswer): void {
    const comparison = (async () => {
      try {
        const candidate = await candidateAnswer(route, request, body);
        const differences = compareAnswers(
          { statusCode: answer.statusCode, headers: answer.headers, body: answer.body.toString('utf8') },
          { statusCode: candidate.statusCode, headers: candidate.headers, body: candidate.body.toString('utf8') },
          { ...(route.definition.ignoreFields ? { ignoreFields: route.definition.ignoreFields } : {}), ...(route.definition.compareHeaders ? { compareHeaders: route.definition.compareHeaders } : {}) },
        );
        const result = differences.length === 0 ? 'match' : 'mismatch';
        if (differences.length === 0) route.stats.shadowMatches++;
        else {
          route.stats.shadowMismatches++;
          route.stats.addSample({ at: new Date(deps.clock.now()).toISOString(), method: request.method, url: request.raw.url ?? '/', differences });
        }
        metrics.count('shadow_comparisons', 'Shadow comparisons by route and result', { route: route.definition.path, result });
      } catch (error) {
        route.stats.shadowErrors++;
        metrics.count('shadow_comparisons', 'Shadow comparisons by route and result', { route: route.definition.path, result: 'error' });
        deps.logger.debug({ err: error, route: route.definition.path }, 'shadow call failed');
      }
    })();
    inFlight.add(comparison);
    void comparison.finally(() => inFlight.delete(comparison));
  }

  function legacyAnswer(request: FastifyRequest, body: Buffer | null): Promise<BufferedAnswer> {
    const path = rewritePath(request.raw.url ?? '/', '', undefined, legacy.client.basePath);
    return bufferedUpstreamCall(legacy, { req: request.raw, path, body, requestId: request.id, protocol: request.protocol })({
      method: request.method,
      ...rateLimitKeyOf(legacy, request),
    });
  }

  /** The handler with decorators: bodies read (a pre hook may have replaced it), answers sent through the reply. */
  const decoratedHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const body = bodyToSend(request);
    const relative = splitPath(request.url.split('?', 1)[0]!, baseSegments)[1];
    const route = routes.find((r) => matches(r, relative));
    let answer: BufferedAnswer;
    if (route === undefined) {
      legacyRequests++;
      answer = await legacyAnswer(request, body);
    } else if (route.definition.mode === 'shadow') {
      answer = await legacyAnswer(request, body);
      route.stats.servedByLegacy++;
      compareLater(route, request, body, answer);
    } else {
      const choice: SideChoice = route.definition.mode === 'serve' ? { side: 'new' } : chooseSide(route.definition, route.weight, request, identityOf(request));
      if (choice.setCookie) reply.header('set-cookie', choice.setCookie);
      if (choice.side === 'new') route.stats.servedByNew++;
      else route.stats.servedByLegacy++;
      answer = choice.side === 'new' ? await candidateAnswer(route, request, body) : await legacyAnswer(request, body);
    }
    const headers = clientResponseHeaders(answer.headers, request.id);
    delete headers['content-length'];
    return reply.code(answer.statusCode).headers(headers).send(answer.body);
  };

  async function shadow(route: CompiledRoute, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    let body: Buffer | null;
    let answer: BufferedAnswer;
    try {
      body = await readBody(request.raw, deps.server.bodyLimit);
      answer = await legacyAnswer(request, body);
    } catch (error) {
      sendError(res, isMiaRunError(error) ? error : new MiaRunError('MR_GW_UPSTREAM_UNAVAILABLE', String(error)), request.id);
      return;
    }
    route.stats.servedByLegacy++;
    res.writeHead(answer.statusCode, { ...clientResponseHeaders(answer.headers, request.id), 'content-length': String(answer.body.length) });
    res.end(answer.body);
    // The copy goes out after legacy answered: it never delays or changes the caller's answer.
    compareLater(route, request, body, answer);
  }

  const handler: Handler = async (request, reply) => {
    const relative = splitPath(request.url.split('?', 1)[0]!, baseSegments)[1];
    const route = routes.find((r) => matches(r, relative));
    if (route === undefined) {
      legacyRequests++;
      await legacyHandler(request, reply);
      return;
    }
    const { mode } = route.definition;
    if (mode === 'shadow') return shadow(route, request, reply);
    if (mode === 'serve') return serveNew(route, request, reply);
    const choice = chooseSide(route.definition, route.weight, request, identityOf(request));
    if (choice.setCookie) reply.raw.setHeader('set-cookie', choice.setCookie);
    if (choice.side === 'new') return serveNew(route, request, reply);
    route.stats.servedByLegacy++;
    await legacyHandler(request, reply);
  };

  const mount: DispatchMounter = (scope, targets) => {
    for (const route of routes) {
      const target = targetOf(route.definition.to);
      if (target === undefined || target.kind === 'upstream') continue;
      const kind: InProcessKind = target.kind;
      const plugin = findTarget(targets, kind, target.name);
      if (plugin === undefined) {
        deps.warn(`strangler ${definition.basePath}: route ${route.definition.path} targets ${kind} "${target.name}", which this process does not serve`, {});
        route.notServed = notServedError(kind, target.name);
        continue;
      }
      route.host = createTargetHost(plugin, prefix + route.literal, deps.server.bodyLimit);
      hosts.push(route.host);
    }
    if (decorated) {
      const bodyLimit = deps.server.bodyLimit;
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, raw, done) => done(null, raw));
      scope.all('/', decoratedHandler);
      scope.all('/*', decoratedHandler);
      return;
    }
    passThroughBodies(scope);
    scope.all('/', handler);
    scope.all('/*', handler);
  };

  return {
    basePath: definition.basePath,
    legacy: strangler.legacy,
    mount,
    report: () => ({ basePath: definition.basePath, legacy: strangler.legacy, legacyRequests, routes: routes.map((r) => r.stats.report()) }),
    async close() {
      await Promise.allSettled([...inFlight]);
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}

/** The body of `GET /-/strangler`: per strangler endpoint, per route mode, traffic share, shadow match rate, sample diffs. */
export function createStranglerReport(stranglers: readonly StranglerRuntime[]): Record<string, unknown> {
  return { stranglers: stranglers.map((s) => s.report()) };
}
