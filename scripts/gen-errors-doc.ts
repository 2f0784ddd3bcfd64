// Writes docs/errors.md from src/errors.ts (the registry is the source; this file only renders it).
// `--check` exits 1 when docs/errors.md differs from what the registry gives (used by tests and CI).
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../src/errors.js';

const AREAS: readonly [prefix: string, title: string][] = [
  ['MR_CONFIG_', 'Descriptor (`mia-run validate`, startup)'],
  ['MR_CLI_', 'Command line'],
  ['MR_INTERNAL', 'Internal'],
  ['MR_RUNTIME_', 'Runtime'],
  ['MR_HTTP_', 'HTTP server'],
  ['MR_STORE_', 'Document store'],
  ['MR_BUS_', 'Event bus'],
  ['MR_GW_', 'Gateway'],
  ['MR_CRUD_', 'CRUD'],
  ['MR_SAGA_', 'Sagas'],
  ['MR_FD_', 'Fast Data (projections, single views)'],
  ['MR_ES_', 'Event sourcing'],
];

export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error mia-run reports carries one of these stable codes: in HTTP bodies',
    '(`{ statusCode, code, error, message }`), in `mia-run validate` diagnostics and in logs.',
    'Match on the code, never on the message text. "Retriable" says whether the same operation may',
    'succeed later; retries, circuit breakers and consumers read it.',
    '',
    'This page is generated from `src/errors.ts` by `npm run docs`; do not edit it by hand.',
    '',
  ];
  const codes = Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[];
  for (const [prefix, title] of AREAS) {
    const inArea = codes.filter((c) => c.startsWith(prefix));
    if (inArea.length === 0) continue;
    lines.push(`## ${title}`, '', '| Code | HTTP | Retriable | Meaning |', '| --- | --- | --- | --- |');
    for (const code of inArea) {
      const spec: { statusCode?: number; retriable: boolean; description: string } = ERROR_CODES[code];
      lines.push(`| \`${code}\` | ${spec.statusCode ?? '-'} | ${spec.retriable ? 'yes' : 'no'} | ${spec.description.replace(/\|/g, '\\|')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

const target = new URL('../docs/errors.md', import.meta.url);
if (import.meta.url === `file://${process.argv[1]}`) {
  const text = renderErrorsDoc();
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== text) {
      console.error('docs/errors.md is out of date: run npm run docs');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
  }
}
