/**
 * The config pipeline (STYLE §6): read with positions -> includes -> `${ENV}` interpolation -> JSON Schema
 * -> defaults and units -> cross-reference rules -> deep freeze. It never throws: every problem found in
 * any phase is a diagnostic, and all of them are returned together. `validate` and `run` share it.
 */
import { resolve } from 'node:path';
import { diagnostic, formatPath } from './diagnostics.js';
import { checkCodeHooks } from './code-hooks.js';
import { resolveCollectionRefs } from './collection-refs.js';
import { deepFreeze } from './freeze.js';
import { displayPath, resolveIncludes } from './include.js';
import { interpolate, type Env } from './interpolate.js';
import { resolveMiaFiles } from './mia-files.js';
import { createLocator, type Locator, type Path } from './locate.js';
import { normalize } from './normalize.js';
import { DEFAULT_LIMITS, readYamlFile, type ReadLimits, type ReadResult } from './read-yaml.js';
import { RULES, type ConfigRule, type RuleContext } from './rules/index.js';
import { schemaDiagnostics } from './schema-errors.js';
import { validateSchema } from './schema.js';
import type { Diagnostic, LoadResult, ProjectConfig, SourcePosition } from './types.js';

export interface LoadOptions {
  /** Environment for `${VAR}`; default `process.env`. */
  readonly env?: Env;
  /** Base of relative paths and of the file names printed in diagnostics; default `process.cwd()`. */
  readonly cwd?: string;
  /** Reader safety limits. */
  readonly limits?: Partial<ReadLimits>;
  /** Cross-reference rules; default every rule of `src/config/rules/`. */
  readonly rules?: readonly ConfigRule[];
}

/**
 * Loads, validates and freezes a descriptor.
 *
 * @example
 * const { config, diagnostics } = await loadProject('project.yaml', { env: process.env, cwd: process.cwd() });
 * if (!config) for (const d of diagnostics) console.error(d.message);
 */
export async function loadProject(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  try {
    return await load(file, options);
  } catch (err) {
    // A bug in a phase must not crash `validate`; it is reported as one diagnostic instead.
    return { diagnostics: [diagnostic({ code: 'MR_INTERNAL', message: `the descriptor could not be checked: ${(err as Error)?.stack ?? String(err)}`, hint: 'this is a bug; please report it' })] };
  }
}

async function load(file: string, options: LoadOptions): Promise<LoadResult> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const limits: ReadLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const absolute = resolve(cwd, file);

  const root = await readYamlFile(absolute, displayPath(absolute, cwd), limits);
  if (root.source === undefined) return { diagnostics: root.diagnostics };

  const readFile = (f: string, display: string, at: SourcePosition): Promise<ReadResult> => readYamlFile(f, display, limits, at);
  const merged = await resolveIncludes(root.source, readFile, cwd, env);
  // `collections: [{ $ref: file }]` entries become the definitions their files hold.
  const refs = await resolveCollectionRefs({ value: merged.value, origins: merged.origins, root: root.source }, readFile, cwd, env);
  const included = { ...merged, value: refs.value, origins: refs.origins, sources: [...merged.sources, ...refs.sources], incomplete: merged.incomplete || refs.incomplete };
  const locator = createLocator(root.source, included.origins);
  const diagnostics: Diagnostic[] = [...included.diagnostics, ...refs.diagnostics];
  const displays = included.sources.map((s) => s.display);
  const finish = (): LoadResult => ({ diagnostics: sortDiagnostics(diagnostics, displays) });

  // `include` entries were interpolated by the include phase (which reported their problems).
  const interpolated = interpolate(included.value, env, (path) => locator.position(path), (path) => path.length === 1 && path[0] === 'include');
  diagnostics.push(...interpolated.diagnostics);
  // Without the content of an unreadable include, the schema would report keys that file provides.
  if (included.incomplete) return finish();

  const checked = await validateSchema(interpolated.value, interpolated.wholeValues);
  const schemaProblems = schemaDiagnostics(checked.errors, checked.value, locator, interpolated.failed);
  diagnostics.push(...schemaProblems);

  // Defaults and cross-reference rules run even when the schema found problems, so one run lists every
  // problem; what they find at or below a place already reported is left out (it would say the same).
  const reported = [...schemaProblems.map((d) => d.path), ...interpolated.failed.map((p) => formatPath(p))];
  const fresh = (d: Diagnostic): boolean =>
    !reported.some((p) => d.path === p || (p !== '' && (d.path.startsWith(`${p}.`) || d.path.startsWith(`${p}[`))));
  const normalized = normalize({
    value: checked.value as Record<string, unknown>,
    sourceFile: absolute,
    files: included.sources.map((s) => s.file),
    position: (path) => locator.position(path),
    fileOf: (path) => locator.sourceOf(path).file,
  });
  diagnostics.push(...normalized.diagnostics.filter(fresh));
  // Mia single-view files become the equivalent declarations before the rules check them.
  const imported = await resolveMiaFiles(normalized.config, locator, cwd, limits);
  diagnostics.push(...imported.diagnostics.filter(fresh));
  // What an imported file got wrong is reported there once; the rules would repeat it on the result.
  reported.push(...imported.diagnostics.map((d) => d.path));
  const shapeIsValid = schemaProblems.length === 0 && interpolated.failed.length === 0;
  diagnostics.push(...runRules(imported.config, locator, options.rules ?? RULES, shapeIsValid).filter(fresh));
  if (diagnostics.some((d) => d.severity === 'error')) return finish();

  diagnostics.push(...(await checkCodeHooks(imported.config, locator)));
  if (diagnostics.some((d) => d.severity === 'error')) return finish();
  return { config: deepFreeze(imported.config), diagnostics: sortDiagnostics(diagnostics, displays) };
}

/**
 * Runs every rule. On a descriptor that failed the schema a rule may meet shapes it does not expect; its
 * exception then says nothing new and is dropped. On a valid one, an exception is a bug and is reported.
 */
function runRules(config: ProjectConfig, locator: Locator, rules: readonly ConfigRule[], shapeIsValid: boolean): Diagnostic[] {
  const ctx: RuleContext = {
    config,
    position: (path, target) => locator.position(path, target),
    report: (input) =>
      diagnostic({
        code: input.code,
        message: input.message,
        path: formatPath(input.path as Path),
        position: locator.position(input.path, input.target),
        ...(input.hint === undefined ? {} : { hint: input.hint }),
        ...(input.severity === undefined ? {} : { severity: input.severity }),
      }),
  };
  const out: Diagnostic[] = [];
  for (const rule of rules) {
    try {
      out.push(...rule.check(ctx));
    } catch (err) {
      if (!shapeIsValid) continue;
      out.push(diagnostic({ code: 'MR_INTERNAL', message: `rule ${rule.name} failed: ${(err as Error)?.message ?? String(err)}`, hint: 'this is a bug; please report it' }));
    }
  }
  return out;
}

/** Stable order: by file (first seen first), line, column; diagnostics without a position first. */
function sortDiagnostics(diagnostics: readonly Diagnostic[], files: readonly string[]): Diagnostic[] {
  const order = new Map<string, number>(files.map((f, i) => [f, i]));
  for (const d of diagnostics) if (d.position && !order.has(d.position.file)) order.set(d.position.file, order.size);
  return [...diagnostics].sort((a, b) => {
    if (!a.position || !b.position) return (a.position ? 1 : 0) - (b.position ? 1 : 0);
    return (order.get(a.position.file)! - order.get(b.position.file)!) || a.position.line - b.position.line || a.position.col - b.position.col;
  });
}
