import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyRules } from '../../../src/config/rules/policies.js';
import { HEADER, lines, load } from '../config/files.js';

test('rate-limit-stores: a shared rate limit names a declared database, with did-you-mean', async () => {
  const text = `${HEADER}databases:\n  limits: { kind: embedded }\npolicies:\n  rateLimits:\n    shared: { requests: 10, per: 1s, store: limit }\n`;
  const result = await load({ 'project.yaml': text }, { rules: policyRules });
  assert.deepEqual(lines(result), [
    'project.yaml:7:45 error MR_CONFIG_UNKNOWN_REF policies.rateLimits.shared.store: "limit" is not a declared database; did you mean "limits"?; the counters of a shared rate limit live in one of the databases: entries',
  ]);
});

test('a shared rate limit on a declared database and the userinfo section load', async () => {
  const text = `${HEADER}databases:\n  limits: { kind: embedded }\nauth:\n  userinfo: { url: "http://auth.local/userinfo", cookie: sid, cacheFor: 10s, timeout: 1s, propertyFields: [name] }\npolicies:\n  rateLimits:\n    shared: { requests: 10, per: 1s, key: user, store: limits }\n`;
  const result = await load({ 'project.yaml': text });
  assert.deepEqual(lines(result), []);
  assert.equal(result.config?.policies.rateLimits.shared?.store, 'limits');
  assert.equal(result.config?.auth.userinfo?.cookie, 'sid');
});

test('auth.userinfo needs a url; unknown keys are schema errors', async () => {
  const result = await load({ 'project.yaml': `${HEADER}auth:\n  userinfo: { cookie: sid, cache: 1s }\n` });
  assert.deepEqual(result.diagnostics.map((d) => d.code).sort(), ['MR_CONFIG_MISSING_KEY', 'MR_CONFIG_UNKNOWN_KEY']);
});

test('circuit breaker slowCallDuration/slowCallRate and retries.attemptTimeout are read as ms and %', async () => {
  const text = `${HEADER}policies:\n  circuitBreakers:\n    slow: { slowCallDuration: 2s, slowCallRate: 40% }\n    plain: {}\n  retries:\n    again: { attemptTimeout: 500ms }\n`;
  const result = await load({ 'project.yaml': text });
  assert.deepEqual(lines(result), []);
  assert.equal(result.config?.policies.circuitBreakers.slow?.slowCallDuration, 2_000);
  assert.equal(result.config?.policies.circuitBreakers.slow?.slowCallRate, 40);
  assert.equal(result.config?.policies.circuitBreakers.plain?.slowCallDuration, undefined);
  assert.equal(result.config?.policies.retries.again?.attemptTimeout, 500);
});
