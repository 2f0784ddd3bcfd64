/** Picks the diagnostics formatter named by `--format`. */
import { formatGithub } from './github.js';
import { formatJson } from './json.js';
import type { FormatName } from './names.js';
import type { FileReport } from './report.js';
import { formatText } from './text.js';

export { FORMATS, type FormatName } from './names.js';
export type { FileReport } from './report.js';
export { formatDiagnostic } from './text.js';

const FORMATTERS: Readonly<Record<FormatName, (reports: readonly FileReport[]) => string>> = {
  text: formatText,
  json: formatJson,
  github: formatGithub,
};

export function formatReports(reports: readonly FileReport[], format: FormatName): string {
  return FORMATTERS[format](reports);
}
