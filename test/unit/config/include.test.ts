import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveIncludes, type ReadFile } from '../../../src/config/include.js';
import { createLocator } from '../../../src/config/locate.js';
import { parseYamlText } from '../../../src/config/read-yaml.js';
import { diagnostic } from '../../../src/config/diagnostics.js';
import { HEADER, lines, load } from './files.js';

/** resolveIncludes over in-memory files under /p. */
async function merge(files: Readonly<Record<string, string>>) {
  const read: ReadFile = async (file, display, at) => {
    const text = files[file.slice('/p/'.length)];
    if (text === undefined) return { diagnostics: [diagnostic({ code: 'MR_CONFIG_READ', message: `${display} does not exist`, position: at })] };
    return parseYamlText(text, file, display);
  };
  const root = parseYamlText(files['project.yaml']!, '/p/project.yaml', 'project.yaml').source!;
  const result = await resolveIncludes(root, read, '/p');
  return { ...result, locator: createLocator(root, result.origins) };
}

test('lists are concatenated and named entries merged; positions follow each entry to its file', async () => {
  const { value, diagnostics, locator, sources } = await merge({
    'project.yaml': `${HEADER}include: [teams/a.yaml]\nendpoints:\n  - { basePath: /one }\npolicies:\n  timeouts: { fast: 1s }\n`,
    'teams/a.yaml': `# team a\nendpoints:\n  - { basePath: /two }\n  - { basePath: /three }\npolicies:\n  timeouts: { slow: 30s }\n  retries: { again: {} }\n`,
  });
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(sources.map((s) => s.display), ['project.yaml', 'teams/a.yaml']);
  assert.deepEqual(value.endpoints, [{ basePath: '/one' }, { basePath: '/two' }, { basePath: '/three' }]);
  assert.deepEqual(value.policies, { timeouts: { fast: '1s', slow: '30s' }, retries: { again: {} } });
  assert.deepEqual(locator.position(['endpoints', 0, 'basePath']), { file: 'project.yaml', line: 5, col: 17 });
  assert.deepEqual(locator.position(['endpoints', 2, 'basePath']), { file: 'teams/a.yaml', line: 4, col: 17 });
  assert.deepEqual(locator.position(['policies', 'timeouts', 'slow']), { file: 'teams/a.yaml', line: 6, col: 21 });
  assert.deepEqual(locator.position(['policies', 'retries', 'again'], 'key'), { file: 'teams/a.yaml', line: 7, col: 14 });
  assert.deepEqual(locator.position(['policies', 'timeouts', 'fast']), { file: 'project.yaml', line: 7, col: 21 });
});

test('includes are relative to the including file and may nest; a file included twice is merged once', async () => {
  const { value, diagnostics } = await merge({
    'project.yaml': `${HEADER}include: [parts/a.yaml, parts/b.yaml]\n`,
    'parts/a.yaml': 'include: [b.yaml]\nupstreams: { a: { url: "http://a" } }\n',
    'parts/b.yaml': 'upstreams: { b: { url: "http://b" } }\n',
  });
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(Object.keys(value.upstreams as object), ['a', 'b']);
  assert.deepEqual(value.include, ['parts/a.yaml', 'parts/b.yaml'], "the root's include list is kept for the schema");
});

test('a cycle is reported at the include that closes it', async () => {
  const { diagnostics } = await merge({
    'project.yaml': `${HEADER}include: [a.yaml]\n`,
    'a.yaml': 'include: [b.yaml]\n',
    'b.yaml': 'include: [a.yaml, project.yaml]\n',
  });
  assert.deepEqual(diagnostics.map((d) => `${d.position?.file}:${d.position?.line}:${d.position?.col} ${d.message}`), [
    'b.yaml:1:11 include cycle: a.yaml -> b.yaml -> a.yaml',
    'b.yaml:1:19 include cycle: project.yaml -> a.yaml -> b.yaml -> project.yaml',
  ]);
});

test('redefinitions point at the second file and name the first', async () => {
  const { diagnostics } = await merge({
    'project.yaml': `${HEADER}include: [x.yaml]\nbus: { kind: embedded }\n`,
    'x.yaml': 'version: 1\nbus: { kind: kafka, topics: { t: {} } }\n',
  });
  assert.deepEqual(diagnostics.map((d) => `${d.position?.file}:${d.position?.line}:${d.position?.col} ${d.path}: ${d.message}`), [
    'x.yaml:1:1 version: "version" is already defined (first defined at project.yaml:1:1)',
    'x.yaml:2:8 bus.kind: "bus.kind" is already defined (first defined at project.yaml:4:8)',
  ]);
});

test('through loadProject: a missing include is reported where it is written, and nothing else is guessed', async () => {
  const result = await load({ 'project.yaml': `${HEADER}include:\n  - nowhere.yaml\n` });
  assert.deepEqual(lines(result), [
    'project.yaml:4:5 error MR_CONFIG_READ include[0]: nowhere.yaml does not exist; check the path (relative paths start from the current directory, or from the including file for include:)',
  ]);
});

test('through loadProject: a schema error inside an included file points into that file', async () => {
  const result = await load({
    'project.yaml': `${HEADER}include: [net/upstreams.yaml]\n`,
    'net/upstreams.yaml': 'upstreams:\n  legacy:\n    url: http://legacy\n    polcies: []\n',
  });
  assert.equal(result.diagnostics.length, 1);
  assert.match(lines(result)[0]!, /^net\/upstreams\.yaml:4:5 error MR_CONFIG_UNKNOWN_KEY upstreams\.legacy\.polcies: "polcies" is not a known key; did you mean "policies"\?/);
  assert.equal(result.config, undefined);
});

test('through loadProject: config.files lists every file read, root first', async () => {
  const result = await load({ 'project.yaml': `${HEADER}include: [more.yaml]\n`, 'more.yaml': 'upstreams: {}\n' });
  assert.deepEqual(result.config?.files.map((f) => f.split('/').pop()), ['project.yaml', 'more.yaml']);
});

test('an included file with a malformed include list is reported in that file', async () => {
  const { diagnostics } = await merge({
    'project.yaml': `${HEADER}include: [a.yaml, b.yaml]\n`,
    'a.yaml': 'include: c.yaml\n',
    'b.yaml': 'include: [3]\n',
  });
  assert.deepEqual(diagnostics.map((d) => `${d.position?.file}:${d.position?.line}:${d.position?.col} ${d.path}: ${d.message}`), [
    'a.yaml:1:10 include: include must be a list of file paths',
    'b.yaml:1:11 include[0]: an include entry must be a file path',
  ]);
});

test('include paths use ${VAR} interpolation; a missing variable is reported at the entry', async () => {
  const files = {
    'project.yaml': `${HEADER}include: ["env/\${STAGE:-dev}.yaml", "\${EXTRA}"]\n`,
    'env/dev.yaml': 'upstreams: { a: { url: "http://dev" } }\n',
    'env/prod.yaml': 'upstreams: { a: { url: "http://prod" } }\n',
    'more.yaml': 'upstreams: { b: { url: "http://b" } }\n',
  };
  const missing = await load(files);
  assert.deepEqual(lines(missing), [
    'project.yaml:3:37 error MR_CONFIG_ENV_MISSING include[1]: environment variable EXTRA is not set; set EXTRA, or give a default with ${EXTRA:-value}',
  ]);
  const prod = await load(files, { env: { STAGE: 'prod', EXTRA: 'more.yaml' } });
  assert.deepEqual(prod.diagnostics, []);
  assert.deepEqual(prod.config?.upstreams, { a: { url: 'http://prod', policies: [] }, b: { url: 'http://b', policies: [] } });
});
