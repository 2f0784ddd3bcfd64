import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolate, interpolateString } from '../../../src/config/interpolate.js';

const env = { PORT: '9000', EMPTY: '', HOST: 'db.internal' };

test('${VAR}, ${VAR:-default} and $${ escapes', () => {
  assert.equal(interpolateString('${PORT}', env).text, '9000');
  assert.equal(interpolateString('http://${HOST}:${PORT}/x', env).text, 'http://db.internal:9000/x');
  assert.equal(interpolateString('${MISSING:-fallback}', env).text, 'fallback');
  assert.equal(interpolateString('${EMPTY:-fallback}', env).text, 'fallback', 'an empty value takes the default');
  assert.equal(interpolateString('${PORT:-8080}', env).text, '9000');
  assert.equal(interpolateString('cost: $${PRICE}', env).text, 'cost: ${PRICE}');
  assert.equal(interpolateString('$5 and $HOME', env).text, '$5 and $HOME', 'a lone $ is text');
});

test('a missing variable is reported with the message of ${VAR:?message}', () => {
  const plain = interpolateString('${MISSING}', env);
  assert.deepEqual(plain.problems.map((p) => p.message), ['environment variable MISSING is not set']);
  const required = interpolateString('${TOKEN:?ask the platform team for a token}', env);
  assert.deepEqual(required.problems.map((p) => [p.code, p.message]), [['MR_CONFIG_ENV_MISSING', 'environment variable TOKEN is not set: ask the platform team for a token']]);
  assert.equal(interpolateString('${EMPTY:?must not be empty}', env).problems.length, 1, ':? rejects an empty value');
  assert.equal(interpolateString('${EMPTY}', env).problems.length, 0, 'plain ${VAR} accepts an empty value');
});

test('malformed expressions are syntax problems', () => {
  assert.equal(interpolateString('${HOST-NAME}', env).problems[0]?.code, 'MR_CONFIG_ENV_SYNTAX');
  assert.equal(interpolateString('${}', env).problems[0]?.code, 'MR_CONFIG_ENV_SYNTAX');
  assert.equal(interpolateString('http://${HOST', env).problems[0]?.code, 'MR_CONFIG_ENV_SYNTAX');
});

test('interpolate walks values (not keys), records whole-value paths and failed paths, and copies the tree', () => {
  const input = { server: { port: '${PORT}', host: 'x-${HOST}' }, '${KEY}': 'k', list: ['${MISSING}', 3] };
  const result = interpolate(input, env, (path) => ({ file: 'p.yaml', line: path.length, col: 1 }));
  assert.deepEqual(result.value, { server: { port: '9000', host: 'x-db.internal' }, '${KEY}': 'k', list: ['', 3] });
  assert.deepEqual(result.wholeValues, [['server', 'port']]);
  assert.deepEqual(result.failed, [['list', 0]]);
  assert.deepEqual(result.diagnostics.map((d) => [d.path, d.code]), [['list[0]', 'MR_CONFIG_ENV_MISSING']]);
  assert.equal(input.server.port, '${PORT}', 'the input is not modified');
});
