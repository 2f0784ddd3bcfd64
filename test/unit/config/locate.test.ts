import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocator, locateIn } from '../../../src/config/locate.js';
import { parseYamlText } from '../../../src/config/read-yaml.js';

const text = [
  'defaults: &d',           // 1
  '  retries: 3',            // 2
  'server:',                 // 3
  '  port: 8080',            // 4
  '  cors:',                 // 5
  '    origins:',            // 6
  '      - https://a',       // 7
  '      - https://b',       // 8
  'empty:',                  // 9
  'copy: *d',                // 10
  '',
].join('\n');
const source = parseYamlText(text, '/p/p.yaml', 'p.yaml').source!;

test('values, keys and list items are located at line and column', () => {
  assert.deepEqual(locateIn(source, ['server', 'port']), { file: 'p.yaml', line: 4, col: 9 });
  assert.deepEqual(locateIn(source, ['server', 'port'], 'key'), { file: 'p.yaml', line: 4, col: 3 });
  assert.deepEqual(locateIn(source, ['server', 'cors', 'origins', 1]), { file: 'p.yaml', line: 8, col: 9 });
});

test('an empty value points at its key; a missing path at its nearest written ancestor', () => {
  assert.deepEqual(locateIn(source, ['empty']), { file: 'p.yaml', line: 9, col: 1 });
  assert.deepEqual(locateIn(source, ['server', 'host']), { file: 'p.yaml', line: 4, col: 3 }, 'the value of server, which begins with "port"');
  assert.deepEqual(locateIn(source, []), { file: 'p.yaml', line: 1, col: 1 });
});

test('paths through an alias lead into the anchored value', () => {
  assert.deepEqual(locateIn(source, ['copy', 'retries']), { file: 'p.yaml', line: 2, col: 12 });
});

test('without recorded origins, the locator reads the root file', () => {
  const locator = createLocator(source, new Map());
  assert.equal(locator.sourceOf(['server']).display, 'p.yaml');
  assert.deepEqual(locator.position(['server', 'cors'], 'key'), { file: 'p.yaml', line: 5, col: 3 });
});
