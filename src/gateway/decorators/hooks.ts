import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request as undiciRequest } from 'undici';
import type { DecoratorHook } from '../../config/sections/gateway.js';
import { MiaRunError } from '../../errors.js';
import type { Upstreams } from '../upstreams.js';

/**
 * What a decorator answered, in Mia's protocol (gateway.md §1): 204 leaves things unchanged, 200 overrides
 * the parts its JSON body names, 418 stops the chain and its body (`{ statusCode, headers, body }`) is the
 * answer to the caller.
 */
export type HookAnswer = { readonly status: 204 } | { readonly status: 200 | 418; readonly body: Record<string, unknown> };

/** One callable decorator (HTTP service or in-process code). */
export type HookCall = (input: Record<string, unknown>) => Promise<HookAnswer>;

const HOOK_TIMEOUT = 10_000;

function judge(status: number, body: unknown, where: string): HookAnswer {
  if (status === 204) return { status: 204 };
  if ((status === 200 || status === 418) && body !== null && typeof body === 'object' && !Array.isArray(body)) return { status, body: body as Record<string, unknown> };
  throw new MiaRunError('MR_GW_DECORATOR_FAILED', `decorator ${where} answered ${status}${status === 200 || status === 418 ? ' without a JSON object' : ''}`);
}

/**
 * Builds the call of one decorator. HTTP decorators get a POST with the JSON input; code decorators
 * (`module` + `export`, loaded once, relative to the descriptor) get the input and return
 * `undefined` (unchanged), `{ status: 200 | 418, body }`, or an object (an override, like a 200).
 */
export async function createHookCall(hook: DecoratorHook, options: { upstreams: Upstreams; baseDir: string }): Promise<HookCall> {
  if (hook.module !== undefined) {
    const file = isAbsolute(hook.module) ? hook.module : resolve(options.baseDir, hook.module);
    const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const fn = loaded[hook.export ?? 'default'];
    if (typeof fn !== 'function') throw new MiaRunError('MR_CONFIG_CODE_HOOK', `${hook.module} has no function export "${hook.export ?? 'default'}"`);
    return async (input) => {
      const out = (await (fn as (i: unknown) => unknown)(input)) as { status?: number; body?: unknown } | undefined | null;
      if (out === undefined || out === null) return { status: 204 };
      if (out.status === 204 || out.status === 200 || out.status === 418) return judge(out.status, out.body ?? {}, `${hook.module}#${hook.export ?? 'default'}`);
      return { status: 200, body: out as Record<string, unknown> };
    };
  }
  let origin: string;
  let path: string;
  let dispatcher: import('undici').Dispatcher | undefined;
  if (hook.upstream !== undefined) {
    const route = options.upstreams.route(hook.upstream);
    origin = route.client.origin;
    path = route.client.basePath + (hook.path ?? '/');
    dispatcher = route.client.pool;
  } else {
    const url = new URL(hook.url!);
    origin = url.origin;
    path = url.pathname + url.search;
  }
  const where = hook.upstream ?? hook.url!;
  return async (input) => {
    let response;
    try {
      response = await undiciRequest(origin + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
        headersTimeout: HOOK_TIMEOUT,
        bodyTimeout: HOOK_TIMEOUT,
        ...(dispatcher ? { dispatcher } : {}),
      });
    } catch (error) {
      throw new MiaRunError('MR_GW_DECORATOR_FAILED', `decorator ${where} cannot be reached`, { cause: error });
    }
    const text = await response.body.text();
    let body: unknown;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    return judge(response.statusCode, body, where);
  };
}
