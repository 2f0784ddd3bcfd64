/**
 * Text diagnostics, one per line: `file:line:col severity CODE json.path: message; hint`
 * (a diagnostic with no file position starts with `mia-run:`; the root path prints as `(root)`).
 */
import type { Diagnostic } from '../../config/types.js';
import type { MiaRunError } from '../../errors.js';
import { countBySeverity, type FileReport } from './report.js';

// One problem, one line: tools split the output on newlines.
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ');

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position === undefined ? 'mia-run:' : `${d.position.file}:${d.position.line}:${d.position.col}`;
  const hint = d.hint === undefined ? '' : `; ${oneLine(d.hint)}`;
  return `${where} ${d.severity} ${d.code} ${d.path === '' ? '(root)' : d.path}: ${oneLine(d.message)}${hint}`;
}

/** A user-fixable error that stopped a command: `mia-run: error CODE: message; hint`. */
export function formatError(err: MiaRunError): string {
  return `mia-run: error ${err.code}: ${oneLine(err.message)}${err.hint === undefined ? '' : `; ${oneLine(err.hint)}`}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Every diagnostic, then one summary line per file. */
export function formatText(reports: readonly FileReport[]): string {
  const lines: string[] = [];
  for (const report of reports) lines.push(...report.diagnostics.map(formatDiagnostic));
  for (const report of reports) {
    const { errors, warnings } = countBySeverity([report]);
    lines.push(errors + warnings === 0 ? `${report.file}: valid` : `${report.file}: ${errors === 0 ? 'valid' : 'invalid'}, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  }
  return `${lines.join('\n')}\n`;
}
