import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DecoratorsDefinition } from '../../config/sections/gateway.js';
import type { Upstreams } from '../upstreams.js';
import { createHookCall, type HookCall } from './hooks.js';

/** True when an endpoint declares at least one decorator. */
export function hasDecorators(definition: DecoratorsDefinition | undefined): boolean {
  return (definition?.pre?.length ?? 0) + (definition?.post?.length ?? 0) + (definition?.catch?.length ?? 0) > 0;
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
 * Mia decorators around an endpoint (gateway.md §1): `pre` hooks see `{ method, path, headers, query, body }`
 * before dispatch; `post` hooks (and `catch` hooks for answers >= 400) see `{ request, response }` before
 * the answer leaves. Each answers 204 (unchanged), 200 (override the named parts: headers, query, body;
 * statusCode, headers, body for responses) or 418 (stop: `{ statusCode, headers, body }` is the answer).
 * Hooks are loaded once when the endpoint is mounted.
 */
export async function installDecorators(scope: FastifyInstance, definition: DecoratorsDefinition, options: { upstreams: Upstreams; baseDir: string }): Promise<void> {
  const load = (list: DecoratorsDefinition['pre']): Promise<HookCall[]> => Promise.all((list ?? []).map((hook) => createHookCall(hook, options)));
  const [pre, post, onError] = await Promise.all([load(definition.pre), load(definition.post), load(definition.catch)]);

  const stop = (request: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>): FastifyReply => {
    (request as Decorated)[STOPPED] = true;
    const statusCode = typeof body.statusCode === 'number' ? body.statusCode : 200;
    reply.code(statusCode).headers(lower(body.headers));
    return reply.send(body.body ?? null);
  };

  if (pre.length > 0) {
    scope.addHook('preHandler', async (request, reply) => {
      for (const hook of pre) {
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

  if (post.length > 0 || onError.length > 0) {
    scope.addHook('onSend', async (request, reply, payload) => {
      // An answer a decorator gave with 418 is final: no post or catch hook sees it.
      const hooks = (request as Decorated)[STOPPED] ? [] : reply.statusCode >= 400 ? onError : post;
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
