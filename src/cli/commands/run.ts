/** `mia-run run <file>` (the default command: `mia-run <file>` is the same). */
import { InvalidArgumentError, Option } from 'commander';
import type { CliCommand } from '../command.js';

function port(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port (0-65535)`);
  return n;
}

export const runCommand: CliCommand = {
  declare: (program, bind) =>
    bind(
      program
        .command('run', { isDefault: true })
        .description('start the runtime for a descriptor (the default command: "mia-run <file>" is the same)')
        .argument('<file>', 'project descriptor, e.g. project.yaml')
        .addOption(new Option('--port <port>', 'override server.port (0 picks a free port)').argParser(port))
        .option('--data-dir <dir>', 'where embedded databases and the embedded bus keep their files', '.data')
        .option('--role <roles>', 'comma-separated capabilities to run in this process (gateway, crud, sagas, projections, aggregates)')
        .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
      () => import('./run-action.js').then((m) => m.runAction),
    ),
};
