/**
 * Phase 2: `include:`. Each included path is relative to the file that includes it; included files may
 * include others. All files are merged by top-level key, in reading order (the root first): lists are
 * concatenated, named entries are merged by name (two levels deep for `policies`, `bus` and `fastData`),
 * and a name or scalar defined twice is a diagnostic at the second definition, naming the first.
 * Include paths may use `${VAR}` interpolation.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { diagnostic, formatPath } from './diagnostics.js';
import { interpolateString, type Env } from './interpolate.js';
import { locateIn, originKey, type Origin, type Path } from './locate.js';
import type { ReadResult, SourceFile } from './read-yaml.js';
import type { Diagnostic, SourcePosition } from './types.js';

/** How many mapping levels below the top-level key are merged by name (default 1). */
const MERGE_DEPTH: Readonly<Record<string, number>> = { policies: 2, bus: 2, fastData: 2 };

export type ReadFile = (file: string, display: string, referencedAt: SourcePosition) => Promise<ReadResult>;

export interface IncludeResult {
  /** The merged descriptor (a fresh object; the sources' values are not modified). */
  readonly value: Record<string, unknown>;
  readonly origins: ReadonlyMap<string, Origin>;
  /** Every file read successfully, root first. */
  readonly sources: readonly SourceFile[];
  readonly diagnostics: readonly Diagnostic[];
  /** True when an included file could not be read or parsed (its content is missing from `value`). */
  readonly incomplete: boolean;
}

/** How diagnostics name a file: relative to the working directory when below it. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads every file reachable from `root` through `include:` and merges them. */
export async function resolveIncludes(root: SourceFile, read: ReadFile, cwd: string, env: Env = {}): Promise<IncludeResult> {
  const diagnostics: Diagnostic[] = [];
  const sources: SourceFile[] = [];
  const seen = new Set<string>();
  let incomplete = false;

  const visit = async (source: SourceFile, stack: readonly string[]): Promise<void> => {
    sources.push(source);
    seen.add(source.file);
    const includes = isRecord(source.value) ? source.value.include : undefined;
    if (includes === undefined) return;
    // The root's `include` is checked by the schema; an included file's is dropped from the merge, so here.
    const badShape = (message: string, at: Path): void => {
      if (source !== root) diagnostics.push(diagnostic({ code: 'MR_CONFIG_INCLUDE', message, path: formatPath(at), position: locateIn(source, at), hint: 'write include: [path/to/file.yaml, ...]' }));
    };
    if (!Array.isArray(includes)) return badShape('include must be a list of file paths', ['include']);
    for (const [i, entry] of includes.entries()) {
      if (typeof entry !== 'string' || entry === '') {
        badShape('an include entry must be a file path', ['include', i]);
        continue;
      }
      const position = locateIn(source, ['include', i]);
      // `include: [env/${STAGE:-dev}.yaml]`: variables are replaced here, before the file is read.
      const expanded = interpolateString(entry, env);
      for (const p of expanded.problems) {
        diagnostics.push(diagnostic({ code: p.code, message: p.message, path: `include[${i}]`, position, ...(p.hint === undefined ? {} : { hint: p.hint }) }));
      }
      if (expanded.problems.length > 0) {
        incomplete = true;
        continue;
      }
      const file = resolve(dirname(source.file), expanded.text);
      const display = displayPath(file, cwd);
      if (stack.includes(file)) {
        const chain = [...stack.slice(stack.indexOf(file)), file].map((f) => displayPath(f, cwd)).join(' -> ');
        diagnostics.push(diagnostic({ code: 'MR_CONFIG_INCLUDE', message: `include cycle: ${chain}`, path: `include[${i}]`, position, hint: 'remove one of the includes' }));
        continue;
      }
      if (seen.has(file)) continue; // included twice along different branches: merged once
      const result = await read(file, display, position);
      if (result.source === undefined) {
        incomplete = true;
        diagnostics.push(...result.diagnostics.map((d) => ({ ...d, path: d.path === '' && d.code === 'MR_CONFIG_READ' ? `include[${i}]` : d.path })));
        continue;
      }
      await visit(result.source, [...stack, file]);
    }
  };
  await visit(root, [root.file]);

  const value: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  const owner = new Map<string, SourceFile>();
  const record = (mergedPath: Path, source: SourceFile, filePath: Path): void => {
    origins.set(originKey(mergedPath), { source, path: filePath });
    owner.set(originKey(mergedPath), source);
  };

  const merge = (target: Record<string, unknown>, incoming: Record<string, unknown>, source: SourceFile, path: Path, depthLeft: number): void => {
    for (const [key, next] of Object.entries(incoming)) {
      const at = [...path, key];
      if (!(key in target)) {
        target[key] = next;
        if (source !== root || path.length === 0) record(at, source, at);
        continue;
      }
      const existing = target[key];
      if (path.length === 0 && Array.isArray(existing) && Array.isArray(next)) {
        next.forEach((_, i) => record([key, existing.length + i], source, [key, i]));
        target[key] = [...existing, ...next];
        continue;
      }
      if (isRecord(existing) && isRecord(next) && depthLeft > 0) {
        const copy = { ...existing };
        target[key] = copy;
        merge(copy, next, source, at, depthLeft - 1);
        continue;
      }
      const first = owner.get(originKey(at)) ?? findOwner(at);
      const firstAt = first === undefined ? '' : ` (first defined at ${formatPosition(locateIn(first, at, 'key'))})`;
      diagnostics.push(diagnostic({
        code: 'MR_CONFIG_INCLUDE',
        message: `"${formatPath(at)}" is already defined${firstAt}`,
        path: formatPath(at),
        position: locateIn(source, at, 'key'),
        hint: 'each name may be defined in one file only',
      }));
    }
  };
  const findOwner = (at: Path): SourceFile | undefined => {
    for (let n = at.length; n > 0; n--) {
      const o = owner.get(originKey(at.slice(0, n)));
      if (o) return o;
    }
    return undefined;
  };

  for (const source of sources) {
    if (!isRecord(source.value)) continue;
    const own = { ...source.value };
    if (source !== root) delete own.include;
    for (const [key, next] of Object.entries(own)) {
      merge(value, { [key]: next }, source, [], MERGE_DEPTH[key] ?? 1);
    }
  }
  return { value, origins, sources, diagnostics, incomplete };
}

function formatPosition(p: SourcePosition): string {
  return `${p.file}:${p.line}:${p.col}`;
}
