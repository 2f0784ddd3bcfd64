import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYamlText } from '../../../src/config/read-yaml.js';

const parse = (text: string) => parseYamlText(text, '/abs/p.yaml', 'p.yaml');
const summary = (text: string) => parse(text).diagnostics.map((d) => `${d.position?.line}:${d.position?.col} ${d.code} ${d.path}`);

test('a valid mapping parses to values with no diagnostics', () => {
  const result = parse('version: 1\nname: shop\nlist: [a, b]\n');
  assert.deepEqual(result.diagnostics, []);
  assert.deepEqual(result.source?.value, { version: 1, name: 'shop', list: ['a', 'b'] });
});

test('syntax errors and duplicate keys carry the position of the mistake', () => {
  assert.deepEqual(summary('a: 1\nb: 2\na: 3\n'), ['3:1 MR_CONFIG_YAML ']);
  assert.match(parse('a: [1, 2\n').diagnostics[0]?.message ?? '', /Flow sequence|end with a \]/);
});

test('empty documents and non-mappings are MR_CONFIG_EMPTY', () => {
  assert.deepEqual(summary(''), ['1:1 MR_CONFIG_EMPTY ']);
  assert.deepEqual(summary('# only a comment\n'), ['1:1 MR_CONFIG_EMPTY ']);
  assert.deepEqual(summary('\n- a\n- b\n'), ['2:1 MR_CONFIG_EMPTY ']);
  assert.deepEqual(summary('just text\n'), ['1:1 MR_CONFIG_EMPTY ']);
});

test('prototype-polluting keys are rejected wherever they are, at the key', () => {
  assert.deepEqual(summary('__proto__: { x: 1 }\nok:\n  - constructor: 1\n  - { prototype: 2 }\n'), [
    '1:1 MR_CONFIG_FORBIDDEN_KEY __proto__',
    '3:5 MR_CONFIG_FORBIDDEN_KEY ok[0].constructor',
    '4:7 MR_CONFIG_FORBIDDEN_KEY ok[1].prototype',
  ]);
});

test('alias bombs stop at the alias limit instead of exhausting memory', () => {
  let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
  const [d] = parse(text).diagnostics;
  assert.equal(d?.code, 'MR_CONFIG_YAML_LIMIT');
  assert.match(d?.message ?? '', /aliases expand too much/);
  assert.equal(d?.position?.line, 2);
});

test('a few aliases are fine', () => {
  const result = parse('base: &b { retries: 3 }\nother: *b\n');
  assert.deepEqual(result.diagnostics, []);
  assert.deepEqual(result.source?.value, { base: { retries: 3 }, other: { retries: 3 } });
});

test('nesting deeper than the limit is reported, for flow and block styles, without a stack overflow', () => {
  const flow = `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
  assert.deepEqual(summary(flow), ['1:68 MR_CONFIG_YAML_LIMIT ']);
  let block = '';
  for (let i = 0; i < 70; i++) block += `${' '.repeat(i)}k${i}:\n`;
  block += `${' '.repeat(70)}v: 1\n`;
  const [d] = parse(block).diagnostics;
  assert.equal(d?.code, 'MR_CONFIG_YAML_LIMIT');
  assert.equal(d?.path, 'k0.k1.k2.k3...');
});

test('limits are configurable', () => {
  const result = parseYamlText('a: { b: { c: 1 } }\n', '/abs/p.yaml', 'p.yaml', { maxBytes: 100, maxDepth: 2, maxAliasCount: 1 });
  assert.equal(result.diagnostics[0]?.code, 'MR_CONFIG_YAML_LIMIT');
});

test('several documents, YAML tags and non-name keys are errors with positions', () => {
  assert.deepEqual(summary('a: 1\n---\nb: 2\n'), ['2:1 MR_CONFIG_YAML ']);
  assert.deepEqual(parse('a: !custom 1\nb: !!js/function "x"\n').diagnostics.map((d) => `${d.position?.line}:${d.position?.col} ${d.message}`), [
    '1:4 YAML tags are not supported in a descriptor',
    '2:4 YAML tags are not supported in a descriptor',
  ]);
  assert.deepEqual(summary('ok: 1\nnested:\n  ? [a, b]\n  : 1\n'), ['3:5 MR_CONFIG_YAML nested']);
});
