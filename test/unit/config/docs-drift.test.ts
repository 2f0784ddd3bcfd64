// Generated docs must match their sources (STYLE §15): docs/descriptor.md from the schema, docs/errors.md
// from the error registry. Run `npm run docs` after changing either source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const root = new URL('../../../', import.meta.url).pathname;

function check(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

test('docs/descriptor.md is what scripts/gen-descriptor-docs.mjs renders from the schema (run npm run docs)', () => {
  const { status, stderr } = check(['scripts/gen-descriptor-docs.mjs', '--check']);
  assert.equal(status, 0, stderr);
});

test('docs/errors.md is what scripts/gen-errors-doc.ts renders from src/errors.ts (run npm run docs)', () => {
  const { status, stderr } = check(['--import', 'tsx', 'scripts/gen-errors-doc.ts', '--check']);
  assert.equal(status, 0, stderr);
});
