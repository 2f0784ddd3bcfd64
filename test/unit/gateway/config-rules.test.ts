import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../../src/config/load-project.js';
import { RULES } from '../../../src/config/rules/index.js';
import { gatewayRules } from '../../../src/config/rules/gateway.js';

const fixture = fileURLToPath(new URL('fixtures/invalid-endpoints/project.yaml', import.meta.url));
const cwd = fileURLToPath(new URL('.', import.meta.url));

describe('gateway config rules', () => {
  test('unknown references with did-you-mean, invalid ACL with its column, conflicts, compose cycles and unknown names', async () => {
    const { config, diagnostics } = await loadProject(fixture, { cwd, env: {}, rules: gatewayRules });
    assert.equal(config, undefined);
    const lines = diagnostics.map((d) => `${d.position?.line}:${d.position?.col} ${d.code} ${d.path}: ${d.message}`);
    assert.deepEqual(lines, [
      '4:3 MR_CONFIG_INVALID_VALUE auth.jwt: auth.jwt needs exactly one of secret (HS256) or jwksUrl (RS256/ES256)',
      '14:27 MR_CONFIG_UNKNOWN_REF endpoints[0].target.collection: "orderz" is not a declared collection; did you mean "orders"?',
      '15:10 MR_CONFIG_INVALID_VALUE endpoints[0].acl: invalid ACL expression: unexpected "||" (column 17)',
      '17:25 MR_CONFIG_UNKNOWN_REF endpoints[1].target.upstream: "paymnts" is not a declared upstream; did you mean "payments"?',
      '18:16 MR_CONFIG_UNKNOWN_REF endpoints[1].policies[0]: "fst" is not a declared policy; did you mean "fast"?',
      '22:15 MR_CONFIG_DUPLICATE endpoints[3].basePath: basePath /api/:key/ serves the same requests as endpoints[2] (/api/:id)',
      '25:5 MR_CONFIG_INVALID_VALUE endpoints[4].compose: calls depend on each other in a cycle: a -> b -> a',
      '28:54 MR_CONFIG_UNKNOWN_REF endpoints[4].compose[2].call.path: {ordr.x} is neither a call nor a path parameter; did you mean "order"?',
      '31:15 MR_CONFIG_UNKNOWN_REF endpoints[5].strangler.legacy: "legasy" is not a declared upstream',
      '33:11 MR_CONFIG_MISSING_KEY endpoints[5].strangler.routes[0]: a split route needs a weight (the share of callers sent to the new target)',
    ]);
    assert.equal(diagnostics.find((d) => d.path === 'endpoints[0].acl')?.hint, 'at "|| user.tier == "gol"');
  });

  test('the rules run by default with every other rule', () => {
    for (const rule of gatewayRules) assert.ok(RULES.includes(rule), rule.name);
  });
});
