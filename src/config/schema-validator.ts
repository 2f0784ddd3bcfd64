/**
 * The compiled descriptor validator. Compiling the schema with ajv takes a few hundred milliseconds, most
 * of `mia-run validate`'s time, so the generated code (ajv "standalone" output) is cached under the
 * package's `node_modules/.cache/mia-run/`, keyed by a hash of the schema, the ajv version and the options.
 * A cache that cannot be read or written is skipped: the validator is then compiled in memory.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';

// Resolved from src/config and dist/config alike: both sit two levels below the package root.
const require = createRequire(import.meta.url);
const SCHEMA_FILE = new URL('../../schemas/project.schema.json', import.meta.url);
const CACHE_DIR = new URL('../../node_modules/.cache/mia-run/', import.meta.url);

// strictRequired is off: `if/then` branches require keys declared by the surrounding object.
const OPTIONS = { allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true } as const;

let compiled: Promise<ValidateFunction> | undefined;

/** The schema's text, as published (`mia-run/schema.json`). */
export function schemaText(): string {
  return readFileSync(SCHEMA_FILE, 'utf8');
}

/** The validator of `schemas/project.schema.json` (compiled once per process, cached across processes). */
export function schemaValidator(): Promise<ValidateFunction> {
  compiled ??= load();
  return compiled;
}

async function load(): Promise<ValidateFunction> {
  const text = schemaText();
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  const key = createHash('sha256').update(`${ajvVersion}\n${JSON.stringify(OPTIONS)}\n${text}`).digest('hex').slice(0, 16);
  const file = join(CACHE_DIR.pathname, `project-schema-${key}.cjs`);
  try {
    return require(file) as ValidateFunction;
  } catch {
    // not cached yet (or unreadable): compile below
  }
  const { Ajv } = await import('ajv');
  // A CommonJS module: its `exports.default` is the function.
  const standaloneCode = (await import('ajv/dist/standalone/index.js')).default.default;
  const ajv = new Ajv({ ...OPTIONS, code: { source: true } });
  const validate = ajv.compile(JSON.parse(text) as object);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written aside and renamed, so a concurrent run never reads a half-written file.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, standaloneCode(ajv, validate));
    renameSync(temporary, file);
  } catch {
    // a read-only installation: compile in memory each time
  }
  return validate;
}
