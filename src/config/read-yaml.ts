/**
 * Phase 1: read one descriptor file and parse it with positions. Every failure is a diagnostic: a missing
 * file, a directory, binary content, a file over the size limit, YAML syntax errors, duplicate keys,
 * excessive nesting, alias bombs ("billion laughs") and prototype-polluting keys.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { diagnostic, formatPath } from './diagnostics.js';
import type { Diagnostic, SourcePosition } from './types.js';

/** Safety limits of the reader. */
export interface ReadLimits {
  /** Largest file accepted, in bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of mappings and lists. */
  readonly maxDepth: number;
  /** Most alias expansions while building values. */
  readonly maxAliasCount: number;
}

export const DEFAULT_LIMITS: ReadLimits = { maxBytes: 5 * 1024 * 1024, maxDepth: 64, maxAliasCount: 100 };

/** Keys that could reach `Object.prototype` when a descriptor is merged or copied. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A parsed file: its value and what is needed to turn a path into `line:col`. */
export interface SourceFile {
  /** Absolute path. */
  readonly file: string;
  /** Path printed in diagnostics (relative to the working directory when below it). */
  readonly display: string;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  readonly value: unknown;
}

export interface ReadResult {
  readonly source?: SourceFile;
  readonly diagnostics: readonly Diagnostic[];
}

function at(display: string, lineCounter: LineCounter, offset: number): SourcePosition {
  const { line, col } = lineCounter.linePos(offset);
  return { file: display, line, col };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Reads and parses `file`; `display` is how diagnostics name it; `position` is where it was referenced. */
export async function readYamlFile(file: string, display: string, limits: ReadLimits = DEFAULT_LIMITS, position?: SourcePosition): Promise<ReadResult> {
  const where = position ?? { file: display, line: 1, col: 1 };
  const fail = (message: string, hint?: string): ReadResult => ({
    diagnostics: [diagnostic({ code: 'MR_CONFIG_READ', message, position: where, ...(hint === undefined ? {} : { hint }) })],
  });
  let size: number;
  try {
    const info = await stat(file);
    if (info.isDirectory()) return fail(`${display} is a directory, not a descriptor file`, 'pass the path of a .yaml file');
    if (!info.isFile()) return fail(`${display} is not a regular file`);
    size = info.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return fail(`${display} does not exist`, 'check the path (relative paths start from the current directory, or from the including file for include:)');
    return fail(`${display} cannot be read (${code ?? String(err)})`);
  }
  if (size > limits.maxBytes) {
    return fail(`${display} is ${megabytes(size)}; the limit is ${megabytes(limits.maxBytes)}`, 'split the descriptor with include:');
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    return fail(`${display} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error('NUL byte');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail(`${display} is not a text file (binary or not UTF-8)`, 'a descriptor is a UTF-8 YAML file');
  }
  return parseYamlText(text, file, display, limits);
}

/** Clearer wording for the parser errors users meet most. */
const YAML_MESSAGES: Readonly<Record<string, { message: string; hint?: string }>> = {
  DUPLICATE_KEY: { message: 'duplicate key: this key is already defined in the same mapping', hint: 'remove one of the two definitions' },
  MULTIPLE_DOCS: { message: 'a descriptor is one YAML document, and this file holds several', hint: 'remove the "---" separator, or split the parts with include:' },
  TAG_RESOLVE_FAILED: { message: 'YAML tags are not supported in a descriptor', hint: 'remove the "!" tag; write the value itself' },
};

/** Position of the first place where `[`/`{` nesting exceeds the limit, found without parsing. */
function flowDepthExceeded(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let quote = '';
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') comment = false;
    if (comment) continue;
    if (quote !== '') {
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) comment = true;
    else if (c === '[' || c === '{') {
      if (++depth > maxDepth) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

/** Parses YAML text (exported for tests and for descriptors that do not come from a file). */
export function parseYamlText(text: string, file: string, display: string, limits: ReadLimits = DEFAULT_LIMITS): ReadResult {
  const lineCounter = new LineCounter();
  const tooDeep = flowDepthExceeded(text, limits.maxDepth);
  if (tooDeep !== undefined) {
    // Positions need the line starts, which the LineCounter learns from a parse; count them here instead.
    const before = text.slice(0, tooDeep);
    const line = before.split('\n').length;
    const col = tooDeep - before.lastIndexOf('\n');
    return {
      diagnostics: [diagnostic({ code: 'MR_CONFIG_YAML_LIMIT', message: `nesting is deeper than ${limits.maxDepth} levels`, position: { file: display, line, col } })],
    };
  }
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const diagnostics: Diagnostic[] = [];
  // Unresolved tags (`!custom`, `!!js/function`) are only warnings for the parser, but silently reading
  // them as plain strings would hide a mistake, so they are errors here like syntax errors.
  const problems = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED')];
  for (const error of problems.sort((a, b) => a.pos[0] - b.pos[0])) {
    const message = (error.message.split(' at line ')[0] ?? error.message).trim();
    const known = YAML_MESSAGES[error.code];
    diagnostics.push(diagnostic({
      code: 'MR_CONFIG_YAML',
      message: known?.message ?? message,
      position: at(display, lineCounter, error.pos[0]),
      ...(known?.hint === undefined ? {} : { hint: known.hint }),
    }));
  }
  if (diagnostics.length > 0) return { diagnostics };
  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))) {
    return { diagnostics: [diagnostic({ code: 'MR_CONFIG_EMPTY', message: `${display} is empty`, position: { file: display, line: 1, col: 1 }, hint: 'a descriptor starts with "version: 1" and "name: <project>"' })] };
  }
  if (!isMap(doc.contents)) {
    const offset = doc.contents.range?.[0] ?? 0;
    return { diagnostics: [diagnostic({ code: 'MR_CONFIG_EMPTY', message: 'the descriptor must be a mapping of keys (version, name, ...) at the top level', position: at(display, lineCounter, offset) })] };
  }
  diagnostics.push(...checkTree(doc.contents, display, lineCounter, limits.maxDepth));
  if (diagnostics.length > 0) return { diagnostics };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    const firstAlias = findAlias(doc.contents);
    return {
      diagnostics: [diagnostic({
        code: 'MR_CONFIG_YAML_LIMIT',
        message: err instanceof ReferenceError ? `aliases expand too much (more than ${limits.maxAliasCount} expansions)` : `the YAML cannot be turned into values: ${(err as Error).message}`,
        position: at(display, lineCounter, firstAlias?.range?.[0] ?? 0),
        hint: 'write the repeated values out, or reference a smaller anchor',
      })],
    };
  }
  return { source: { file, display, doc, lineCounter, value }, diagnostics: [] };
}

/** Depth limit and forbidden keys, checked on the syntax tree so each finding has a position. */
function checkTree(root: Node, display: string, lineCounter: LineCounter, maxDepth: number): Diagnostic[] {
  const found: Diagnostic[] = [];
  // One path array, pushed and popped while walking (formatted only when something is found).
  const path: (string | number)[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > maxDepth) {
      const range = (node as Node).range;
      // The full path of a too-deep value is as unreadable as the value; its first levels say where it is.
      const shown = path.length > 4 ? `${formatPath(path.slice(0, 4))}...` : formatPath(path);
      found.push(diagnostic({ code: 'MR_CONFIG_YAML_LIMIT', message: `nesting is deeper than ${maxDepth} levels`, path: shown, position: at(display, lineCounter, range?.[0] ?? 0) }));
      return;
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (typeof key !== 'string' && typeof key !== 'number') {
          found.push(diagnostic({
            code: 'MR_CONFIG_YAML',
            message: 'a key must be a plain name (not a list, a mapping or empty)',
            path: formatPath(path),
            position: at(display, lineCounter, (pair.key as Node | null)?.range?.[0] ?? (node as Node).range?.[0] ?? 0),
          }));
          continue;
        }
        const keyName = String(key);
        if (FORBIDDEN_KEYS.has(keyName)) {
          found.push(diagnostic({
            code: 'MR_CONFIG_FORBIDDEN_KEY',
            message: `"${keyName}" is not allowed as a key`,
            path: formatPath([...path, keyName]),
            position: at(display, lineCounter, (pair.key as Node).range?.[0] ?? 0),
            hint: 'rename it; keys that could change object prototypes are rejected',
          }));
        }
        path.push(keyName);
        walk(pair.value, depth + 1);
        path.pop();
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        path.push(i);
        walk(item, depth + 1);
        path.pop();
      });
    }
  };
  walk(root, 1);
  return found;
}

function findAlias(node: unknown): Node | undefined {
  if (isAlias(node)) return node;
  if (isMap(node)) {
    for (const pair of node.items) {
      const hit = findAlias(pair.value);
      if (hit) return hit;
    }
  } else if (isSeq(node)) {
    for (const item of node.items) {
      const hit = findAlias(item);
      if (hit) return hit;
    }
  }
  return undefined;
}
