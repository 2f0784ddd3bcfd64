/**
 * `mia-run strangler report <project.yaml> [--url http://host:port] [--format text|json]`: per strangler
 * route, its mode, share of traffic sent to the new target, shadow match rate and sample diffs. The
 * numbers live in the running server (shadow comparisons happen there), so the command reads its
 * `/-/strangler`; the descriptor says which routes exist and where the server listens by default.
 * Exit 1 when the descriptor is invalid or the server cannot be reached (the declared routes are still
 * printed).
 */
import type { Action, CliCommand } from '../command.js';

interface RouteReport {
  path: string;
  mode: string;
  weight?: number;
  requests?: number;
  newShare?: number | null;
  shadow?: { compared: number; matches: number; mismatches: number; errors: number; matchRate: number | null; samples: { method: string; url: string; differences: { path: string; legacy: unknown; candidate: unknown }[] }[] };
}

interface StranglerReport {
  basePath: string;
  legacy: string;
  legacyRequests?: number;
  routes: RouteReport[];
}

const percent = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : `${(n * 100).toFixed(1)}%`);
const short = (v: unknown): string => {
  const text = JSON.stringify(v) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** The report as a person reads it. */
export function formatStranglerReport(reports: readonly StranglerReport[]): string {
  const lines: string[] = [];
  for (const s of reports) {
    lines.push(`strangler ${s.basePath} (legacy: ${s.legacy}${s.legacyRequests === undefined ? '' : `, ${s.legacyRequests} unclaimed requests`})`);
    for (const r of s.routes) {
      const mode = r.mode === 'split' && r.weight !== undefined ? `split ${r.weight}%` : r.mode;
      let line = `  ${r.path.padEnd(24)} ${mode.padEnd(10)}`;
      if (r.requests !== undefined) line += ` requests ${r.requests}, to new ${percent(r.newShare)}`;
      if (r.shadow) line += `, shadow match ${percent(r.shadow.matchRate)} (${r.shadow.matches}/${r.shadow.compared}, ${r.shadow.errors} errors)`;
      lines.push(line);
      for (const sample of r.shadow?.samples ?? []) {
        const diffs = sample.differences.map((d) => `${d.path}: legacy ${short(d.legacy)}, new ${short(d.candidate)}`).join('; ');
        lines.push(`      ${sample.method} ${sample.url}: ${diffs}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const reportAction: Action = async ({ args, options, io }) => {
  const [file] = args as [string];
  const [{ loadProject }, { formatReports }] = await Promise.all([import('../../config/load-project.js'), import('../format/index.js')]);
  const { config, diagnostics } = await loadProject(file, { env: io.env, cwd: io.cwd });
  if (config === undefined) {
    io.stderr(formatReports([{ file, diagnostics }], 'text'));
    return 1;
  }
  const declared: StranglerReport[] = config.endpoints
    .filter((e) => e.strangler !== undefined)
    .map((e) => ({ basePath: e.basePath, legacy: e.strangler!.legacy, routes: e.strangler!.routes.map((r) => ({ path: r.path, mode: r.mode })) }));
  if (declared.length === 0) {
    io.stderr(`mia-run: ${file} declares no strangler endpoint\n`);
    return 1;
  }
  const url = String(options.url ?? `http://127.0.0.1:${config.server.port}`).replace(/\/+$/, '');
  let live: StranglerReport[] | undefined;
  try {
    const response = await fetch(`${url}/-/strangler`, { signal: AbortSignal.timeout(5_000) });
    if (response.ok) live = ((await response.json()) as { stranglers: StranglerReport[] }).stranglers;
  } catch {
    live = undefined;
  }
  const reports = live ?? declared;
  io.stdout(options.format === 'json' ? `${JSON.stringify({ live: live !== undefined, stranglers: reports }, null, 2)}\n` : formatStranglerReport(reports));
  if (live === undefined) {
    io.stderr(`mia-run: no live statistics: ${url}/-/strangler cannot be reached (is the project running? pass --url)\n`);
    return 1;
  }
  return 0;
};

export const stranglerCommand: CliCommand = {
  declare: (program, bind) => {
    const strangler = program.command('strangler').description('follow a strangler migration');
    bind(
      strangler
        .command('report')
        .description('per strangler route: mode, traffic share to the new target, shadow match rate, sample diffs (read from a running server)')
        .argument('<project>', 'project descriptor (project.yaml)')
        .option('--url <url>', 'base URL of the running server (default: http://127.0.0.1:<server.port>)')
        .option('--format <format>', 'text or json', 'text'),
      async () => reportAction,
    );
  },
};
