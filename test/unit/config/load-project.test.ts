import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProject } from '../../../src/config/load-project.js';
import { HEADER, lines, load, withFiles } from './files.js';

test('a minimal descriptor gets every default: server, embedded default database, embedded bus, empty policies', async () => {
  const { config, diagnostics } = await load({ 'project.yaml': HEADER });
  assert.deepEqual(diagnostics, []);
  assert.ok(config);
  assert.deepEqual(config.server, { port: 8080, host: '0.0.0.0', bodyLimit: 1_048_576, shutdownGracePeriod: 10_000, trustIdentityHeaders: false, userIdHeader: 'miauserid' });
  assert.deepEqual(config.databases, { default: { kind: 'embedded' } });
  assert.deepEqual(config.bus, { kind: 'embedded', topics: {} });
  assert.deepEqual(config.policies, { timeouts: {}, retries: {}, circuitBreakers: {}, rateLimits: {}, bulkheads: {} });
  assert.deepEqual(config.upstreams, {});
  assert.match(config.sourceFile, /project\.yaml$/);
  assert.deepEqual(config.files, [config.sourceFile]);
});

test('units become numbers and policy defaults are filled in', async () => {
  const { config, diagnostics } = await load({
    'project.yaml': `${HEADER}server:\n  bodyLimit: 512kb\n  shutdownGracePeriod: 2s\nbus:\n  topics:\n    events: { partitions: 3, retention: 7d, retentionBytes: 1gb }\npolicies:\n  timeouts: { fast: 250ms }\n  retries: { again: { attempts: 5, base: 50ms } }\n  circuitBreakers: { cb: { failureRate: 25% } }\n  rateLimits: { rl: { requests: 10, per: 1m } }\n  bulkheads: { bh: { maxConcurrent: 4 } }\nupstreams:\n  legacy: { url: "http://legacy.internal", policies: [fast, cb] }\n`,
  });
  assert.deepEqual(diagnostics, []);
  assert.ok(config);
  assert.equal(config.server.bodyLimit, 524_288);
  assert.equal(config.server.shutdownGracePeriod, 2000);
  assert.deepEqual(config.bus.topics.events, { partitions: 3, retentionMs: 604_800_000, retentionBytes: 1024 ** 3 });
  assert.deepEqual(config.policies.timeouts, { fast: 250 });
  assert.deepEqual(config.policies.retries.again, { attempts: 5, backoff: 'exponential', base: 50, max: 10_000, methods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'], budget: 20 });
  assert.deepEqual(config.policies.circuitBreakers.cb, { failureRate: 25, minRequests: 20, window: 10_000, openFor: 30_000, halfOpenRequests: 1 });
  assert.deepEqual(config.policies.rateLimits.rl, { requests: 10, per: 60_000, key: 'client' });
  assert.deepEqual(config.policies.bulkheads.bh, { maxConcurrent: 4 });
  assert.deepEqual(config.upstreams.legacy, { url: 'http://legacy.internal', policies: ['fast', 'cb'] });
});

test('a whole-value ${PORT:-8080} becomes a number; inside a string it stays text', async () => {
  const files = { 'project.yaml': `${HEADER}server:\n  port: \${PORT:-8080}\n  trustIdentityHeaders: \${TRUST:-false}\n  userIdHeader: "\${PORT:-8080}"\n` };
  const byDefault = await load(files);
  assert.equal(byDefault.config?.server.port, 8080);
  assert.equal(byDefault.config?.server.trustIdentityHeaders, false);
  assert.equal(byDefault.config?.server.userIdHeader, '8080', 'the schema wants a string there, so it stays one');
  const fromEnv = await load(files, { env: { PORT: '9123', TRUST: 'true' } });
  assert.equal(fromEnv.config?.server.port, 9123);
  assert.equal(fromEnv.config?.server.trustIdentityHeaders, true);
  const bad = await load(files, { env: { PORT: 'http' } });
  assert.deepEqual(lines(bad), [
    'project.yaml:4:9 error MR_CONFIG_SCHEMA server.port: expected a port, got the string "http"; a port is an integer from 0 to 65535',
  ]);
});

test('a missing variable is reported once, not again as a schema error on the empty value', async () => {
  const result = await load({ 'project.yaml': `${HEADER}upstreams:\n  pay: { url: "\${PAY_URL:?the payments base URL}" }\n` });
  assert.deepEqual(lines(result), ['project.yaml:4:15 error MR_CONFIG_ENV_MISSING upstreams.pay.url: environment variable PAY_URL is not set: the payments base URL']);
});

test('the config is deeply frozen', async () => {
  const { config } = await load({ 'project.yaml': `${HEADER}policies:\n  timeouts: { fast: 1s }\n` });
  assert.ok(config);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.policies.timeouts) && Object.isFrozen(config.databases.default));
  assert.throws(() => {
    (config.policies.timeouts as Record<string, number>).fast = 5;
  }, TypeError);
});

test('every problem is collected, sorted by position', async () => {
  const result = await load({ 'project.yaml': `version: 1\nname: shop\nserver:\n  prot: 1\n  bodyLimit: huge\nbuss: {}\n` });
  assert.deepEqual(result.diagnostics.map((d) => `${d.position?.line}:${d.position?.col} ${d.code}`), [
    '4:3 MR_CONFIG_UNKNOWN_KEY',
    '5:14 MR_CONFIG_INVALID_VALUE',
    '6:1 MR_CONFIG_UNKNOWN_KEY',
  ]);
  assert.equal(result.config, undefined);
});

test('a failing rule becomes an MR_INTERNAL diagnostic; loadProject never throws', async () => {
  const result = await load({ 'project.yaml': HEADER }, { rules: [{ name: 'broken', check: () => { throw new Error('boom'); } }] });
  assert.equal(result.config, undefined);
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.message]), [['MR_INTERNAL', 'rule broken failed: boom']]);
});

test('rules see the normalized config and report at positions of the merged descriptor', async () => {
  const result = await load(
    { 'project.yaml': `${HEADER}upstreams:\n  a: { url: "http://a.internal" }\n` },
    { rules: [{ name: 'demo', check: (ctx) => [ctx.report({ code: 'MR_CONFIG_INVALID_VALUE', path: ['upstreams', 'a', 'url'], message: 'demo', severity: 'warning' })] }] },
  );
  assert.ok(result.config, 'warnings do not block the config');
  assert.deepEqual(lines(result), ['project.yaml:4:13 warning MR_CONFIG_INVALID_VALUE upstreams.a.url: demo']);
});

test('schema problems and reference problems are listed together in one run', async () => {
  const result = await load({
    'project.yaml': `${HEADER}server: { port: http }\npolicies:\n  timeouts: { fast: 1s, slow: later }\nupstreams:\n  pay: { url: "http://pay", policies: [fats] }\n  legacy: { url: "ftp://legacy", policies: [slow] }\n`,
  });
  assert.deepEqual(result.diagnostics.map((d) => `${d.code} ${d.path}`), [
    'MR_CONFIG_SCHEMA server.port',
    'MR_CONFIG_INVALID_VALUE policies.timeouts.slow',
    'MR_CONFIG_UNKNOWN_REF upstreams.pay.policies[0]',
    'MR_CONFIG_SCHEMA upstreams.legacy.url',
  ]);
});

test('on a descriptor that failed the schema, a rule that throws is not reported as a bug', async () => {
  const result = await load({ 'project.yaml': `${HEADER}server: { port: http }\n` }, { rules: [{ name: 'fragile', check: () => { throw new TypeError('x is undefined'); } }] });
  assert.deepEqual(result.diagnostics.map((d) => d.code), ['MR_CONFIG_SCHEMA']);
});

test('relative embedded paths start from the file that declares them', async () => {
  await withFiles(
    { 'project.yaml': `${HEADER}include: [conf/storage.yaml]\nbus: { path: ./log }\n`, 'conf/storage.yaml': 'databases:\n  orders: { path: ../data/orders }\n  abs: { path: /var/lib/mia/abs }\n' },
    async (dir) => {
      const { config, diagnostics } = await loadProject('project.yaml', { env: {}, cwd: dir });
      assert.deepEqual(diagnostics, []);
      assert.deepEqual(config?.databases.orders, { kind: 'embedded', path: join(dir, 'data/orders') });
      assert.deepEqual(config?.databases.abs, { kind: 'embedded', path: '/var/lib/mia/abs' });
      assert.equal(config?.bus.kind === 'embedded' ? config.bus.path : undefined, join(dir, 'log'));
    },
  );
});

test('keys the defaults phase does not convert reach the config as validated', async () => {
  const { config, diagnostics } = await load({ 'project.yaml': `${HEADER}upstreams:\n  legacy: { url: "http://legacy", forwardCredentials: true }\n` });
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(config?.upstreams.legacy, { url: 'http://legacy', policies: [], forwardCredentials: true });
});
