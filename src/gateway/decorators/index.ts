import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DecoratorsDefinition, EndpointDefinition } from '../../config/sections/gateway.js';
import { normalizeRoutePath, splitPath } from '../endpoint/access.js';
import type { Clock } from '../../ports/clock.js';
import type { Upstreams } from '../upstreams.js';
import { createHookCall, type HookCall } from './hooks.js';

/** True when a decorators section declares at least one hook. */
export function hasDecorators(definition: DecoratorsDefinition | undefined): boolean {
  return (definition?.pre?.length ?? 0) + (definition?.post?.length ?? 0) + (definition?.catch?.length ?? 0) > 0;
}

/** True when an endpoint or one of its `routes:` declares a decorator. */
export function endpointDecorated(endpoint: Pick<EndpointDefinition, 'decorators' | 'routes'>): boolean {
  return hasDecorators(endpoint.decorators) || Object.values(endpoint.routes ?? {}).some((route) => hasDecorators(route.decorators));
}

interface HookLists {
  readonly pre: readonly HookCall[];
  readonly post: readonly HookCall[];
  readonly onError: readonly HookCall[];
}

function bodyValue(body: unknown): unknown {
  if (Buffer.isBuffer(body)) {
    const text = body.toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return body ?? null;
}

function payloadValue(payload: unknown): unknown {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return bodyValue(Buffer.from(payload));
  return payload ?? null;
}

const lower = (headers: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(headers !== null && typeof headers === 'object' ? headers : {}).map(([k, v]) => [k.toLowerCase(), String(v)]));

const OVERRIDDEN = Symbol('mia-run.decorated-body');
const STOPPED = Symbol('mia-run.decorator-stopped');
type Decorated = FastifyRequest & { [OVERRIDDEN]?: true; [STOPPED]?: true };

/** The request body a decorator replaced, if any (upstream dispatch sends it instead of the original). */
export function overriddenBody(request: FastifyRequest): unknown {
  return (request as Decorated)[OVERRIDDEN] ? request.body : undefined;
}

/**
 * The request body to send on after the `pre` hooks: the one a hook replaced (JSON unless it is a string),
 * else the buffered original; null when there is none.
 */
export function bodyToSend(request: FastifyRequest): Buffer | null {
  const replaced = overriddenBody(request);
  if (replaced !== undefined) return Buffer.from(typeof replaced === 'string' ? replaced : JSON.stringify(replaced));
  return Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : null;
}

function requestView(request: FastifyRequest): Record<string, unknown> {
  return { method: request.method, path: request.url.split('?', 1)[0], headers: request.headers, query: request.query, body: bodyValue(request.body) };
}

/**
 * Mia decorators around an endpoint and its routes (gateway.md §1). A `routes:` entry (`POST/items`, exact
 * verb and path) with `decorators` replaces the endpoint's hooks of each kind it lists, for that route only,
 * as its `public`/`acl` override the endpoint's. `pre` hooks see `{ method, path, headers, query, body }`
 * before dispatch; `post` hooks (and `catch` hooks for answers >= 400) see `{ request, response }` before
 * the answer leaves. Each answers 204 (unchanged), 200 (override the named parts: headers, query, body;
 * statusCode, headers, body for responses) or 418 (stop: `{ statusCode, headers, body }` is the answer).
 * Hooks are loaded once when the endpoint is mounted.
 */
export async function installDecorators(
  scope: FastifyInstance,
  endpoint: Pick<EndpointDefinition, 'decorators' | 'routes'>,
  options: { upstreams: Upstreams; baseDir: string; baseSegments: number; clock: Clock },
): Promise<void> {
  const load = (list: DecoratorsDefinition['pre']): Promise<HookCall[]> => Promise.all((list ?? []).map((hook) => createHookCall(hook, options)));
  const lists = async (definition: DecoratorsDefinition | undefined, fallback?: HookLists): Promise<HookLists> => {
    const [pre, post, onError] = await Promise.all([load(definition?.pre), load(definition?.post), load(definition?.catch)]);
    return {
      pre: definition?.pre === undefined && fallback ? fallback.pre : pre,
      post: definition?.post === undefined && fallback ? fallback.post : post,
      onError: definition?.catch === undefined && fallback ? fallback.onError : onError,
    };
  };
  const base = await lists(endpoint.decorators);
  const byRoute = new Map<string, HookLists>();
  for (const [key, route] of Object.entries(endpoint.routes ?? {})) {
    if (route.decorators === undefined) continue;
    const slash = key.indexOf('/');
    byRoute.set(`${key.slice(0, slash).toUpperCase()} ${normalizeRoutePath(key.slice(slash))}`, await lists(route.decorators, base));
  }
  const all = [base, ...byRoute.values()];
  /** The hooks of this request's route: built at start-up, looked up only when some route has its own. */
  const hooksOf = (request: FastifyRequest): HookLists => {
    if (byRoute.size === 0) return base;
    const relative = splitPath(request.url.split('?', 1)[0]!, options.baseSegments)[1];
    return byRoute.get(`${request.method} ${normalizeRoutePath(relative)}`) ?? base;
  };

  const stop = (request: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>): FastifyReply => {
    (request as Decorated)[STOPPED] = true;
    const statusCode = typeof body.statusCode === 'number' ? body.statusCode : 200;
    reply.code(statusCode).headers(lower(body.headers));
    return reply.send(body.body ?? null);
  };

  if (all.some((l) => l.pre.length > 0)) {
    scope.addHook('preHandler', async (request, reply) => {
      for (const hook of hooksOf(request).pre) {
        const answer = await hook(requestView(request));
        if (answer.status === 204) continue;
        if (answer.status === 418) return stop(request, reply, answer.body);
        const { headers, query, body } = answer.body;
        if (headers !== undefined) Object.assign(request.raw.headers, lower(headers));
        if (query !== undefined) request.query = query;
        if (body !== undefined) {
          request.body = body;
          (request as Decorated)[OVERRIDDEN] = true;
        }
      }
      return undefined;
    });
  }

  if (all.some((l) => l.post.length > 0 || l.onError.length > 0)) {
    scope.addHook('onSend', async (request, reply, payload) => {
      // An answer a decorator gave with 418 is final: no post or catch hook sees it.
      const hooks = (request as Decorated)[STOPPED] ? [] : reply.statusCode >= 400 ? hooksOf(request).onError : hooksOf(request).post;
      if (hooks.length === 0) return payload;
      let response: Record<string, unknown> = { statusCode: reply.statusCode, headers: reply.getHeaders(), body: payloadValue(payload) };
      let changed = false;
      for (const hook of hooks) {
        const answer = await hook({ request: requestView(request), response });
        if (answer.status === 204) continue;
        response = { ...response, ...answer.body, headers: { ...(response.headers as object), ...lower(answer.body.headers) } };
        changed = true;
        if (answer.status === 418) break;
      }
      if (!changed) return payload;
      reply.code(typeof response.statusCode === 'number' ? response.statusCode : reply.statusCode);
      for (const [name, value] of Object.entries(response.headers as Record<string, string>)) if (name !== 'content-length') reply.header(name, value);
      const body = response.body;
      if (typeof body === 'string') return body;
      reply.header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify(body ?? null);
    });
  }
}
