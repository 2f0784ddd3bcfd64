import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReports, type FileReport } from '../../../src/cli/format/index.js';
import type { Diagnostic } from '../../../src/config/types.js';

const error: Diagnostic = {
  code: 'MR_CONFIG_UNKNOWN_REF',
  severity: 'error',
  path: 'endpoints[2].target.collection',
  message: '"orderz" is not a declared collection; did you mean "orders"?',
  hint: 'declared: orders, products',
  position: { file: 'teams/a, b.yaml', line: 12, col: 7 },
};
const warning: Diagnostic = { code: 'MR_CONFIG_INVALID_VALUE', severity: 'warning', path: '', message: '100% of\nthe budget', position: { file: 'p.yaml', line: 1, col: 1 } };
const noPosition: Diagnostic = { code: 'MR_CONFIG_UNKNOWN_ROLE', severity: 'error', path: '--role', message: '"x" is not a role' };

test('text: one line per problem in the documented shape, then a summary per file', () => {
  const reports: FileReport[] = [{ file: 'p.yaml', diagnostics: [error, warning, noPosition] }, { file: 'q.yaml', diagnostics: [] }];
  assert.equal(formatReports(reports, 'text'), [
    'teams/a, b.yaml:12:7 error MR_CONFIG_UNKNOWN_REF endpoints[2].target.collection: "orderz" is not a declared collection; did you mean "orders"?; declared: orders, products',
    'p.yaml:1:1 warning MR_CONFIG_INVALID_VALUE (root): 100% of the budget',
    'mia-run: error MR_CONFIG_UNKNOWN_ROLE --role: "x" is not a role',
    'p.yaml: invalid, 2 errors, 1 warning',
    'q.yaml: valid',
    '',
  ].join('\n'));
  assert.equal(formatReports([{ file: 'w.yaml', diagnostics: [warning] }], 'text').split('\n').at(-2), 'w.yaml: valid, 0 errors, 1 warning');
});

test('github: workflow commands with escaped data and properties', () => {
  assert.equal(formatReports([{ file: 'p.yaml', diagnostics: [error, warning, noPosition] }], 'github'), [
    '::error file=teams/a%2C b.yaml,line=12,col=7,title=MR_CONFIG_UNKNOWN_REF::endpoints[2].target.collection: "orderz" is not a declared collection; did you mean "orders"?; declared: orders, products',
    '::warning file=p.yaml,line=1,col=1,title=MR_CONFIG_INVALID_VALUE::100%25 of%0Athe budget',
    '::error title=MR_CONFIG_UNKNOWN_ROLE::--role: "x" is not a role',
    '',
  ].join('\n'));
  assert.equal(formatReports([{ file: 'p.yaml', diagnostics: [] }], 'github'), '');
});

test('json: counts, validity per file, flattened positions', () => {
  const parsed = JSON.parse(formatReports([{ file: 'p.yaml', diagnostics: [warning] }, { file: 'q.yaml', diagnostics: [noPosition] }], 'json')) as unknown;
  assert.deepEqual(parsed, {
    valid: false,
    errors: 1,
    warnings: 1,
    files: [
      { file: 'p.yaml', valid: true, diagnostics: [{ severity: 'warning', code: 'MR_CONFIG_INVALID_VALUE', path: '', message: '100% of\nthe budget', file: 'p.yaml', line: 1, col: 1 }] },
      { file: 'q.yaml', valid: false, diagnostics: [{ severity: 'error', code: 'MR_CONFIG_UNKNOWN_ROLE', path: '--role', message: '"x" is not a role' }] },
    ],
  });
});
