import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROLES, parseRoles } from '../../../src/runtime/roles.js';

describe('--role', () => {
  test('absent or empty means every role', () => {
    assert.deepEqual(parseRoles(undefined).roles, ROLES);
    assert.deepEqual(parseRoles('  ').roles, ROLES);
    assert.deepEqual(parseRoles(undefined).roles, ['gateway', 'crud', 'sagas', 'projections', 'aggregates']);
  });

  test('a list is trimmed, case-insensitive, de-duplicated and put in canonical order', () => {
    const result = parseRoles(' Sagas, gateway ,gateway,');
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(result.roles, ['gateway', 'sagas']);
  });

  test('an unknown role is a diagnostic without a file position, suggesting the closest', () => {
    const result = parseRoles('gateway,projection');
    assert.equal(result.roles, undefined);
    assert.deepEqual(result.diagnostics, [
      {
        code: 'MR_CONFIG_UNKNOWN_ROLE',
        severity: 'error',
        path: '--role',
        message: '"projection" is not a role; did you mean "projections"?',
        hint: 'roles are: gateway, crud, sagas, projections, aggregates',
      },
    ]);
  });

  test('every unknown role is reported; nonsense gets no suggestion', () => {
    const result = parseRoles('crd,zzzzzzzzzzzz');
    assert.equal(result.diagnostics.length, 2);
    assert.match(result.diagnostics[0]?.message ?? '', /did you mean "crud"/);
    assert.equal(result.diagnostics[1]?.message, '"zzzzzzzzzzzz" is not a role');
    assert.equal(result.diagnostics[1]?.position, undefined);
  });
});
