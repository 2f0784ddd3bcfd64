import { loadProject } from '../../config/load-project.js';
import type { Action } from '../command.js';
import { formatReports, type FileReport, type FormatName } from '../format/index.js';

/**
 * Loads each descriptor through the same pipeline as `run` and prints every problem: exit 0 when all are
 * valid, 1 when any has an error, 2 when the checker itself failed.
 */
export const validateAction: Action = async ({ args, options, io }) => {
  const files = (args[0] as string[] | undefined) ?? [];
  const reports: FileReport[] = [];
  for (const file of files) {
    const { diagnostics } = await loadProject(file, { env: io.env, cwd: io.cwd });
    reports.push({ file, diagnostics });
  }
  const output = formatReports(reports, (options.format as FormatName | undefined) ?? 'text');
  if (output !== '') io.stdout(output);
  return exitCodeFor(reports);
};

/** 0 when every file is valid (warnings allowed), 1 when any has an error, 2 when the checker failed. */
export function exitCodeFor(reports: readonly FileReport[]): number {
  // MR_INTERNAL means the checker itself failed (a bug), not that the descriptor is wrong.
  if (reports.some((r) => r.diagnostics.some((d) => d.code === 'MR_INTERNAL'))) return 2;
  return reports.some((r) => r.diagnostics.some((d) => d.severity === 'error')) ? 1 : 0;
}
