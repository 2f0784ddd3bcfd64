/**
 * Loads a code hook `{ module, export }` (a reducer, read-model reduce or upcaster) relative to the
 * descriptor's directory. The config loader has already checked that the module exists and exports a
 * function; this only imports it at start-up.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeHook } from '../config/types.js';
import { MiaRunError } from '../errors.js';

export async function loadHook<T>(hook: CodeHook, baseDir: string, what: string): Promise<T> {
  const mod = (await import(pathToFileURL(resolve(baseDir, hook.module)).href)) as Record<string, unknown>;
  const fn = mod[hook.export ?? 'default'];
  if (typeof fn !== 'function') throw new MiaRunError('MR_CONFIG_CODE_HOOK', `${what}: "${hook.export ?? 'default'}" of ${hook.module} is not a function`);
  return fn as T;
}
