/**
 * Turns a path in the merged descriptor into `file:line:col` in the file that holds it. Includes and list
 * concatenation move entries between files and indexes, so the include phase records an origin for every
 * merged entry; the longest recorded prefix of a path says which file (and which path in it) to look in.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import type { SourceFile } from './read-yaml.js';
import type { SourcePosition } from './types.js';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

/** Point at the key of a mapping entry (unknown keys, names) or at its value (wrong values; the default). */
export type LocateTarget = 'key' | 'value';

/** Where a merged path prefix comes from. */
export interface Origin {
  readonly source: SourceFile;
  /** The same entry's path inside `source`. */
  readonly path: Path;
}

export interface Locator {
  /** Position of `path`, or of its nearest ancestor written in a file (a defaulted value has no text). */
  position(path: Path, target?: LocateTarget): SourcePosition;
  /** The file that holds `path`. */
  sourceOf(path: Path): SourceFile;
}

function startOf(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.source === '';
}

/** Position of `path` inside one file; walks as deep as the file goes. */
export function locateIn(source: SourceFile, path: Path, target: LocateTarget = 'value'): SourcePosition {
  const { doc, lineCounter } = source;
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const keyOffset = startOf(pair.key);
      const valueOffset = isEmptyScalar(pair.value) ? undefined : startOf(pair.value);
      offset = last && target === 'key' ? (keyOffset ?? offset) : (valueOffset ?? keyOffset ?? offset);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      const itemOffset = startOf(item);
      if (itemOffset === undefined) break;
      offset = itemOffset;
      node = item;
    } else break;
  }
  const { line, col } = lineCounter.linePos(offset);
  return { file: source.display, line, col };
}

const keyOf = (path: Path): string => path.map(String).join('\u0000');

/** A locator over the root file and the origins recorded while merging includes. */
export function createLocator(root: SourceFile, origins: ReadonlyMap<string, Origin>): Locator {
  const originOf = (path: Path): Origin => {
    for (let n = path.length; n > 0; n--) {
      const origin = origins.get(keyOf(path.slice(0, n)));
      if (origin) return { source: origin.source, path: [...origin.path, ...path.slice(n)] };
    }
    return { source: root, path };
  };
  return {
    position: (path, target = 'value') => {
      const origin = originOf(path);
      return locateIn(origin.source, origin.path, target);
    },
    sourceOf: (path) => originOf(path).source,
  };
}

/** Key under which an origin is recorded for `path` (used by the include phase). */
export function originKey(path: Path): string {
  return keyOf(path);
}
