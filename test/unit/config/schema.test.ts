import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';

const root = new URL('../../../', import.meta.url).pathname;
const schemaFile = `${root}schemas/project.schema.json`;
const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { properties: Record<string, unknown>; $defs: Record<string, unknown>; additionalProperties: unknown };

test('the package exports the schema as mia-run/schema.json', () => {
  assert.equal(createRequire(`${root}package.json`).resolve('mia-run/schema.json'), schemaFile);
});

test('the schema compiles in ajv strict mode and rejects unknown top-level keys', () => {
  const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);
  assert.equal(validate({ version: 1, name: 'x' }), true);
  assert.equal(validate({ version: 1, name: 'x', extra: 1 }), false);
  assert.equal(schema.additionalProperties, false);
});

test('every top-level section of the descriptor spec is declared', () => {
  assert.deepEqual(Object.keys(schema.properties).sort(), [
    'aggregates', 'auth', 'bus', 'collections', 'databases', 'endpoints', 'fastData', 'include', 'name', 'policies', 'sagas', 'server', 'upstreams', 'version',
  ]);
});

/** Keys without a user-facing description, for editor hovers and docs/descriptor.md. */
function undocumented(node: unknown, path: string, seen = new Set<unknown>()): string[] {
  if (typeof node !== 'object' || node === null || seen.has(node)) return [];
  seen.add(node);
  const s = node as Record<string, unknown>;
  const out: string[] = [];
  const ref = typeof s.$ref === 'string' ? schema.$defs[s.$ref.replace('#/$defs/', '')] : undefined;
  if (ref !== undefined) out.push(...undocumented(ref, path, seen));
  for (const [key, value] of Object.entries((s.properties as Record<string, Record<string, unknown> | boolean> | undefined) ?? {})) {
    if (typeof value === 'boolean') continue; // `key: false` forbids a key in one branch; it is described where allowed
    if (typeof value.description !== 'string' || value.description.length < 10) out.push(`${path}.${key}`);
    out.push(...undocumented(value, `${path}.${key}`, seen));
  }
  for (const key of ['additionalProperties', 'items']) out.push(...undocumented(s[key], `${path}.${key === 'items' ? '[]' : '<name>'}`, seen));
  for (const branch of [...((s.allOf as unknown[] | undefined) ?? []), s.then, s.else]) out.push(...undocumented(branch, path, seen));
  return out;
}

test('every key of the foundation sections has a description', () => {
  const sections = ['version', 'name', 'include', 'server', 'databases', 'bus', 'policies', 'upstreams'];
  const missing = sections.flatMap((key) => {
    const section = schema.properties[key] as Record<string, unknown>;
    const resolved = typeof section.$ref === 'string' ? (schema.$defs[section.$ref.replace('#/$defs/', '')] as Record<string, unknown>) : section;
    return [...(typeof resolved.description === 'string' ? [] : [key]), ...undocumented(section, key)];
  });
  assert.deepEqual(missing, []);
});
