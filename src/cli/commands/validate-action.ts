import { loadProject } from '../../config/load-project.js';
import type { Action } from '../command.js';
import { formatReports, type FileReport, type FormatName } from '../format/index.js';

/** Loads each descriptor through the same pipeline as `run`, prints every problem, exit 1 if any error. */
export const validateAction: Action = async ({ args, options, io }) => {
  const files = (args[0] as string[] | undefined) ?? [];
  const reports: FileReport[] = [];
  for (const file of files) {
    const { diagnostics } = await loadProject(file, { env: io.env, cwd: io.cwd });
    reports.push({ file, diagnostics });
  }
  const output = formatReports(reports, (options.format as FormatName | undefined) ?? 'text');
  if (output !== '') io.stdout(output);
  return reports.some((r) => r.diagnostics.some((d) => d.severity === 'error')) ? 1 : 0;
};
