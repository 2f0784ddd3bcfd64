/**
 * The action of `mia-run run <file>` (also `mia-run <file>`): load the descriptor, start the runtime, serve until SIGTERM or
 * SIGINT, then stop gracefully. Resolves with the exit code; src/cli/main.ts sets it.
 *
 * Flags: `--port` overrides `server.port` (and `PORT` works through `${PORT:-8080}` in the descriptor);
 * `--data-dir` is where embedded databases and the embedded bus keep their files, default `.data` in the
 * current directory; `--role a,b` runs a subset of capabilities; `--log-level` is a pino level (default info).
 */
import type { Diagnostic } from '../../config/types.js';
import { loadProject } from '../../config/load-project.js';
import type { Action, CliIo } from '../command.js';
import { formatDiagnostic, formatError } from '../format/text.js';
import { isMiaRunError } from '../../errors.js';
import { createRuntime, type Runtime } from '../../runtime/create-runtime.js';
import { createLogger } from '../../runtime/logger.js';
import { parseRoles } from '../../runtime/roles.js';
import { installSignalHandlers } from '../../runtime/signals.js';

export interface RunOptions {
  readonly port?: number;
  readonly dataDir?: string;
  readonly role?: string;
  readonly logLevel?: string;
}

function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): boolean {
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  return diagnostics.some((d) => d.severity === 'error');
}

/** One line a human reads: where it listens and what is up. */
function describe(runtime: Runtime, name: string, url: string, backofficeUrl: string | undefined): string {
  const status = runtime.status();
  const backends = status.backends.map((b) => `${b.name} ${b.kind}`).join(', ');
  const capabilities = status.capabilities.length === 0 ? 'none yet' : status.capabilities.join(', ');
  const backoffice = backofficeUrl === undefined ? '' : `, backoffice on ${backofficeUrl}`;
  return `mia-run: ${name} listening on ${url}${backoffice} (backends: ${backends}; capabilities: ${capabilities})`;
}

async function prettyStream(): Promise<import('pino').DestinationStream | undefined> {
  if (!process.stdout.isTTY) return undefined;
  const { default: pretty } = await import('pino-pretty');
  return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' });
}

/** The `run` action: resolves with the exit code once the runtime has stopped. */
export const runAction: Action = ({ args, options, io }) => runCommand(String(args[0]), options as RunOptions, io);

export async function runCommand(file: string, options: RunOptions, io: CliIo): Promise<number> {
  const roles = parseRoles(options.role);
  if (printDiagnostics(io, roles.diagnostics) || roles.roles === undefined) return 1;

  const loaded = await loadProject(file, { env: io.env, cwd: io.cwd });
  if (printDiagnostics(io, loaded.diagnostics) || loaded.config === undefined) {
    // MR_INTERNAL: the checker failed (a bug), which main reports with exit 2 like any internal error.
    return loaded.diagnostics.some((d) => d.code === 'MR_INTERNAL') ? 2 : 1;
  }
  const config = loaded.config;

  const destination = await prettyStream();
  const logger = createLogger(destination === undefined ? { level: options.logLevel ?? 'info' } : { level: options.logLevel ?? 'info', destination });
  let runtime: Runtime;
  try {
    runtime = createRuntime(config, {
      ...(options.port === undefined ? {} : { port: options.port }),
      dataDir: options.dataDir ?? '.data',
      roles: roles.roles,
      logger,
    });
  } catch (err) {
    return reportStartError(io, err);
  }

  // Handlers go in before start so that a signal during start-up still stops gracefully (after start settles).
  const starting = runtime.start();
  let uninstall = (): void => undefined;
  const stopped = new Promise<unknown>((resolve) => {
    uninstall = installSignalHandlers(
      async (reason) => {
        await starting.catch(() => undefined);
        await runtime.stop(reason);
      },
      { logger, onStopped: resolve },
    );
  });
  let started: { url: string; backofficeUrl?: string };
  try {
    started = await starting;
  } catch (err) {
    uninstall();
    return reportStartError(io, err);
  }

  io.stdout(`${describe(runtime, config.name, started.url, started.backofficeUrl)}\n`);
  const outcome = await stopped;
  uninstall();
  return outcome === undefined ? 0 : 1;
}

function reportStartError(io: CliIo, err: unknown): number {
  if (!isMiaRunError(err)) throw err;
  io.stderr(`${formatError(err)}\n`);
  return 1;
}
