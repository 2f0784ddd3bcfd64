/** JSON output for tools: one document with every file and diagnostic (positions flattened). */
import { countBySeverity, type FileReport } from './report.js';

export function formatJson(reports: readonly FileReport[]): string {
  const { errors, warnings } = countBySeverity(reports);
  const files = reports.map((r) => ({
    file: r.file,
    valid: countBySeverity([r]).errors === 0,
    diagnostics: r.diagnostics.map((d) => ({
      severity: d.severity,
      code: d.code,
      path: d.path,
      message: d.message,
      ...(d.hint === undefined ? {} : { hint: d.hint }),
      ...(d.position === undefined ? {} : { file: d.position.file, line: d.position.line, col: d.position.col }),
    })),
  }));
  return `${JSON.stringify({ valid: errors === 0, errors, warnings, files }, null, 2)}\n`;
}
