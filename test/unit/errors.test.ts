import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, MiaRunError, isRetriable } from '../../src/errors.js';
import { renderErrorsDoc } from '../../scripts/gen-errors-doc.js';

const root = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
const registry = new Set(Object.keys(ERROR_CODES));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

test('every registered code is documented in docs/errors.md', () => {
  const missing = [...registry].filter((code) => !doc.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});

test('every code documented in docs/errors.md is registered', () => {
  const documented = [...doc.matchAll(/`(MR_[A-Z0-9_]+)`/g)].map((m) => m[1]!);
  assert.deepEqual(documented.filter((code) => !registry.has(code)), []);
});

test('docs/errors.md is what the registry renders (run npm run docs after changing src/errors.ts)', () => {
  assert.equal(doc, renderErrorsDoc());
});

test('every MR_ code that source files mention is registered', () => {
  const unknown = new Set<string>();
  for (const file of sourceFiles(join(root, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\b(MR_[A-Z][A-Z0-9_]*[A-Z0-9])\b/g)) {
      if (!registry.has(m[1]!) && !m[1]!.endsWith('_')) unknown.add(`${m[1]} in ${file.slice(root.length)}`);
    }
  }
  assert.deepEqual([...unknown], []);
});

test('MiaRunError takes status and retriable from the registry, overridable per instance', () => {
  const err = new MiaRunError('MR_STORE_UNAVAILABLE', 'store down', { hint: 'check the URL' });
  assert.equal(err.statusCode, 503);
  assert.equal(err.retriable, true);
  assert.equal(err.hint, 'check the URL');
  assert.equal(isRetriable(err), true);
  const permanent = new MiaRunError('MR_STORE_UNAVAILABLE', 'auth failed', { retriable: false });
  assert.equal(isRetriable(permanent), false);
  assert.equal(isRetriable(new Error('plain')), false);
  assert.equal(new MiaRunError('MR_CRUD_DUPLICATE_KEY', 'dup').statusCode, 409);
});

test('every HTTP status in the registry is an error status', () => {
  for (const [code, spec] of Object.entries(ERROR_CODES) as [string, { statusCode?: number }][]) {
    if (spec.statusCode !== undefined) assert.ok(spec.statusCode >= 400 && spec.statusCode < 600, code);
  }
});
