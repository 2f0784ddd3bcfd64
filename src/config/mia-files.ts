/**
 * Phase 5b: Mia single-view files (fast-data.md §5). A view may import `erSchema: { file }`,
 * `aggregation: { file: aggregation.json }` and `key: { file: singleViewKey.json }` (paths relative to the
 * file that declares the view); each is read with positions and turned into the equivalent declaration
 * (`relations`, `aggregation`, `key`) before the cross-reference rules run, so an imported view is checked
 * and run exactly like a written one. A problem inside an imported file (an unknown condition or function,
 * an unsupported construct) is reported at its `file:line:col`.
 */
import { dirname, resolve } from 'node:path';
import { diagnostic, formatPath } from './diagnostics.js';
import { displayPath } from './include.js';
import { locateIn, type Locator, type Path } from './locate.js';
import { readYamlFile, type ReadLimits, type SourceFile } from './read-yaml.js';
import { importMiaView, type MiaFileKind } from './sections/fast-data-mia.js';
import type { SingleViewConfig } from './sections/fast-data.js';
import type { Diagnostic, ProjectConfig } from './types.js';

const fileRef = (v: unknown): string | undefined => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  const file = (v as { file?: unknown }).file;
  return keys.length === 1 && typeof file === 'string' && file.endsWith('.json') ? file : undefined;
};

/** Resolves the Mia files of every single view; returns the config with the equivalent declarations. */
export async function resolveMiaFiles(config: ProjectConfig, locator: Locator, cwd: string, limits: ReadLimits): Promise<{ config: ProjectConfig; diagnostics: Diagnostic[] }> {
  const views = config.fastData?.singleViews;
  if (views === undefined) return { config, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const functions = Object.keys(config.fastData.functions ?? {});
  const resolved: Record<string, SingleViewConfig> = {};
  let changed = false;
  for (const [name, view] of Object.entries(views)) {
    const at: Path = ['fastData', 'singleViews', name];
    const refs: Partial<Record<MiaFileKind, string>> = {
      ...(view.erSchema?.file === undefined ? {} : { erSchema: view.erSchema.file }),
      ...(fileRef(view.aggregation) === undefined ? {} : { aggregation: fileRef(view.aggregation)! }),
      ...(fileRef(view.key) === undefined ? {} : { key: fileRef(view.key)! }),
    };
    if (Object.keys(refs).length === 0) {
      resolved[name] = view;
      continue;
    }
    changed = true;
    const sources: Partial<Record<MiaFileKind, SourceFile>> = {};
    for (const [kind, file] of Object.entries(refs) as [MiaFileKind, string][]) {
      const refPath: Path = [...at, kind, 'file'];
      const absolute = resolve(dirname(locator.sourceOf(refPath).file), file);
      const read = await readYamlFile(absolute, displayPath(absolute, cwd), limits, locator.position(refPath));
      diagnostics.push(...read.diagnostics.map((d) => ({ ...d, path: d.path === '' ? formatPath(refPath) : d.path })));
      if (read.source !== undefined) sources[kind] = read.source;
    }
    const out = importMiaView({
      ...(sources.erSchema ? { erSchema: sources.erSchema.value } : {}),
      ...(sources.aggregation ? { aggregation: sources.aggregation.value } : {}),
      ...(sources.key ? { key: sources.key.value } : {}),
      yamlRelations: view.relations ?? [],
      ...(view.base === undefined ? {} : { base: view.base }),
      functions,
    });
    for (const p of out.problems) {
      const source = sources[p.file];
      diagnostics.push(diagnostic({
        code: p.kind === 'unknown' ? 'MR_CONFIG_UNKNOWN_REF' : 'MR_CONFIG_INVALID_VALUE',
        path: formatPath([...at, p.file]),
        message: `${source === undefined ? `${p.file}: ` : ''}${p.path.length > 0 ? `${formatPath(p.path)}: ` : ''}${p.message}`,
        ...(source === undefined ? {} : { position: locateIn(source, p.path) }),
        ...(p.hint === undefined ? {} : { hint: p.hint }),
      }));
    }
    const { erSchema: _erSchema, ...rest } = view;
    void _erSchema;
    resolved[name] = {
      ...rest,
      ...(out.relations === undefined ? {} : { relations: [...(view.relations ?? []), ...out.relations] }),
      ...(out.aggregation === undefined ? {} : { aggregation: out.aggregation }),
      ...(out.key === undefined ? {} : { key: out.key }),
      ...(out.base === undefined || view.base !== undefined ? {} : { base: out.base }),
      ...(out.onStates === undefined || view.onStates !== undefined ? {} : { onStates: out.onStates as SingleViewConfig['onStates'] }),
    };
  }
  if (!changed) return { config, diagnostics };
  return { config: { ...config, fastData: { ...config.fastData, singleViews: resolved } }, diagnostics };
}
