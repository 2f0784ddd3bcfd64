/**
 * Phase 6b: code hooks. Wherever the descriptor holds `{ module: ./path/to/file.js, export: name }` (custom
 * casts, adapters, reducers, command payloads, decorators, ...), the module must exist and the export
 * (default: `default`) must be a function. Paths are relative to the file that declares the hook. The
 * module is imported to check the export, exactly as the runtime will import it at start-up; a module
 * that fails to load is reported with its error.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { diagnostic, formatPath } from './diagnostics.js';
import type { Locator, Path } from './locate.js';
import type { Diagnostic } from './types.js';

interface Hook {
  readonly path: Path;
  readonly module: string;
  readonly export: string;
}

/** Every `{ module, export? }` object in `value`, with its path. */
export function findCodeHooks(value: unknown): Hook[] {
  const found: Hook[] = [];
  // One path array, pushed and popped while walking: descriptors with thousands of values stay cheap.
  const path: (string | number)[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        path.push(i);
        walk(node[i]);
        path.pop();
      }
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.module === 'string' && (record.export === undefined || typeof record.export === 'string')) {
      found.push({ path: [...path], module: record.module, export: (record.export as string | undefined) ?? 'default' });
    }
    for (const key of Object.keys(record)) {
      path.push(key);
      walk(record[key]);
      path.pop();
    }
  };
  walk(value);
  return found;
}

/** Absolute path of a hook module, or undefined when it cannot be found. */
function resolveModule(specifier: string, declaredIn: string): string | undefined {
  const base = dirname(declaredIn);
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    const file = resolve(base, specifier);
    return existsSync(file) && statSync(file).isFile() ? file : undefined;
  }
  try {
    return createRequire(resolve(base, 'noop.js')).resolve(specifier);
  } catch {
    return undefined;
  }
}

export async function checkCodeHooks(config: unknown, locator: Locator): Promise<Diagnostic[]> {
  const found: Diagnostic[] = [];
  for (const hook of findCodeHooks(config)) {
    const modulePath = [...hook.path, 'module'];
    const report = (message: string, hint: string | undefined, at: Path): void => {
      found.push(diagnostic({ code: 'MR_CONFIG_CODE_HOOK', path: formatPath(at), message, position: locator.position(at), ...(hint === undefined ? {} : { hint }) }));
    };
    const declaredIn = locator.sourceOf(hook.path).file;
    const file = resolveModule(hook.module, declaredIn);
    if (file === undefined) {
      report(`module "${hook.module}" does not exist`, `paths are relative to ${locator.sourceOf(hook.path).display}`, modulePath);
      continue;
    }
    let loaded: Record<string, unknown>;
    try {
      loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      report(`module "${hook.module}" cannot be loaded: ${(err as Error)?.message ?? String(err)}`, undefined, modulePath);
      continue;
    }
    const exported = loaded[hook.export];
    if (typeof exported !== 'function') {
      const functions = Object.keys(loaded).filter((k) => typeof loaded[k] === 'function');
      report(
        exported === undefined ? `module "${hook.module}" has no export "${hook.export}"` : `export "${hook.export}" of "${hook.module}" is not a function`,
        functions.length === 0 ? 'the module exports no function' : `functions it exports: ${functions.join(', ')}`,
        hook.export === 'default' ? modulePath : [...hook.path, 'export'],
      );
    }
  }
  return found;
}
