/**
 * Loads the code hooks of `fastData` at start-up (custom casts, aggregation functions, message adapters):
 * `{ module, export }` relative to the root descriptor, ESM or CJS; the export must be a function.
 */
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeHook } from '../config/types.js';
import { MiaRunError } from '../errors.js';

/** Imports one hook; `defaultExport` is used when `export` is absent. */
export async function loadHook<T>(hook: CodeHook, sourceFile: string, what: string, defaultExport = 'default'): Promise<T> {
  const url = pathToFileURL(resolve(dirname(sourceFile), hook.module)).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const name = hook.export ?? defaultExport;
  const fn = mod[name] ?? (mod.default as Record<string, unknown> | undefined)?.[name];
  if (typeof fn !== 'function') throw new MiaRunError('MR_CONFIG_CODE_HOOK', `${what}: export "${name}" of ${hook.module} is not a function`);
  return fn as T;
}

/** Loads every hook of a record by name. */
export async function loadHooks<T>(hooks: Readonly<Record<string, CodeHook>> | undefined, sourceFile: string, what: string): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  for (const [name, hook] of Object.entries(hooks ?? {})) out.set(name, await loadHook<T>(hook, sourceFile, `${what} "${name}"`));
  return out;
}
