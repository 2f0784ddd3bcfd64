/**
 * Phase 4: JSON Schema validation with ajv (`allErrors`, strict) against `schemas/project.schema.json`, the
 * single source of truth. A value that was exactly one `${VAR}` expression becomes a number or boolean
 * where the schema wants one (`port: ${PORT:-8080}`). Each ajv error becomes a diagnostic built from its
 * `params` (see schema-errors.ts).
 */
import type { ErrorObject } from 'ajv';
import type { Path } from './locate.js';
import { schemaValidator } from './schema-validator.js';

export interface SchemaResult {
  /** The value, with whole-value interpolations converted where the schema wanted a number or boolean. */
  readonly value: unknown;
  readonly errors: readonly ErrorObject[];
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** JSON pointer (`/a/0/b`) to path segments, using `value` to tell list indexes from keys. */
export function pointerToPath(pointer: string, value: unknown): Path {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let node = value;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      out.push(index);
      node = node[index];
    } else {
      out.push(segment);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return out;
}

const samePath = (a: Path, b: Path): boolean => a.length === b.length && a.every((s, i) => String(s) === String(b[i]));

function setAt(root: unknown, path: Path, next: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = next;
}

function coerce(text: string, wanted: readonly string[]): unknown {
  if ((wanted.includes('integer') || wanted.includes('number')) && NUMBER.test(text.trim())) return Number(text.trim());
  if (wanted.includes('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  return undefined;
}

/**
 * Validates `value` (mutated in place only at `wholeValues` that must become numbers or booleans) and
 * returns the remaining errors.
 */
export async function validateSchema(value: unknown, wholeValues: readonly Path[]): Promise<SchemaResult> {
  const validate = await schemaValidator();
  for (let round = 0; round < 3; round++) {
    if (validate(value)) return { value, errors: [] };
    const errors = validate.errors ?? [];
    let changed = false;
    for (const error of errors) {
      if (error.keyword !== 'type') continue;
      const path = pointerToPath(error.instancePath, value);
      if (!wholeValues.some((w) => samePath(w, path))) continue;
      const current = error.data;
      if (typeof current !== 'string') continue;
      const wanted = String((error.params as { type: string | string[] }).type).split(',');
      const next = coerce(current, wanted);
      if (next !== undefined) {
        setAt(value, path, next);
        changed = true;
      }
    }
    if (!changed) return { value, errors };
  }
  return { value, errors: validate(value) ? [] : (validate.errors ?? []) };
}
