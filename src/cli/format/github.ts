/**
 * GitHub Actions workflow commands (`::error file=...,line=...,col=...,title=CODE::message`), so problems
 * show as annotations on the pull request. Values are escaped as the workflow command syntax requires.
 */
import type { Diagnostic } from '../../config/types.js';
import type { FileReport } from './report.js';

const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function annotation(d: Diagnostic): string {
  const props = [
    ...(d.position === undefined ? [] : [`file=${escapeProperty(d.position.file)}`, `line=${d.position.line}`, `col=${d.position.col}`]),
    `title=${escapeProperty(d.code)}`,
  ];
  const text = `${d.path === '' ? '' : `${d.path}: `}${d.message}${d.hint === undefined ? '' : `; ${d.hint}`}`;
  return `::${d.severity} ${props.join(',')}::${escapeData(text)}`;
}

export function formatGithub(reports: readonly FileReport[]): string {
  const lines = reports.flatMap((r) => r.diagnostics.map(annotation));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
