import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCodeHooks, findCodeHooks } from '../../../src/config/code-hooks.js';
import { createLocator } from '../../../src/config/locate.js';
import { parseYamlText } from '../../../src/config/read-yaml.js';
import { formatDiagnostic } from '../../../src/cli/format/text.js';

const fixtures = new URL('./fixtures/hooks/', import.meta.url).pathname;

/** Checks the hooks of a descriptor written in the fixtures folder (so relative paths resolve there). */
async function check(text: string): Promise<string[]> {
  const source = parseYamlText(text, `${fixtures}project.yaml`, 'project.yaml').source!;
  const diagnostics = await checkCodeHooks(source.value, createLocator(source, new Map()));
  return diagnostics.map(formatDiagnostic);
}

test('findCodeHooks finds { module, export } objects anywhere, default export "default"', () => {
  assert.deepEqual(findCodeHooks({ a: [{ cast: { module: './x.js', export: 'f' } }], b: { module: './y.js' }, c: { module: 3 } }), [
    { path: ['a', 0, 'cast'], module: './x.js', export: 'f' },
    { path: ['b'], module: './y.js', export: 'default' },
  ]);
});

test('existing modules with function exports pass', async () => {
  assert.deepEqual(await check('a: { module: ./casts.mjs, export: toNumber }\nb: { module: ./casts.mjs }\n'), []);
});

test('a missing module, a missing export, a non-function export and a module that throws are each reported', async () => {
  assert.deepEqual(
    await check('a: { module: ./nowhere.mjs }\nb: { module: ./casts.mjs, export: toString }\nc: { module: ./casts.mjs, export: version }\nd: { module: ./broken.mjs }\n'),
    [
      'project.yaml:1:14 error MR_CONFIG_CODE_HOOK a.module: module "./nowhere.mjs" does not exist; paths are relative to project.yaml',
      'project.yaml:2:35 error MR_CONFIG_CODE_HOOK b.export: module "./casts.mjs" has no export "toString"; functions it exports: default, toNumber',
      'project.yaml:3:35 error MR_CONFIG_CODE_HOOK c.export: export "version" of "./casts.mjs" is not a function; functions it exports: default, toNumber',
      'project.yaml:4:14 error MR_CONFIG_CODE_HOOK d.module: module "./broken.mjs" cannot be loaded: cannot start without a license key',
    ],
  );
});

test('a package name that cannot be resolved is reported', async () => {
  assert.deepEqual(await check('a: { module: no-such-package-mia-run }\n'), [
    'project.yaml:1:14 error MR_CONFIG_CODE_HOOK a.module: module "no-such-package-mia-run" does not exist; paths are relative to project.yaml',
  ]);
});
