/**
 * The one commander program. Each command lives in `src/cli/commands/<name>.ts` (declaration) with its
 * action in a lazily imported module; registering a command is one entry in `COMMANDS`.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../runtime/version.js';
import type { Action, CliCommand, CliIo } from './command.js';
import { aggregatesCommand } from './commands/aggregates.js';
import { fastDataCommand } from './commands/fast-data.js';
import { runCommand } from './commands/run.js';
import { sagaCommand } from './commands/saga.js';
import { schemaCommand } from './commands/schema.js';
import { stranglerCommand } from './commands/strangler.js';
import { topicsCommand } from './commands/topics.js';
import { validateCommand } from './commands/validate.js';

export const COMMANDS: readonly CliCommand[] = [
  runCommand,
  validateCommand,
  schemaCommand,
  sagaCommand,
  stranglerCommand,
  topicsCommand,
  aggregatesCommand,
  fastDataCommand,
];

export interface BuiltProgram {
  readonly program: Command;
  /** Exit code set by the action that ran (undefined when none ran, e.g. `--help`). */
  readonly exitCode: () => number | undefined;
}

/** Builds the program; output goes to `io`, and commander never exits the process. */
export function buildProgram(io: CliIo): BuiltProgram {
  let exitCode: number | undefined;
  const program = new Command('mia-run')
    .description('Run a whole microservice platform from one project descriptor (project.yaml).')
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run "mia-run --help" or "mia-run <command> --help" for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const bind = (command: Command, load: () => Promise<Action>): Command =>
    command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).action(async (...received: unknown[]) => {
      // commander passes the declared arguments, then the options object, then the command itself.
      const cmd = received[received.length - 1] as Command;
      const action = await load();
      exitCode = await action({ args: received.slice(0, -2), options: cmd.opts(), io });
    });

  for (const command of COMMANDS) command.declare(program, bind);
  program.addHelpText(
    'after',
    [
      '',
      'Examples:',
      '  $ mia-run examples/shop/project.yaml             start the shop example (same as "mia-run run ...")',
      '  $ mia-run validate --format github project.yaml  check a descriptor in CI, as workflow annotations',
      '  $ mia-run schema > project.schema.json           the JSON Schema, for editors',
    ].join('\n'),
  );
  return { program, exitCode: () => exitCode };
}

/** Names and aliases of the top-level commands (for "did you mean" on a mistyped command). */
export function commandNames(program: Command): string[] {
  return program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
}

export { CommanderError };
