import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyRules } from '../../../../src/config/rules/policies.js';
import { HEADER, lines, load } from '../files.js';

const only = { rules: policyRules };

test('upstream-policy-refs: an unknown policy name suggests the closest declared one', async () => {
  const result = await load({ 'project.yaml': `${HEADER}policies:\n  timeouts: { fast: 1s }\nupstreams:\n  pay: { url: "http://pay", policies: [fats] }\n` }, only);
  assert.deepEqual(lines(result), [
    'project.yaml:6:40 error MR_CONFIG_UNKNOWN_REF upstreams.pay.policies[0]: "fats" is not a declared policy; did you mean "fast"?; declared policies: fast',
  ]);
});

test('upstream-policy-refs: with no policies declared, the hint says where to declare them', async () => {
  const result = await load({ 'project.yaml': `${HEADER}upstreams:\n  pay: { url: "http://pay", policies: [slow] }\n` }, only);
  assert.match(result.diagnostics[0]?.hint ?? '', /declare it under policies:/);
});

test('upstream-policy-refs: two policies of one kind on one upstream', async () => {
  const result = await load({ 'project.yaml': `${HEADER}policies:\n  retries: { a: {}, b: {} }\nupstreams:\n  pay: { url: "http://pay", policies: [a, b] }\n` }, only);
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.path, d.message]), [
    ['MR_CONFIG_INVALID_VALUE', 'upstreams.pay.policies[1]', '"b" and "a" are both a retry; list at most one of each kind'],
  ]);
});

test('unique-policy-names: a name used by two kinds is reported at the second', async () => {
  const result = await load({ 'project.yaml': `${HEADER}policies:\n  timeouts: { shared: 1s }\n  bulkheads:\n    shared: { maxConcurrent: 2 }\n` }, only);
  assert.deepEqual(lines(result), [
    'project.yaml:6:5 error MR_CONFIG_DUPLICATE policies.bulkheads.shared: policy "shared" is also declared in policies.timeouts; policies are referenced by name alone, so names are unique across kinds',
  ]);
});

test('retry-delays: max shorter than base', async () => {
  const result = await load({ 'project.yaml': `${HEADER}policies:\n  retries:\n    slow: { base: 20s }\n` }, only);
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.path, d.position?.line]), [['MR_CONFIG_INVALID_VALUE', 'policies.retries.slow.max', 5]]);
});

test('a valid policies section passes every rule', async () => {
  const result = await load({ 'project.yaml': `${HEADER}policies:\n  timeouts: { fast: 1s }\n  retries: { again: {} }\n  circuitBreakers: { cb: {} }\nupstreams:\n  pay: { url: "http://pay", policies: [fast, again, cb] }\n` }, only);
  assert.deepEqual(result.diagnostics, []);
  assert.ok(result.config);
});

test('positive-durations: zero timeouts, rate-limit periods and breaker windows', async () => {
  const result = await load({ 'project.yaml': `${HEADER}policies:\n  timeouts: { now: 0ms }\n  rateLimits: { rl: { requests: 5, per: 0 } }\n  circuitBreakers: { cb: { window: 0s } }\n` }, only);
  assert.deepEqual(result.diagnostics.map((d) => `${d.position?.line}:${d.position?.col} ${d.path}: ${d.message}`), [
    '4:20 policies.timeouts.now: must be longer than 0 ms',
    '5:41 policies.rateLimits.rl.per: must be longer than 0 ms',
    '6:36 policies.circuitBreakers.cb.window: must be longer than 0 ms',
  ]);
});
