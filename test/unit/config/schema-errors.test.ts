import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { createLocator } from '../../../src/config/locate.js';
import { parseYamlText } from '../../../src/config/read-yaml.js';
import { schemaDiagnostics } from '../../../src/config/schema-errors.js';
import { formatDiagnostic } from '../../../src/cli/format/text.js';

// A small schema with the shapes the descriptor uses: alternatives told apart by `kind`, inline and by $ref.
const schema = {
  type: 'object',
  properties: {
    channel: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['kind'], properties: { kind: { const: 'bus' }, topic: { type: 'string' } } },
        { $ref: '#/$defs/http' },
      ],
    },
  },
  $defs: {
    http: { type: 'object', additionalProperties: false, required: ['kind', 'url'], properties: { kind: { const: 'http' }, url: { type: 'string' }, method: { enum: ['POST', 'PUT'] } } },
  },
};
const validate = new Ajv({ allErrors: true, strict: true, verbose: true }).compile(schema);

function diagnose(text: string): string[] {
  const source = parseYamlText(text, '/p/p.yaml', 'p.yaml').source!;
  validate(source.value);
  return schemaDiagnostics(validate.errors ?? [], source.value, createLocator(source, new Map())).map(formatDiagnostic);
}

test('oneOf: only the errors of the alternative whose kind matches are reported', () => {
  assert.deepEqual(diagnose('channel: { kind: bus, topc: orders }\n'), [
    'p.yaml:1:23 error MR_CONFIG_UNKNOWN_KEY channel.topc: "topc" is not a known key; did you mean "topic"?; allowed keys here: kind, topic',
  ]);
  assert.deepEqual(diagnose('channel: { kind: http, method: GET }\n'), [
    'p.yaml:1:1 error MR_CONFIG_MISSING_KEY channel: missing required key "url"',
    'p.yaml:1:32 error MR_CONFIG_SCHEMA channel.method: "GET" is not one of POST, PUT',
  ]);
});

test('oneOf: with no matching kind, the closest alternative speaks', () => {
  const lines = diagnose('channel: { kind: ftp }\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /channel\.kind: expected "bus", got "ftp"/);
});

test('suggestions: common typos are one edit away; unrelated short words get none', async () => {
  const { closest } = await import('../../../src/config/diagnostics.js');
  assert.equal(closest('fats', ['fast', 'slow']), 'fast');
  assert.equal(closest('kafak', ['embedded', 'kafka']), 'kafka');
  assert.equal(closest('prot', ['port', 'host']), 'port');
  assert.equal(closest('Serverr', ['server', 'bus']), 'server');
  assert.equal(closest('circuitbreaker', ['circuitBreakers', 'retries']), 'circuitBreakers');
  assert.equal(closest('GET', ['POST', 'PUT']), undefined);
  assert.equal(closest('orders', []), undefined);
  assert.equal(closest('xyzzy', ['server', 'bus']), undefined);
});

test('empty mappings, dependent keys and formats get plain messages', () => {
  const check = new Ajv({ allErrors: true, strict: true, verbose: true }).compile({
    type: 'object',
    properties: {
      target: { description: 'What serves the endpoint. More text.', type: 'object', minProperties: 1 },
      tls: { type: 'object', dependencies: { cert: ['key'] }, properties: { cert: { type: 'string' }, key: { type: 'string' } } },
    },
  });
  const source = parseYamlText('target: {}\ntls: { cert: a.pem }\n', '/p/p.yaml', 'p.yaml').source!;
  check(source.value);
  assert.deepEqual(schemaDiagnostics(check.errors ?? [], source.value, createLocator(source, new Map())).map(formatDiagnostic), [
    'p.yaml:1:9 error MR_CONFIG_SCHEMA target: must not be empty; What serves the endpoint',
    'p.yaml:2:1 error MR_CONFIG_MISSING_KEY tls: "cert" needs "key" too',
  ]);
});
