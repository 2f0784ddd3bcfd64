import type { Diagnostic } from '../../config/types.js';

/** The outcome of checking one descriptor, as the formatters print it. */
export interface FileReport {
  /** The path as the user gave it. */
  readonly file: string;
  readonly diagnostics: readonly Diagnostic[];
}

export function countBySeverity(reports: readonly FileReport[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const r of reports) {
    for (const d of r.diagnostics) {
      if (d.severity === 'error') errors++;
      else warnings++;
    }
  }
  return { errors, warnings };
}
