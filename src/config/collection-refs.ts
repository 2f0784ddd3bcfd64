/**
 * Phase 2b: `collections: [{ $ref: ./collections/books.json }]`. Each `$ref` entry is replaced by the
 * collection definition its file holds (a Mia CRUD collection JSON file as is, or the same object in
 * YAML), read relative to the descriptor file that contains the entry. Keys written beside `$ref`
 * (`database`, `events`, another `endpointBasePath`, ...) override the file's. Origins are recorded so
 * that later phases point into the referenced file (a schema error in a field) or at the YAML (a key
 * written beside `$ref`); a file that cannot be read, parsed or is not one object is a diagnostic at the
 * `$ref` or inside the file.
 */
import { dirname, resolve } from 'node:path';
import { diagnostic, formatPath } from './diagnostics.js';
import { displayPath, type ReadFile } from './include.js';
import { interpolateString, type Env } from './interpolate.js';
import { locateIn, originKey, type Origin, type Path } from './locate.js';
import type { SourceFile } from './read-yaml.js';
import type { Diagnostic } from './types.js';

export interface CollectionRefsInput {
  /** The merged descriptor (after includes). */
  readonly value: Record<string, unknown>;
  readonly origins: ReadonlyMap<string, Origin>;
  readonly root: SourceFile;
}

export interface CollectionRefsResult {
  /** The descriptor with every resolvable `$ref` entry replaced (a fresh object; the input is not modified). */
  readonly value: Record<string, unknown>;
  readonly origins: ReadonlyMap<string, Origin>;
  /** The referenced files read successfully. */
  readonly sources: readonly SourceFile[];
  readonly diagnostics: readonly Diagnostic[];
  /** True when a referenced file could not be used (its collection is missing from `value`). */
  readonly incomplete: boolean;
}

const REF = '$ref';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where the merged path `path` was written: the longest recorded origin prefix, else the root file. */
function originOf(origins: ReadonlyMap<string, Origin>, root: SourceFile, path: Path): Origin {
  for (let n = path.length; n > 0; n--) {
    const origin = origins.get(originKey(path.slice(0, n)));
    if (origin) return { source: origin.source, path: [...origin.path, ...path.slice(n)] };
  }
  return { source: root, path };
}

/** Replaces every `{ $ref: file }` entry of `collections` by the definition in that file. */
export async function resolveCollectionRefs(input: CollectionRefsInput, read: ReadFile, cwd: string, env: Env = {}): Promise<CollectionRefsResult> {
  const { value, root } = input;
  const origins = new Map(input.origins);
  const diagnostics: Diagnostic[] = [];
  const sources: SourceFile[] = [];
  const list = value.collections;
  if (!Array.isArray(list) || !list.some((e) => isRecord(e) && REF in e)) return { value, origins, sources, diagnostics, incomplete: false };

  let incomplete = false;
  const collections: unknown[] = [...list];
  for (const [i, entry] of list.entries()) {
    if (!isRecord(entry) || !(REF in entry)) continue;
    const at: Path = ['collections', i];
    const written = originOf(origins, root, at);
    const refPosition = locateIn(written.source, [...written.path, REF]);
    const problem = (message: string, hint: string): void => {
      incomplete = true;
      diagnostics.push(diagnostic({ code: 'MR_CONFIG_REF', message, path: formatPath([...at, REF]), position: refPosition, hint }));
    };
    const ref = entry[REF];
    if (typeof ref !== 'string' || ref.trim() === '') {
      problem('$ref must be the path of a collection file', 'write { $ref: ./collections/books.json }, relative to this file');
      continue;
    }
    const expanded = interpolateString(ref, env);
    for (const p of expanded.problems) diagnostics.push(diagnostic({ code: p.code, message: p.message, path: formatPath([...at, REF]), position: refPosition, ...(p.hint === undefined ? {} : { hint: p.hint }) }));
    if (expanded.problems.length > 0) {
      incomplete = true;
      continue;
    }
    const file = resolve(dirname(written.source.file), expanded.text);
    const result = await read(file, displayPath(file, cwd), refPosition);
    if (result.source === undefined) {
      incomplete = true;
      for (const d of result.diagnostics) {
        // The reader words "not a mapping" for a descriptor; here the file must be one collection object.
        if (d.code === 'MR_CONFIG_EMPTY') diagnostics.push({ ...d, code: 'MR_CONFIG_REF', message: `${displayPath(file, cwd)} must hold one collection definition (an object with name, endpointBasePath, fields, ...)`, path: formatPath(at) });
        else diagnostics.push({ ...d, path: d.path === '' ? formatPath([...at, REF]) : d.path });
      }
      continue;
    }
    const source = result.source;
    sources.push(source);
    const definition = source.value as Record<string, unknown>;
    const beside: Record<string, unknown> = { ...entry };
    delete beside[REF];
    collections[i] = { ...definition, ...beside };
    origins.set(originKey(at), { source, path: [] });
    for (const key of Object.keys(beside)) origins.set(originKey([...at, key]), { source: written.source, path: [...written.path, key] });
  }
  return { value: { ...value, collections }, origins, sources, diagnostics, incomplete };
}
