import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request as undiciRequest } from 'undici';
import type { DecoratorHook } from '../../config/sections/gateway.js';
import { MiaRunError, isMiaRunError } from '../../errors.js';
import type { Clock } from '../../ports/clock.js';
import { createTimeout, type Call } from '../../resilience/index.js';
import { sendUpstream } from '../proxy/index.js';
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
export async function createHookCall(hook: DecoratorHook, options: { upstreams: Upstreams; baseDir: string; clock: Clock }): Promise<HookCall> {
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
  const where = hook.upstream ?? hook.url!;
  const headers = { 'content-type': 'application/json' };
  const read = async (statusCode: number, text: string): Promise<HookAnswer> => {
    let body: unknown;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    return judge(statusCode, body, where);
  };
  // One deadline on the runtime clock for the whole hook call (retries included).
  const deadline = createTimeout({ ms: HOOK_TIMEOUT, clock: options.clock, name: `decorator ${where}` });
  let callWith: (body: string) => Call<{ statusCode: number; text: string }>;
  if (hook.upstream !== undefined) {
    // Through the upstream's pool and policies (its breaker, retries for idempotent calls, bulkhead).
    const route = options.upstreams.route(hook.upstream);
    const path = route.client.basePath + (hook.path ?? '/');
    callWith = (body) =>
      route.wrap((ctx) =>
        sendUpstream(route.client, { method: 'POST', path, headers, body }, ctx.signal, route.name, async (response) => ({
          statusCode: response.statusCode,
          text: await response.body.text(),
        })),
      );
  } else {
    const url = new URL(hook.url!);
    callWith = (body) => async (ctx) => {
      const response = await undiciRequest(url, { method: 'POST', headers, body, headersTimeout: HOOK_TIMEOUT, bodyTimeout: HOOK_TIMEOUT, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      return { statusCode: response.statusCode, text: await response.body.text() };
    };
  }
  return async (input) => {
    let answer: { statusCode: number; text: string };
    try {
      answer = await deadline(callWith(JSON.stringify(input)))({ method: 'POST' });
    } catch (error) {
      throw new MiaRunError('MR_GW_DECORATOR_FAILED', `decorator ${where} cannot be reached${isMiaRunError(error) ? `: ${error.message}` : ''}`, { cause: error });
    }
    return read(answer.statusCode, answer.text);
  };
}
