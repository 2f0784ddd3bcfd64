/**
 * How a CLI command is written (STYLE §12): a module under `src/cli/commands/` exports a `CliCommand`
 * whose `declare` adds the command's name, arguments, options and help to the program, and binds an
 * action that is imported only when the command runs (so `mia-run validate` never loads the runtime).
 *
 * @example
 * export const schemaCommand: CliCommand = {
 *   declare: (program, bind) => bind(program.command('schema').description('print the descriptor JSON Schema'),
 *     () => import('./schema-action.js').then((m) => m.schemaAction)),
 * };
 */
import type { Command } from 'commander';

/** Where a command writes; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Working directory for relative paths. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface ActionContext {
  /** Declared arguments in order (variadic ones as arrays), as commander parsed them. */
  readonly args: readonly unknown[];
  /** Parsed options of the command. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly io: CliIo;
}

/** Runs a command and resolves with its exit code (0 ok, 1 invalid input or failed check). */
export type Action = (ctx: ActionContext) => Promise<number>;

/** Attaches a lazily imported action to a declared command and returns the command. */
export type BindAction = (command: Command, load: () => Promise<Action>) => Command;

export interface CliCommand {
  readonly declare: (program: Command, bind: BindAction) => void;
}
